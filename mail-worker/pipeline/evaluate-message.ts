/**
 * The reply pipeline as a decision, writing nothing: parse → classify → authenticate → extract →
 * parse commands → check them against the plan. `twofold mail explain` prints this; the
 * processor acts on it. Every outcome carries one catalog code.
 */
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import type { ActivityEntry } from '../../site/core/plan/activity.ts';
import { applyCommands, type Change } from '../../site/core/plan/plan-edits.ts';
import type { PlanEdit } from '../../site/core/plan/plan-file.ts';
import { findTask, personByEmail, personById } from '../../site/core/plan/plan-model.ts';
import type { Person, Plan } from '../../site/core/plan/plan-types.ts';
import type { ReplyCommand, ReplyProblem } from '../../site/core/reply/reply-command.ts';
import { MAX_REPLY_CHARS, parseReply } from '../../site/core/reply/reply-grammar.ts';
import { tokenFromAddress, verifyReplyToken, type ReplyKeys, type ReplyTokenLookup } from '../../site/core/reply/reply-token.ts';
import type { StoredPlan } from '../../site/lib/plan-store-fs.ts';
import type { MailIdentity } from '../config/mail-identity.ts';
import { classifyMessage } from './classify-message.ts';
import { dmarcVerdict } from './dmarc.ts';
import { extractReplyText } from './extract-reply-text.ts';
import { messageKey, parseMessage, type InboundMessage, type ParseResult } from './parse-message.ts';

/** A Date header further than this from the receipt time is not trusted for "tomorrow". */
const MAX_CLOCK_SKEW_MS = 7 * 24 * 3_600_000;

export type VerdictKind = 'apply' | 'ignore' | 'reject' | 'fail';

export interface Evaluation {
  verdict: VerdictKind;
  reason: ErrorCode;
  /** What happened, in words, for logs and `mail explain`. */
  detail: string;
  /** The dedupe key (Message-ID, else a digest of the bytes). */
  key: string;
  message?: InboundMessage;
  plan?: string;
  /** The token's task, or `digest`. */
  task?: string;
  /** The From address. */
  sender?: string;
  /** The plan person acting (the sender, when authenticated). */
  actor?: Person;
  /** The person the reply token was issued to. */
  tokenPerson?: Person;
  text?: string;
  commands: ReplyCommand[];
  problems: ReplyProblem[];
  wantsHelp: boolean;
  /** For verdict apply: what would change. */
  edits: PlanEdit[];
  changes: Change[];
  activity: ActivityEntry[];
  /** True for an iTIP REPLY (accept/decline): recorded by the calendar code, never a command. */
  calendar?: boolean;
  /** The instant the reply counts as sent (its Date header, unless implausible): "tomorrow" and `done:` dates read from it. */
  sentAt?: Date;
}

export interface PlanDirectory {
  /** Candidates for a reply token's plan reference. */
  lookup: ReplyTokenLookup;
  get(slug: string): Promise<StoredPlan | undefined>;
}

export interface EvaluateDeps {
  identity: MailIdentity;
  plans: PlanDirectory;
  /** The reply-token key of a version, from the secret store. */
  replyKey(version: number): Promise<Uint8Array | undefined>;
  now: Date;
  dmarc?: { authservId: string; require: boolean };
  meta?: { receivedAt: Date; envelope?: { from?: string; to: readonly string[] } };
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export async function evaluateMessage(raw: Buffer, deps: EvaluateDeps): Promise<Evaluation> {
  return evaluateParsed(await parseMessage(raw, deps.meta?.envelope ? { envelope: deps.meta.envelope } : {}), deps);
}

/** The dedupe key of a parse result (failures are keyed by the digest of their bytes). */
export function parsedKey(parsed: ParseResult): string {
  return parsed.ok ? messageKey(parsed.message) : `digest:${parsed.digest}`;
}

export async function evaluateParsed(parsed: ParseResult, deps: EvaluateDeps): Promise<Evaluation> {
  const base = { commands: [], problems: [], wantsHelp: false, edits: [], changes: [], activity: [] };
  if (!parsed.ok) return { ...base, verdict: 'fail', reason: parsed.code, detail: parsed.message, key: parsedKey(parsed) };
  const message = parsed.message;
  const key = messageKey(message);
  const sender = message.from?.address;
  const out = (verdict: VerdictKind, reason: ErrorCode, detail: string, extra: Partial<Evaluation> = {}): Evaluation => ({
    ...base,
    verdict,
    reason,
    detail,
    key,
    message,
    ...(sender ? { sender } : {}),
    ...extra,
  });

  const classification = classifyMessage(message, { ownAddresses: [deps.identity.from.address] });
  if (classification.kind === 'ignore') return out('ignore', classification.code, classification.reason);
  if (classification.kind === 'calendar-reply') return out('apply', 'MAIL_CALENDAR_REPLY', 'an answer to a check-in invite: recorded as an RSVP, never as task commands', { calendar: true });

  // Authenticate: a valid token in a recipient address, and a sender allowed to use it.
  const token = message.recipients.map((a) => tokenFromAddress(deps.identity.reply, a)).find((t): t is string => Boolean(t));
  if (!token) return out('reject', 'MAIL_NO_TOKEN', 'the message was not sent to a reply address of a task email');
  const version = BASE32.indexOf(token[0] ?? '');
  const keyBytes = version >= 0 ? await deps.replyKey(version) : undefined;
  const keys: ReplyKeys = keyBytes ? { [version]: keyBytes } : {};
  const verified = await verifyReplyToken(token, { keys, lookup: deps.plans.lookup, now: deps.now });
  if (!verified.ok) {
    // An expired but genuine token still says whose it was: the answer can carry a fresh address.
    const expired = verified.expired ? await deps.plans.get(verified.expired.plan) : undefined;
    const owner = expired && verified.expired ? personByEmail(expired.plan, verified.expired.email) : undefined;
    const known = expired && owner && sender === owner.email ? { plan: verified.expired!.plan, task: verified.expired!.task, tokenPerson: owner, actor: owner } : {};
    return out('reject', verified.code, verified.message, known);
  }
  const stored = await deps.plans.get(verified.plan);
  if (!stored) return out('reject', 'REPLY_TOKEN_UNKNOWN_PLAN', `plan ${verified.plan} no longer exists`, { plan: verified.plan });
  const plan = stored.plan;
  const tokenPerson = personByEmail(plan, verified.email);
  const where = { plan: verified.plan, task: verified.task, ...(tokenPerson ? { tokenPerson } : {}) };
  if (!tokenPerson) return out('reject', 'REPLY_TOKEN_FORGED', `${verified.email} is no longer a person of plan ${verified.plan}`, where);
  // One From, one mailbox (RFC 5322 §3.6.2): with two, the plan's person could be the one a
  // server checked (DMARC) or the one it did not, so neither is trusted.
  if (message.fromAddresses.length > 1) return out('reject', 'MAIL_FROM_AMBIGUOUS', `the message names ${message.fromAddresses.length} senders in From (${message.fromAddresses.join(', ')}), so it cannot be told who sent it`, where);
  const actor = sender ? personByEmail(plan, sender) : undefined;
  if (!actor || !mayActFor(plan, actor, tokenPerson)) {
    return out('reject', 'REPLY_SENDER_MISMATCH', `the reply address belongs to ${tokenPerson.email}, but the message is from ${sender ?? 'no sender'}${actor ? ', who may not act for them' : ', who is not in this plan'}`, where);
  }
  if (deps.dmarc) {
    const dmarc = dmarcVerdict(message, { authservId: deps.dmarc.authservId });
    if (deps.dmarc.require && dmarc.verdict !== 'pass') return out('reject', 'MAIL_DMARC_FAIL', `DMARC ${dmarc.verdict} for ${sender}`, { ...where, actor });
  }

  // Extract and parse the commands.
  const extracted = extractReplyText(message);
  const defaultTask = verified.digest ? undefined : verified.task;
  const sentAt = trustedDate(message.date, deps.meta?.receivedAt ?? deps.now);
  if (extracted.overLimit) {
    // All or nothing: the part past the limit was never read, so none of the reply applies.
    const problem = { code: 'REPLY_TOO_LONG' as const, severity: 'error' as const, message: `the reply's new text is longer than the ${MAX_REPLY_CHARS.toLocaleString('en-US')} characters Twofold reads, so nothing of it was applied` };
    return out('reject', 'REPLY_TOO_LONG', problem.message, { ...where, actor, sentAt, text: extracted.text, problems: [problem] });
  }
  const reply = parseReply(extracted.text, {
    timezone: plan.timezone,
    sentAt,
    ...(defaultTask ? { defaultTask } : {}),
    taskIds: plan.stages.flatMap((s) => s.tasks.map((t) => t.id)),
    senderName: actor.name,
  });
  const found = { ...where, actor, sentAt, text: extracted.text, commands: reply.commands, problems: reply.problems, wantsHelp: reply.wantsHelp };
  if (reply.problems.length) return out('reject', reply.problems[0]!.code, reply.problems.map((p) => p.message).join('; '), found);
  if (reply.commands.length === 0) {
    return reply.wantsHelp ? out('reject', 'REPLY_HELP', 'the sender asked for the reply commands', found) : out('reject', 'REPLY_NO_COMMAND', 'the reply holds no command', found);
  }

  // Who may change which task: the owner, someone acting for the owner, or the CSM.
  for (const command of reply.commands) {
    const hit = command.task ? findTask(plan, command.task) : undefined;
    if (!hit) continue; // applyCommands reports unknown tasks
    const owner = personById(plan, hit.task.owner)!;
    if (!mayActFor(plan, actor, owner)) {
      const problem = { code: 'REPLY_NOT_ALLOWED' as const, severity: 'error' as const, message: `${hit.task.id} belongs to ${owner.name}; ${actor.name} may not update it`, task: hit.task.id };
      return out('reject', 'REPLY_NOT_ALLOWED', problem.message, { ...found, problems: [problem] });
    }
  }
  const applied = applyCommands(plan, reply.commands, { actor, ...(defaultTask ? { defaultTask } : {}), now: sentAt, via: 'email', ...(message.messageId ? { messageId: message.messageId } : {}) });
  if (applied.problems.length) return out('reject', applied.problems[0]!.code, applied.problems.map((p) => p.message).join('; '), { ...found, problems: applied.problems });
  return out('apply', 'REPLY_APPLIED', applied.changes.map((c) => c.summary).join('; ') || 'nothing to change', { ...found, edits: applied.edits, changes: applied.changes, activity: applied.activity });
}

/** The CSM acts for everyone; others for themselves and the people listed in their `acts_for`. */
export function mayActFor(plan: Plan, actor: Person, subject: Person): boolean {
  if (actor.id === subject.id) return true;
  if (actor.csm) return true;
  return Boolean(actor.acts_for?.includes(subject.id));
}

/** The Date header, unless it is missing or implausibly far from when the message arrived. */
function trustedDate(date: Date | undefined, receivedAt: Date): Date {
  if (!date || Math.abs(date.getTime() - receivedAt.getTime()) > MAX_CLOCK_SKEW_MS) return receivedAt;
  return date;
}



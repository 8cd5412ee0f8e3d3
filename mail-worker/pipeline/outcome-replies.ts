/**
 * The one place that decides what an outcome answers: a confirmation, an explanation to the
 * sender, a notice to the CSM, or silence. Forgers and machines never get an answer (no help
 * for an attacker, no mail loops); explanations and notices are rate-limited.
 */
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import { withPlanLock } from '../../site/lib/plan-lock-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { SecretStore } from '../../site/lib/secret-store-fs.ts';
import type { MailIdentity } from '../config/mail-identity.ts';
import { composeConfirmationEmail } from '../mail/confirmation-email.ts';
import { composeCsmNotice } from '../mail/csm-notice-email.ts';
import { receivedFrom, type ComposedEmail, type MailContext, type ReceivedMessage } from '../mail/mail-context.ts';
import { composeReplyProblemEmail } from '../mail/reply-problem-email.ts';
import { csmRateKey, openReplyRateLimit, senderRateKey } from '../mail/reply-rate-limit-fs.ts';
import type { Mailer } from '../mailer/mailer.ts';
import type { SourceLog } from '../sources/message-handler.ts';
import type { StoredPlan } from '../../site/lib/plan-store-fs.ts';
import type { Evaluation } from './evaluate-message.ts';
import type { AppliedReply } from './process-message.ts';

export type Answer = 'confirm' | 'explain' | 'help' | 'csm' | 'silent';

/** Outcome code → answer. Codes not listed: silence. */
export const ANSWERS: Partial<Record<ErrorCode, Answer>> = {
  REPLY_APPLIED: 'confirm',
  REPLY_HELP: 'help',
  // The sender is a person of the plan who wrote something that cannot apply: tell them why.
  REPLY_NO_COMMAND: 'explain',
  REPLY_TASK_REQUIRED: 'explain',
  REPLY_TASK_UNKNOWN: 'explain',
  REPLY_BLOCKED_NEEDS_REASON: 'explain',
  REPLY_BAD_DATE: 'explain',
  REPLY_DATE_AMBIGUOUS: 'explain',
  REPLY_DATE_BEFORE_START: 'explain',
  REPLY_NOTE_EMPTY: 'explain',
  REPLY_TOO_LONG: 'explain',
  REPLY_NOT_ALLOWED: 'explain',
  REPLY_TOKEN_EXPIRED: 'explain',
  // Someone used a reply address that is not theirs, or failed DMARC: the CSM hears, the sender does not.
  REPLY_SENDER_MISMATCH: 'csm',
  MAIL_FROM_AMBIGUOUS: 'csm',
  MAIL_DMARC_FAIL: 'csm',
  // Silence: forged or unreadable tokens, mail to no token, machines (auto-replies, bounces,
  // lists, our own mail), calendar answers, unreadable messages (kept in the failed folder).
};

export interface OutcomeRepliesDeps {
  paths: ProjectPaths;
  store: SecretStore;
  identity: MailIdentity;
  mailer: Pick<Mailer, 'send'>;
  clock: () => Date;
  log: SourceLog;
  /** Re-seal a portal (a new personal link opens it only after that). */
  reseal?: (slug: string) => Promise<unknown>;
  /** Plans by slug (for notices about builds). */
  plan?: (slug: string) => Promise<StoredPlan | undefined>;
}

export interface OutcomeReplies {
  answer(evaluation: Evaluation, applied: AppliedReply | undefined): Promise<string[]>;
  /** A full build failed: tell the CSMs of the plans that asked for it. */
  buildFailed(error: Error, reasons: string[]): Promise<void>;
}

export function createOutcomeReplies(deps: OutcomeRepliesDeps): OutcomeReplies {
  const rate = openReplyRateLimit(deps.paths);
  // Answers are on the reply path: reuse personal links, never derive a new one there.
  const context = (): MailContext => ({ paths: deps.paths, store: deps.store, identity: deps.identity, now: deps.clock(), links: 'existing' });

  async function send(composed: ComposedEmail): Promise<string> {
    const slugs = [...new Set(composed.newLinks.map((l) => l.plan))];
    for (const slug of slugs) await withPlanLock(deps.paths, slug, async () => deps.reseal?.(slug));
    await deps.mailer.send(composed.message, composed.tag);
    return composed.message.messageId;
  }

  async function answer(evaluation: Evaluation, applied: AppliedReply | undefined): Promise<string[]> {
    const kind = ANSWERS[evaluation.reason] ?? 'silent';
    const received = receivedOf(evaluation);
    if (kind === 'silent' || !received) return [];
    const ctx = context();
    const plan = applied?.plan ?? (evaluation.plan ? await deps.plan?.(evaluation.plan) : undefined);
    try {
      switch (kind) {
        case 'confirm': {
          if (!applied || !evaluation.plan) return [];
          const notes = applied.result.activity.filter((a) => a.verb === 'note' && a.task && a.value).map((a) => ({ task: a.task!, text: a.value! }));
          return [await send(await composeConfirmationEmail(ctx, { slug: evaluation.plan, plan: applied.plan.plan, received, task: evaluation.task ?? 'digest', changes: applied.result.changes, notes }))];
        }
        case 'explain':
        case 'help': {
          // Only people of the plan are answered; anyone else gets silence.
          if (!evaluation.actor || !evaluation.plan || !plan) return [];
          if (!(await rate.shouldSend(senderRateKey(received.from), ctx.now))) return limited(evaluation, received.from);
          const problems = evaluation.problems.length ? evaluation.problems : kind === 'explain' ? [{ code: evaluation.reason, message: evaluation.detail }] : [];
          return [await send(await composeReplyProblemEmail(ctx, { received, slug: evaluation.plan, plan: plan.plan, ...(evaluation.task ? { task: evaluation.task } : {}), problems, help: kind === 'help' }))];
        }
        case 'csm': {
          if (!evaluation.plan || !plan) return [];
          if (!(await rate.shouldSend(csmRateKey(evaluation.plan), ctx.now))) return limited(evaluation, 'csm');
          return [await send(await composeCsmNotice(ctx, { slug: evaluation.plan, plan: plan.plan, code: evaluation.reason, detail: evaluation.detail, received }))];
        }
      }
    } catch (err: any) {
      // An answer that cannot be composed must not lose the outcome: log it and go on.
      deps.log({ event: 'answer.failed', code: err?.code, reason: String(err?.message ?? err), plan: evaluation.plan });
    }
    return [];
  }

  function limited(evaluation: Evaluation, to: string): string[] {
    deps.log({ event: 'answer.rate-limited', code: 'MAIL_REPLY_RATE_LIMITED', to, plan: evaluation.plan, reason: evaluation.reason });
    return [];
  }

  async function buildFailed(error: Error, reasons: string[]): Promise<void> {
    const slugs = [...new Set(reasons.flatMap((r) => [...r.matchAll(/\bplan[: ]+([a-z0-9][a-z0-9-]*)/g)].map((m) => m[1]!)))].slice(0, 10);
    for (const slug of slugs) {
      const plan = await deps.plan?.(slug);
      if (!plan || !(await rate.shouldSend(csmRateKey(slug), deps.clock()))) continue;
      const code = ((error as any)?.code as ErrorCode | undefined) ?? 'BUILD_ASTRO_FAILED';
      await send(await composeCsmNotice(context(), { slug, plan: plan.plan, code, detail: `${error.message.split('\n')[0]} The change from email was kept in the plan; the portal shows it once a build succeeds.` })).catch(() => undefined);
    }
  }

  return { answer, buildFailed };
}

function receivedOf(e: Evaluation): ReceivedMessage | undefined {
  return e.message?.from ? receivedFrom(e.message) : undefined;
}

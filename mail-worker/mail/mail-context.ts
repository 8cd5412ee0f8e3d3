/**
 * What composing an email needs, and the helpers every composer shares: signed reply addresses,
 * personal unlock links (remembering which ones were created, so the caller can re-seal the
 * portal before the email that carries a new link goes out), stable thread ids, safe header
 * values and the headers that keep mail loops from starting.
 *
 * Threading: every message about one task for one person references the same thread root,
 * `stableMessageId(['thread', slug, task, email])`. Task emails carry a revisioned id under that
 * root (a changed title or due date is a new message in the same thread); confirmations,
 * problem answers and escalations about the task put the root in References (digests have a
 * root of their own per person, DIGEST_TASK). The root itself is never sent as a
 * message of its own: mail clients thread on a referenced id whether or not they hold it (the
 * way GitHub and Discourse thread notifications).
 */
import { isTwofoldError, TwofoldError } from '../../site/core/errors/problem.ts';
import { personByEmail, planTitle } from '../../site/core/plan/plan-model.ts';
import type { Person, Plan } from '../../site/core/plan/plan-types.ts';
import { personalLinkUrl } from '../../site/core/portal/personal-link.ts';
import { portalUrl, unlockLinkUrl } from '../../site/core/portal/portal-links.ts';
import { cleanReplyValue } from '../../site/core/reply/reply-command.ts';
import { DIGEST_TASK, makeReplyToken, replyAddress } from '../../site/core/reply/reply-token.ts';
import { dateInZone } from '../../site/core/util/dates.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { SecretStore } from '../../site/lib/secret-store-fs.ts';
import type { MailIdentity } from '../config/mail-identity.ts';
import type { OutgoingMessage } from '../mailer/compose-eml.ts';
import { stableMessageId } from '../mailer/message-id.ts';
import { normaliseMessageId, normaliseReferences, MAX_REFERENCES } from '../pipeline/normalise-message-id.ts';
import { TWOFOLD_GENERATED_HEADER, TWOFOLD_GENERATED_VALUE } from '../pipeline/classify-message.ts';
import { messageKey, type InboundMessage } from '../pipeline/parse-message.ts';

/** Longest header value built from plan or email text (names, reasons) before it is cut. */
export const MAX_HEADER_TEXT = 200;
/** Longest display name (a person's name, "Maya Chen via Twofold"). */
export const MAX_NAME_CHARS = 80;
/** Longest subject: fits a phone's inbox row twice over; the rest is in the body. */
export const MAX_SUBJECT_CHARS = 140;
/** Longest plan title inside the `[…]` subject prefix. */
export const MAX_SUBJECT_PREFIX_CHARS = 40;

export interface MailContext {
  paths: ProjectPaths;
  /** Reply-token keys and personal links (site/lib/secret-store-fs.ts `openSecretStore`). */
  store: Pick<SecretStore, 'replyKey' | 'ensureLink'> & Partial<Pick<SecretStore, 'getPortal'>>;
  /**
   * `create` (default): a person without a personal link gets one (a key derivation, ~0.1–0.4 s).
   * `existing`: answers on the reply path only reuse a link the person already has, else they
   * carry the plain portal address, so a reply is never slowed by a key derivation.
   */
  links?: 'create' | 'existing';
  identity: MailIdentity;
  /** Date of every message and the clock of reply tokens. */
  now: Date;
  /** "Today" as a calendar date in every plan's zone (`--now 2026-12-03`); default: `now` read in the plan's zone. */
  today?: string;
}

/** A personal unlock link this composition created: it opens the portal only after a re-seal. */
export interface NewLink {
  plan: string;
  email: string;
}

export type EmailKind = 'task' | 'digest' | 'confirmation' | 'reply-problem' | 'csm-notice' | 'escalation';

/** One composed email, ready for `mailer.send(message, tag)`. */
export interface ComposedEmail {
  kind: EmailKind;
  /** The plan's slug; absent for an answer to a message whose plan is unknown. */
  plan?: string;
  /** Task id, DIGEST_TASK for digests, absent when the email is about no task. */
  task?: string;
  /** The recipient's address. */
  to: string;
  message: OutgoingMessage;
  /** File-name tag for the mailer's outbox. */
  tag: string;
  newLinks: NewLink[];
}

/** "Today" for a plan: the context's fixed date, else `now` in the plan's time zone. */
export function todayFor(ctx: Pick<MailContext, 'now' | 'today'>, plan: Plan): string {
  return ctx.today ?? dateInZone(ctx.now, plan.timezone);
}

// ── header values ────────────────────────────────────────────────────────────────────────────

/**
 * A header value built from plan or email text: CR, LF and every other control character,
 * zero-width and bidirectional-override characters become spaces (no header injection, no text
 * that displays as something else), runs of white space collapse, and the result is cut to
 * `max` characters with an ellipsis.
 */
export function headerSafe(text: string, max = MAX_HEADER_TEXT): string {
  return truncate(cleanReplyValue(String(text ?? '')), max);
}

/** Cut to `max` characters (code points), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('').trimEnd()}…`;
}

/**
 * `[Acme onboarding] <text> <keep>`, at most MAX_SUBJECT_CHARS: the plan title is cut to
 * MAX_SUBJECT_PREFIX_CHARS, then `text` is cut so that `keep` ("— due Mon, Dec 13") survives.
 */
export function planSubject(plan: Plan, text: string, keep = ''): string {
  const prefix = `[${headerSafe(planTitle(plan), MAX_SUBJECT_PREFIX_CHARS)}] `;
  const tail = headerSafe(keep, MAX_SUBJECT_CHARS / 2);
  const room = MAX_SUBJECT_CHARS - [...prefix].length - (tail ? [...tail].length + 1 : 0);
  const subject = `${prefix}${headerSafe(text, room)}${tail ? ` ${tail}` : ''}`;
  return headerSafe(subject, MAX_SUBJECT_CHARS);
}

/** `Re: <subject>` without stacking prefixes; `fallback` when the subject is empty. */
export function replySubject(subject: string | undefined, fallback: string): string {
  const clean = headerSafe(subject ?? '', MAX_SUBJECT_CHARS);
  if (!clean) return headerSafe(`Re: ${fallback}`, MAX_SUBJECT_CHARS);
  return /^re\s*:/i.test(clean) ? clean : headerSafe(`Re: ${clean}`, MAX_SUBJECT_CHARS);
}

/** The sending mailbox, shown as "<CSM name> via <sender name>" when the plan has a CSM. */
export function fromFor(identity: MailIdentity, plan?: Plan): { name: string; address: string } {
  const csm = plan?.people.find((p) => p.csm);
  const sender = headerSafe(identity.from.name, MAX_NAME_CHARS);
  const name = csm ? `${headerSafe(csm.name, MAX_NAME_CHARS)} via ${sender}` : sender;
  return { name: headerSafe(name, MAX_NAME_CHARS), address: identity.from.address };
}

/** A recipient as nodemailer takes it, with a display name safe for the header. */
export function recipient(address: string, name?: string): { name: string; address: string } | string {
  const safe = name ? headerSafe(name, MAX_NAME_CHARS) : '';
  return safe ? { name: safe, address } : address;
}

/**
 * Headers every Twofold email carries. `scheduled` mail (task emails, digests, reminders, CSM
 * notices) is `Auto-Submitted: auto-generated`; an answer to a received message is
 * `auto-replied` (RFC 3834), so well-behaved responders never answer either. The generated
 * marker lets the worker recognise its own mail coming back; X-Auto-Response-Suppress asks
 * Exchange not to send out-of-office replies to it.
 */
export function generatedHeaders(kind: 'scheduled' | 'reply'): Record<string, string> {
  return {
    'Auto-Submitted': kind === 'reply' ? 'auto-replied' : 'auto-generated',
    [TWOFOLD_GENERATED_HEADER]: TWOFOLD_GENERATED_VALUE,
    'X-Auto-Response-Suppress': 'All',
  };
}

// ── reply addresses and links ──────────────────────────────────────────────────────────────

/** The signed reply address for (plan, task or DIGEST_TASK, person). */
export async function replyAddressFor(ctx: Pick<MailContext, 'store' | 'identity' | 'now'>, slug: string, task: string, email: string): Promise<string> {
  const { version, key } = await ctx.store.replyKey();
  const token = await makeReplyToken({ keys: { [version]: key }, keyVersion: version, plan: slug, task, email, now: ctx.now });
  return replyAddress(ctx.identity.reply, token);
}

/**
 * The person's personal unlock link, created when missing (then it is listed in `newLinks`).
 * A read-only secret store (TWOFOLD_SECRETS) that has no link for the person gives undefined:
 * the email goes out without a link rather than not at all.
 */
export async function unlockLinkFor(ctx: Pick<MailContext, 'store' | 'identity' | 'links'>, slug: string, email: string, newLinks: NewLink[]): Promise<string | undefined> {
  if (ctx.links === 'existing' && ctx.store.getPortal) {
    const portal = await ctx.store.getPortal(slug);
    if (!portal) return undefined;
    const link = portal.links.find((l) => l.person === email.toLowerCase());
    return link ? unlockLinkUrl(ctx.identity.portalBaseUrl, portal.portalId, { linkId: link.id, secret: link.secret }) : portalUrl(ctx.identity.portalBaseUrl, portal.portalId);
  }
  let created = false;
  const recording = {
    ensureLink: async (s: string, e: string) => {
      const link = await ctx.store.ensureLink(s, e);
      created = link.created;
      return link;
    },
  };
  try {
    const url = await personalLinkUrl(recording, slug, email, ctx.identity.portalBaseUrl);
    if (created) newLinks.push({ plan: slug, email: email.toLowerCase() });
    return url;
  } catch (err) {
    if (isTwofoldError(err) && err.code === 'PORTAL_SECRETS_READ_ONLY') return undefined;
    throw err;
  }
}

/** The plan's person with this email, or a TwofoldError naming the plan's people. */
export function memberOf(plan: Plan, slug: string, email: string): Person {
  const person = personByEmail(plan, email);
  if (!person) {
    throw new TwofoldError('MAIL_PERSON_UNKNOWN', `${headerSafe(email, 254)} is not a person of the plan "${slug}"`, {
      hint: `People of this plan: ${plan.people.map((p) => p.email).join(', ')}.`,
    });
  }
  return person;
}

// ── message ids and threads ────────────────────────────────────────────────────────────────

/** The root every message about (plan, task, person) references; DIGEST_TASK for digests. */
export function threadRootId(identity: Pick<MailIdentity, 'messageIdDomain'>, slug: string, task: string, email: string): string {
  const key = task === DIGEST_TASK ? DIGEST_TASK : `task:${task.toLowerCase()}`;
  return stableMessageId(['thread', slug, key, email.toLowerCase()], identity.messageIdDomain);
}

/** What the answered message said about its place in a thread (from the parsed message). */
export interface ReceivedMessage {
  /** The dedupe key of the message (its Message-ID, else `digest:<sha256>`): answers to it get stable ids. */
  key: string;
  messageId?: string;
  references?: readonly string[];
  subject?: string;
  /** Sender's address (lowercase) and display name as the message gave them. */
  from: string;
  fromName?: string;
  date?: Date;
}

/**
 * Threading headers of an answer: In-Reply-To the received message, References its References
 * plus its id, with our thread root first when the sender's client dropped it. Bounded to the
 * newest MAX_REFERENCES ids, the root kept.
 */
export function answerThreading(received: ReceivedMessage, root?: string): { inReplyTo?: string; references?: string[] } {
  const own = normaliseMessageId(received.messageId);
  const refs = normaliseReferences([...(received.references ?? []), ...(own ? [own] : [])]);
  if (root && !refs.includes(root)) refs.unshift(root);
  while (refs.length > MAX_REFERENCES) refs.splice(root && refs[0] === root ? 1 : 0, 1);
  return { ...(own ? { inReplyTo: own } : {}), ...(refs.length ? { references: refs } : {}) };
}

/** A stable Message-ID for an email, from the facts that make it "the same email". */
export function messageIdFor(identity: Pick<MailIdentity, 'messageIdDomain'>, parts: ReadonlyArray<string | number>): string {
  return stableMessageId(parts, identity.messageIdDomain);
}

/** The facts an answer needs from a parsed message (mail-worker/pipeline/parse-message.ts). */
export function receivedFrom(message: Pick<InboundMessage, 'messageId' | 'digest' | 'references' | 'subject' | 'from' | 'date'>): ReceivedMessage {
  return {
    key: messageKey(message),
    ...(message.messageId ? { messageId: message.messageId } : {}),
    references: message.references,
    subject: message.subject,
    from: message.from?.address ?? '',
    ...(message.from?.name ? { fromName: message.from.name } : {}),
    ...(message.date ? { date: message.date } : {}),
  };
}

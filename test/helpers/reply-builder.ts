/**
 * Realistic replies to Twofold's task emails, as a person's mail client writes them: From a
 * person of the plan, To the task's signed reply address (`replyAddressFor`, the one function
 * task emails use), `Re:` subject, In-Reply-To and References on the task's thread root, the new
 * text above the quoted original. Options make the hostile and odd variants the end-to-end and
 * fault tests need: HTML only, attachments, auto-reply headers, a forged From, a past clock for
 * an expired token, no Message-ID.
 *
 *   const { raw, messageId } = await buildReply({ from: hamish, to: address, text: 'done' });
 *   const reply = await replyAs(project, { slug: 'tamarind-vale', task: 'T9', text: 'done' });
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ParsedMail } from 'mailparser';
import type { Attachment } from 'nodemailer/lib/mailer';
import { findTask, personByEmail, personById, planTitle } from '../../site/core/plan/plan-model.ts';
import { readPlan } from '../../site/lib/plan-store-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { SecretStore } from '../../site/lib/secret-store-fs.ts';
import type { MailIdentity } from '../../mail-worker/config/mail-identity.ts';
import { replyAddressFor, threadRootId } from '../../mail-worker/mail/mail-context.ts';
import { composeEml } from '../../mail-worker/mailer/compose-eml.ts';

export interface ReplySpec {
  from: { name: string; address: string } | string;
  /** The address replied to (a signed reply address, or anything for hostile cases). */
  to: string;
  /** The new text the person wrote (plain text part, and the HTML part unless `html` is given). */
  text?: string;
  /** The HTML part; with `htmlOnly` the message has no text part at all (Outlook style). */
  html?: string;
  htmlOnly?: boolean;
  subject?: string;
  /** `<id@host>`; a fresh one when omitted; `null` leaves the header out. */
  messageId?: string | null;
  /** The message answered (its Message-ID); default the thread root given in `references`. */
  inReplyTo?: string;
  references?: string[];
  /** The Date header (default now). */
  date?: Date;
  /** The original quoted under the new text ("On … wrote:" then `> ` lines); none when omitted. */
  quoted?: { author: string; date: Date; text: string };
  attachments?: Attachment[];
  /** Extra header fields (Auto-Submitted, X-Autoreply…). */
  headers?: Record<string, string>;
}

export interface BuiltReply {
  raw: Buffer;
  /** The Message-ID header as sent (undefined when left out). */
  messageId: string | undefined;
}

/** A unique Message-ID from the sender's domain, as mail clients make them. */
export function newMessageId(fromAddress: string): string {
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || 'client.example';
  return `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${domain}>`;
}

export async function buildReply(spec: ReplySpec): Promise<BuiltReply> {
  const fromAddress = typeof spec.from === 'string' ? spec.from : spec.from.address;
  const messageId = spec.messageId === null ? undefined : (spec.messageId ?? newMessageId(fromAddress));
  const quote = spec.quoted ? `\n\nOn ${spec.quoted.date.toUTCString()}, ${spec.quoted.author} wrote:\n${spec.quoted.text.split('\n').map((l) => `> ${l}`).join('\n')}\n` : '\n';
  const text = spec.text === undefined ? undefined : `${spec.text}${quote}`;
  const html =
    spec.html ??
    (spec.htmlOnly && spec.text !== undefined
      ? `<html><body><div>${escapeHtml(spec.text).replace(/\n/g, '<br>')}</div>${spec.quoted ? `<div class="gmail_quote"><div>On ${escapeHtml(spec.quoted.date.toUTCString())}, ${escapeHtml(spec.quoted.author)} wrote:</div><blockquote>${escapeHtml(spec.quoted.text).replace(/\n/g, '<br>')}</blockquote></div>` : ''}</body></html>`
      : undefined);
  const inReplyTo = spec.inReplyTo ?? spec.references?.at(-1);
  const raw = await composeEml({
    // composeEml requires an id; it is removed below when the spec asks for none.
    messageId: messageId ?? '<placeholder@builder.invalid>',
    from: spec.from,
    to: spec.to,
    subject: spec.subject ?? 'Re: your task',
    date: spec.date ?? new Date(),
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(spec.references?.length ? { references: spec.references } : {}),
    ...(spec.htmlOnly ? {} : text !== undefined ? { text } : {}),
    ...(html !== undefined ? { html } : {}),
    ...(spec.attachments ? { attachments: spec.attachments } : {}),
    ...(spec.headers ? { headers: spec.headers } : {}),
  });
  return { raw: messageId ? raw : withoutHeader(raw, 'Message-ID'), messageId };
}

export interface ReplyContext {
  paths: ProjectPaths;
  store: SecretStore;
  identity: MailIdentity;
}

export interface ReplyAsOptions extends Omit<ReplySpec, 'from' | 'to'> {
  slug: string;
  /** A task id of the plan, or `digest`. */
  task: string;
  /** The person the reply address is issued to (default: the task's owner). */
  person?: string;
  /** Who sends it (default: `person`); any address, for forged and forwarded cases. */
  from?: { name: string; address: string } | string;
  /** The clock the reply address is signed with (a past one makes an expired token). */
  tokenNow?: Date;
}

/** A reply as `person` would send it to the task email Twofold sent them; returns the address too. */
export async function replyAs(ctx: ReplyContext, options: ReplyAsOptions): Promise<BuiltReply & { to: string }> {
  const { plan } = await readPlan(ctx.paths, options.slug);
  const digest = options.task.toLowerCase() === 'digest';
  const hit = digest ? undefined : findTask(plan, options.task);
  if (!digest && !hit) throw new Error(`reply-builder: plan ${options.slug} has no task ${options.task}`);
  const person = options.person ? personByEmail(plan, options.person) : hit ? personById(plan, hit.task.owner) : undefined;
  if (!person) throw new Error(`reply-builder: say which person of ${options.slug} the reply address is for`);
  const now = options.tokenNow ?? options.date ?? new Date();
  const task = digest ? 'digest' : hit!.task.id;
  const to = await replyAddressFor({ store: ctx.store, identity: ctx.identity, now }, options.slug, task, person.email);
  const root = threadRootId(ctx.identity, options.slug, task, person.email);
  const about = hit ? `${hit.task.id}: ${hit.task.title}` : 'Your open tasks';
  const built = await buildReply({
    ...options,
    from: options.from ?? { name: person.name, address: person.email },
    to,
    subject: options.subject ?? `Re: [${planTitle(plan)}] ${about}`,
    references: options.references ?? [root],
    quoted: options.quoted ?? { author: `${ctx.identity.from.name} <${ctx.identity.from.address}>`, date: new Date((options.date ?? new Date()).getTime() - 3_600_000), text: `${about}\n\nReply "done" when it is done, or "blocked: <reason>".` },
  });
  return { ...built, to };
}

/** How a person's mail client quotes the message they answer. */
export type QuoteStyle = 'gmail' | 'outlook' | 'iphone';

/**
 * A person's answer to an email Twofold really sent (read back from the outbox or an SMTP
 * capture): to its Reply-To, threaded under it, the original quoted the way `style`'s client
 * quotes it. Outlook quotes nothing: the original's text, its reply commands included, sits
 * unmarked under a From/Sent/To/Subject block, which only the extractor can cut.
 */
export async function answerSent(sent: ParsedMail, options: { from: { name: string; address: string }; text: string; style: QuoteStyle; date: Date; messageId?: string }): Promise<BuiltReply> {
  const to = sent.replyTo?.value[0]?.address;
  if (!to) throw new Error('reply-builder: the sent email has no Reply-To');
  const original = (sent.text ?? '').replace(/\s+$/, '');
  const author = sent.from?.value[0] ? `${sent.from.value[0].name} <${sent.from.value[0].address}>` : 'Twofold';
  const when = (sent.date ?? options.date).toUTCString();
  const quoted = {
    gmail: `On ${when}, ${author} wrote:\n${original.split('\n').map((l) => `> ${l}`).join('\n')}`,
    outlook: `________________________________\nFrom: ${author}\nSent: ${when}\nTo: ${options.from.name} <${options.from.address}>\nSubject: ${sent.subject ?? ''}\n\n${original}`,
    iphone: `Sent from my iPhone\n\n> On ${when}, ${author} wrote:\n> \n${original.split('\n').map((l) => `> ${l}`).join('\n')}`,
  }[options.style];
  const references = [...[sent.references ?? []].flat(), ...(sent.messageId ? [sent.messageId] : [])];
  return buildReply({
    from: options.from,
    to,
    subject: /^re:/i.test(sent.subject ?? '') ? sent.subject! : `Re: ${sent.subject ?? ''}`,
    references,
    ...(sent.messageId ? { inReplyTo: sent.messageId } : {}),
    date: options.date,
    ...(options.messageId ? { messageId: options.messageId } : {}),
    text: `${options.text}\n\n${quoted}`,
  });
}

export const REPLY_FIXTURES_DIR = fileURLToPath(new URL('../fixtures/replies/', import.meta.url));

/** What a fixture's placeholders are filled with. */
export interface FixtureValues {
  /** `{{FROM}}`: `Name <address>`. */
  from: string;
  /** `{{REPLY_ADDRESS}}`: the signed reply address. */
  replyAddress: string;
  /** `{{DATE}}`: the Date header (RFC 5322). */
  date: Date;
  /** `{{THREAD}}`: the task email's thread root Message-ID. */
  thread: string;
}

/**
 * A scenario `.eml` of test/fixtures/replies with its placeholders filled in: the signed reply
 * address cannot be committed (its key is made per test project), everything else is as sent.
 */
export function replyFixture(name: string, values: FixtureValues): Buffer {
  const raw = readFileSync(REPLY_FIXTURES_DIR + name).toString('latin1');
  const date = values.date.toUTCString().replace('GMT', '+0000');
  // The file is handled as bytes (latin1 maps each byte to one char); values go in as UTF-8.
  const bytes = (value: string) => Buffer.from(value, 'utf8').toString('latin1');
  const filled = raw
    .replaceAll('{{FROM}}', bytes(values.from))
    .replaceAll('{{REPLY_ADDRESS}}', bytes(values.replyAddress))
    .replaceAll('{{DATE}}', date)
    .replaceAll('{{THREAD}}', bytes(values.thread));
  return Buffer.from(filled, 'latin1');
}

/** Replace (or add) the From and To header fields of a raw message, keeping every body byte. */
export function readdress(raw: Buffer, change: { from?: string; to?: string }): Buffer {
  const split = headerEnd(raw);
  let head = raw.subarray(0, split.index).toString('latin1');
  const eol = split.eol;
  for (const [field, value] of [
    ['From', change.from],
    ['To', change.to],
  ] as const) {
    if (value === undefined) continue;
    const pattern = new RegExp(`^${field}:[^\\r\\n]*(?:\\r?\\n[ \\t][^\\r\\n]*)*`, 'im');
    const line = `${field}: ${Buffer.from(value, 'utf8').toString('latin1')}`; // UTF-8 bytes, like the rest of the head
    head = pattern.test(head) ? head.replace(pattern, line) : `${head}${eol}${line}`;
  }
  return Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(split.index)]);
}

/** Remove every occurrence of a header field (with its folded lines). */
export function withoutHeader(raw: Buffer, field: string): Buffer {
  const split = headerEnd(raw);
  const head = raw
    .subarray(0, split.index)
    .toString('latin1')
    .replace(new RegExp(`^${field}:[^\\r\\n]*(?:\\r?\\n[ \\t][^\\r\\n]*)*(?:\\r?\\n)?`, 'gim'), '');
  return Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(split.index)]);
}

/** The body of a raw message: every byte after the blank line that ends the header. */
export function bodyBytes(raw: Buffer): Buffer {
  return raw.subarray(headerEnd(raw).index);
}

/** Where the header block ends (index of the blank line's line break) and its line ending. */
function headerEnd(raw: Buffer): { index: number; eol: string } {
  const text = raw.toString('latin1');
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, eol: '\r\n' };
  if (lf !== -1) return { index: lf, eol: '\n' };
  return { index: text.length, eol: '\r\n' };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * Classify step: should this message be processed as a reply, handed to the calendar code, or
 * ignored? Ignored mail is never answered: answering an auto-reply, a bounce or a list starts a
 * mail loop, and answering ourselves is one. Each verdict carries a catalog code and a reason
 * in words for the log and `twofold mail explain`.
 *
 * Order matters and is deliberate: our own messages first (a loop is the worst outcome), then
 * bounces and reports (they often also look automatic), then iTIP replies (an RSVP from a
 * calendar may carry auto headers but must still reach the calendar code), then auto-replies
 * and list mail. Pure: a function of the parsed message and the addresses Twofold sends from.
 */
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import { autoReplySubjectMatch } from './auto-reply-subjects.ts';
import type { InboundMessage } from './parse-message.ts';

/** Set on every message Twofold sends (the mailer adds it), so a copy coming back is recognised. */
export const TWOFOLD_GENERATED_HEADER = 'X-Twofold-Generated';
export const TWOFOLD_GENERATED_VALUE = 'yes';

export type IgnoreCode = Extract<ErrorCode, 'MAIL_OWN_MESSAGE' | 'MAIL_BOUNCE' | 'MAIL_AUTO_REPLY' | 'MAIL_LIST' | 'MAIL_NO_SENDER'>;

export type Classification =
  | { kind: 'process'; reason: string }
  | { kind: 'calendar-reply'; code: Extract<ErrorCode, 'MAIL_CALENDAR_REPLY'>; reason: string }
  | { kind: 'ignore'; code: IgnoreCode; reason: string };

export interface ClassifyOptions {
  /** Addresses Twofold sends from (the identity's From, and any other sending mailbox). */
  ownAddresses: readonly string[];
}

type ClassifiedMessage = Pick<
  InboundMessage,
  'headers' | 'from' | 'sender' | 'returnPath' | 'subject' | 'contentType' | 'isMultipartReport' | 'reportType' | 'recipients' | 'calendar'
>;

export function classifyMessage(message: ClassifiedMessage, options: ClassifyOptions): Classification {
  return ownMessage(message, options) ?? bounce(message) ?? calendarReply(message) ?? autoReply(message) ?? listMail(message) ?? noSender(message) ?? { kind: 'process', reason: 'a reply written by a person' };
}

function ignore(code: IgnoreCode, reason: string): Classification {
  return { kind: 'ignore', code, reason };
}

function ownMessage(message: ClassifiedMessage, options: ClassifyOptions): Classification | undefined {
  const marker = message.headers.get(TWOFOLD_GENERATED_HEADER);
  if (marker !== undefined && marker.trim().toLowerCase() === TWOFOLD_GENERATED_VALUE) {
    return ignore('MAIL_OWN_MESSAGE', `carries ${TWOFOLD_GENERATED_HEADER}: ${TWOFOLD_GENERATED_VALUE}, so Twofold sent it`);
  }
  const own = new Set(options.ownAddresses.map((a) => a.trim().toLowerCase()).filter(Boolean));
  const from = message.from?.address;
  if (from && own.has(from)) return ignore('MAIL_OWN_MESSAGE', `it is from Twofold's own address ${from}`);
  return undefined;
}

// Local parts that only mail systems send from.
const MAILER_DAEMON = /^(?:mailer-daemon|mailer_daemon|mailerdaemon|mail-daemon|postmaster|mail\.delivery\.subsystem)$/i;
// Subjects of non-standard bounces (no multipart/report), in the languages MTAs ship with.
const BOUNCE_SUBJECT =
  /^\s*(?:undeliverable|undelivered mail|undeliverable mail|delivery status notification|delivery failure|delivery has failed|mail delivery failed|mail delivery failure|returned mail|failure notice|message not delivered|non remis|non distribuable|unzustellbar|nicht zustellbar|no se puede entregar|non recapitabile|onbestelbaar|kan ikke leveres|kunde inte levereras)\b/iu;
// VERP return addresses (`bounces+<token>@`, `…+verp-<hex>@`): only bounces are sent to them.
const VERP_LOCAL = /(?:^|[+\-=._])(?:verp|bounces?)[-+=]/i;

function bounce(message: ClassifiedMessage): Classification | undefined {
  if (message.isMultipartReport) {
    return ignore('MAIL_BOUNCE', `a ${message.reportType ?? 'delivery'} report (multipart/report)`);
  }
  if (message.contentType === 'message/delivery-status' || message.contentType === 'message/disposition-notification') {
    return ignore('MAIL_BOUNCE', `a ${message.contentType} report`);
  }
  const fromLocal = (message.from?.address ?? '').split('@')[0] ?? '';
  if (MAILER_DAEMON.test(fromLocal)) return ignore('MAIL_BOUNCE', `it is from ${message.from?.address}, a mail system`);
  if (message.headers.has('x-failed-recipients')) return ignore('MAIL_BOUNCE', 'it has an X-Failed-Recipients header');
  if (message.returnPath === '') return ignore('MAIL_BOUNCE', 'its return path is empty (<>), as for bounces and other automatic mail');
  const verp = message.recipients.find((address) => VERP_LOCAL.test(address.split('@')[0] ?? ''));
  if (verp) return ignore('MAIL_BOUNCE', `it was sent to the bounce address ${verp}`);
  if (BOUNCE_SUBJECT.test(message.subject)) return ignore('MAIL_BOUNCE', `its subject "${clip(message.subject)}" is a bounce's`);
  return undefined;
}

function calendarReply(message: ClassifiedMessage): Classification | undefined {
  const reply = message.calendar.find((part) => part.method === 'REPLY');
  if (!reply) return undefined;
  return { kind: 'calendar-reply', code: 'MAIL_CALENDAR_REPLY', reason: 'an iTIP reply (METHOD:REPLY) to a check-in invitation' };
}

const AUTO_HEADERS_PRESENT = ['x-autoreply', 'x-autorespond', 'x-autoresponder', 'x-autoresponse', 'x-autogenerated', 'x-autoreply-from', 'x-mail-autoreply', 'x-fc-machinegenerated'];
const AUTO_PRECEDENCE = /^(?:bulk|junk|auto[_-]?reply)$/i;
const AUTO_SUPPRESS = /(?:^|[\s,])(?:all|oof|autoreply)(?:$|[\s,])/i;

function autoReply(message: ClassifiedMessage): Classification | undefined {
  const auto = message.headers.get('auto-submitted');
  if (auto !== undefined && auto.trim() !== '' && !/^no\b/i.test(auto.trim())) {
    return ignore('MAIL_AUTO_REPLY', `Auto-Submitted: ${clip(auto)}`);
  }
  for (const name of AUTO_HEADERS_PRESENT) {
    const value = message.headers.get(name);
    if (value !== undefined && !/^(?:no|false|0)$/i.test(value.trim())) return ignore('MAIL_AUTO_REPLY', `it has an ${name} header`);
  }
  for (const name of ['precedence', 'x-precedence']) {
    const value = message.headers.get(name)?.trim();
    if (value && AUTO_PRECEDENCE.test(value)) return ignore('MAIL_AUTO_REPLY', `Precedence: ${value}`);
  }
  const suppress = message.headers.get('x-auto-response-suppress');
  if (suppress && AUTO_SUPPRESS.test(suppress)) return ignore('MAIL_AUTO_REPLY', `X-Auto-Response-Suppress: ${clip(suppress)} (Exchange marks its automatic mail so)`);
  const phrase = autoReplySubjectMatch(message.subject);
  if (phrase) return ignore('MAIL_AUTO_REPLY', `its subject "${clip(message.subject)}" is an automatic reply's ("${phrase}")`);
  return undefined;
}

function listMail(message: ClassifiedMessage): Classification | undefined {
  if (message.headers.has('list-id')) return ignore('MAIL_LIST', `list mail (List-Id: ${clip(message.headers.get('list-id') ?? '')})`);
  const precedence = message.headers.get('precedence')?.trim().toLowerCase();
  if (precedence === 'list') return ignore('MAIL_LIST', 'list mail (Precedence: list)');
  return undefined;
}

function noSender(message: ClassifiedMessage): Classification | undefined {
  if (message.from?.address) return undefined;
  return ignore('MAIL_NO_SENDER', 'it has no From address, so it can be neither authenticated nor answered');
}

function clip(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 79)}…` : one;
}

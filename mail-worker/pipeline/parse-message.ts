/**
 * Parse step of the reply pipeline: raw RFC 5322 bytes → one typed `InboundMessage`, parsed once
 * at the edge and trusted afterwards. Nothing here throws for bad input: a message that is too
 * large, is not an email at all, or takes too long comes back as a typed failure with a catalog
 * code, so the processor can record it (by its digest) and move on.
 *
 * Limits (decided here, documented for the processor):
 * - A message over MAX_MESSAGE_BYTES (25 MB, the sources' limit) is refused before parsing.
 * - Attachments are never kept in memory: their bytes are counted and dropped, so a 10 MB
 *   attachment costs nothing. One over MAX_ATTACHMENT_BYTES does not refuse the message (the
 *   reply text next to it is still good); its summary is marked `oversize`.
 * - Calendar parts (text/calendar, application/ics) are the one kind of attachment whose text is
 *   kept, up to MAX_CALENDAR_BYTES each; a larger one is listed as an oversize attachment only.
 * - mailparser runs with HTML→text and text→HTML conversion off (Twofold converts HTML itself,
 *   see html-to-text.ts), no link detection, no image inlining, no checksums, embedded
 *   message/rfc822 parts left unparsed (a forwarded message is not the sender's reply), and
 *   bounded header size and part count. The whole parse has a time limit.
 */
import { createHash } from 'node:crypto';
import { MailParser, parseAddressHeader } from 'mailparser';
import type { AttachmentStream, MailParserOptions, MessageText, StructuredHeader } from 'mailparser';
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../sources/message-handler.ts';
import { decodeBodyBytes, isLikelyUtf8, sniffingIconv } from './body-charset-decoder.ts';
import { messageHeadersFrom, type MessageHeaders, type RawHeaderLine } from './message-headers.ts';
import { normaliseMessageId, normaliseReferences } from './normalise-message-id.ts';

/** 25 MB: the same limit the sources enforce while receiving (message-handler.ts). */
export const MAX_MESSAGE_BYTES = DEFAULT_MAX_MESSAGE_BYTES;
/** Attachments above this are flagged `oversize` (their content is never kept anyway). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** The most text kept of one calendar part; iTIP replies are a few kilobytes. */
export const MAX_CALENDAR_BYTES = 1024 * 1024;
/** Default time limit for one parse. A 25 MB message parses in well under a second. */
export const PARSE_TIMEOUT_MS = 10_000;
/** Largest header block of one MIME part (mailparser's default is 1 MB). */
const MAX_HEAD_BYTES = 512 * 1024;
/** Most MIME parts in one message (mailparser's default is 1000). */
const MAX_MIME_PARTS = 500;
/** RFC 5322 field names: printable ASCII without white space or colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
/** The most attachments listed in the summary; the count beyond is still reported. */
const MAX_ATTACHMENTS_LISTED = 100;

export interface MailAddress {
  /** Lowercased: addresses are compared with plan people's emails, which are case-insensitive. */
  address: string;
  name: string;
}

export interface AttachmentSummary {
  filename?: string;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Larger than MAX_ATTACHMENT_BYTES. */
  oversize: boolean;
}

export interface CalendarPart {
  /** The iTIP method (REQUEST, REPLY, CANCEL…), uppercase, from the body or the Content-Type. */
  method?: string;
  contentType: string;
  filename?: string;
  /** The iCalendar text, decoded. */
  text: string;
}

export interface InboundMessage {
  /** Normalised Message-ID (`<local@domain>`), or undefined when the message has none. */
  messageId?: string;
  /** sha256 of the raw bytes as received, hex. */
  digest: string;
  from?: MailAddress;
  /** Every distinct address of every From header: more than one means nobody can tell who sent it. */
  fromAddresses: string[];
  sender?: MailAddress;
  replyTo: MailAddress[];
  /** Return-Path (or the SMTP envelope sender); `''` is the null sender `<>` of bounces. */
  returnPath?: string;
  /** Lowercased addresses of To, Cc, and the delivery headers (Delivered-To, X-Original-To…). */
  to: string[];
  cc: string[];
  deliveredTo: string[];
  /** Every recipient address above plus Bcc and the envelope, once each. */
  recipients: string[];
  subject: string;
  /** The Date header, or undefined when it is missing or does not parse (never "now"). */
  date?: Date;
  inReplyTo?: string;
  references: string[];
  headers: MessageHeaders;
  /** Top-level Content-Type, lowercase (text/plain when absent). */
  contentType: string;
  text?: string;
  html?: string;
  /** Not produced: mailparser's text→HTML conversion is switched off (see the module note). */
  textAsHtml?: string;
  attachments: AttachmentSummary[];
  /** How many attachments there were in all (the summary lists at most 100). */
  attachmentCount: number;
  calendar: CalendarPart[];
  /** Raw Authentication-Results values, topmost first (see dmarc.ts for which to trust). */
  authenticationResults: string[];
  /** multipart/report (delivery status, read receipts, feedback reports). */
  isMultipartReport: boolean;
  /** The report-type parameter of a multipart/report, lowercase. */
  reportType?: string;
  sizeBytes: number;
  /** What was wrong with the message and read leniently anyway, for logs and `mail explain`. */
  repairs: string[];
}

export type ParseFailureCode = Extract<ErrorCode, 'MAIL_MESSAGE_TOO_LARGE' | 'MAIL_MALFORMED' | 'MAIL_PARSE_TIMEOUT'>;

export interface ParseFailure {
  ok: false;
  code: ParseFailureCode;
  message: string;
  digest: string;
  sizeBytes: number;
}

export type ParseResult = { ok: true; message: InboundMessage } | ParseFailure;

export interface ParseOptions {
  /** Default MAX_MESSAGE_BYTES. */
  maxBytes?: number;
  /** Default PARSE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The SMTP envelope when the message came over SMTP (the sources' MessageMeta.envelope). */
  envelope?: { from?: string; to?: readonly string[] };
}

/** The dedupe key: the normalised Message-ID, else `digest:<sha256>`. */
export function messageKey(message: Pick<InboundMessage, 'messageId' | 'digest'>): string {
  return message.messageId ?? `digest:${message.digest}`;
}

export async function parseMessage(raw: Buffer | Uint8Array | string, options: ParseOptions = {}): Promise<ParseResult> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  const maxBytes = options.maxBytes ?? MAX_MESSAGE_BYTES;
  const digest = createHash('sha256').update(bytes).digest('hex');
  const sizeBytes = bytes.length;
  const fail = (code: ParseFailureCode, message: string): ParseFailure => ({ ok: false, code, message, digest, sizeBytes });
  if (sizeBytes > maxBytes) {
    return fail('MAIL_MESSAGE_TOO_LARGE', `the message is ${sizeBytes} bytes, more than the ${maxBytes} bytes Twofold reads`);
  }
  const deadline = Date.now() + (options.timeoutMs ?? PARSE_TIMEOUT_MS);
  const repairs: string[] = [];
  try {
    const start = leadingBlankBytes(bytes);
    if (start > 0) repairs.push('leading blank lines before the header removed');
    let input = start > 0 ? bytes.subarray(start) : bytes;
    let parsed = await runMailParser(input, deadline);
    if (!parsed.headerLines.some((h) => FIELD_NAME.test(h.key))) return fail('MAIL_MALFORMED', 'the message has no header fields; it is not an email');
    if (parsed.headerLines.some((h) => !h.key)) repairs.push('a header line without a colon was skipped');
    if (parsed.headerLines.some((h) => h.key && !FIELD_NAME.test(h.key))) repairs.push('a header line with an invalid field name was skipped');

    const topType = contentTypeOf(parsed.headers);
    if (topType.value.startsWith('multipart/') && parsed.partCount === 0) {
      // The declared boundary never occurs. A part delimiter that is really there (a typo in the
      // boundary) is used instead; failing that the body is read as plain text, as mail clients
      // show it, so a reply written into a broken message is still found.
      const found = discoverBoundary(input);
      if (found) {
        repairs.push(`multipart boundary "${topType.params.boundary ?? ''}" does not occur; used "${found}" found in the body`);
        input = withBoundary(input, found);
        parsed = await runMailParser(input, deadline);
      }
      if (parsed.partCount === 0) {
        repairs.push('multipart message without parts read as plain text');
        parsed.text = decodeBodyBytes(bodyOf(input), undefined).text;
      }
    }
    if (parsed.sniffedCharsets.length) repairs.push(`body labelled ${parsed.sniffedCharsets.join(', ')} read as UTF-8`);
    return { ok: true, message: buildMessage(parsed, { digest, sizeBytes, repairs, envelope: options.envelope }) };
  } catch (err) {
    if (err instanceof ParseTimeout) return fail('MAIL_PARSE_TIMEOUT', `parsing the message took longer than ${options.timeoutMs ?? PARSE_TIMEOUT_MS} ms`);
    return fail('MAIL_MALFORMED', `the message could not be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ── mailparser run ─────────────────────────────────────────────────────────────────────────

interface ParsedParts {
  headers: Map<string, unknown>;
  headerLines: RawHeaderLine[];
  text?: string;
  html?: string;
  attachments: AttachmentSummary[];
  attachmentCount: number;
  calendar: CalendarPart[];
  /** Text parts plus attachments: zero means the MIME structure yielded nothing. */
  partCount: number;
  sniffedCharsets: string[];
}

class ParseTimeout extends Error {}

function runMailParser(input: Buffer, deadline: number): Promise<ParsedParts> {
  return new Promise<ParsedParts>((resolve, reject) => {
    const out: ParsedParts = { headers: new Map(), headerLines: [], attachments: [], attachmentCount: 0, calendar: [], partCount: 0, sniffedCharsets: [] };
    const options: MailParserOptions = {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      keepDeliveryStatus: true,
      ignoreEmbedded: true,
      checksumAlgo: false,
      maxHeadSize: MAX_HEAD_BYTES,
      maxChildNodes: MAX_MIME_PARTS,
      Iconv: sniffingIconv((charset) => out.sniffedCharsets.push(charset)),
    };
    let settled = false;
    const parser = new MailParser(options);
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        parser.destroy();
        reject(err);
      } else resolve(out);
    };
    const timer = setTimeout(() => finish(new ParseTimeout()), Math.max(0, deadline - Date.now()));
    parser.on('error', (err: Error) => finish(err));
    parser.on('headers', (headers: Map<string, unknown>) => {
      out.headers = headers;
    });
    parser.on('headerLines', (lines: RawHeaderLine[]) => {
      out.headerLines = lines.map(({ key, line }) => ({ key, line: utf8IfValid(line) }));
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        if (typeof data.text === 'string') out.text = data.text;
        if (typeof data.html === 'string') out.html = data.html;
        if (data.text !== undefined || data.html !== undefined) out.partCount++;
        return;
      }
      collectAttachment(data, out, (err) => finish(err));
    });
    parser.on('end', () => finish());
    parser.end(input);
  });
}

function collectAttachment(attachment: AttachmentStream, out: ParsedParts, onError: (err: Error) => void): void {
  out.partCount++;
  // A stream error without a listener would crash the process: report it as a parse failure.
  attachment.content.on('error', onError);
  const contentType = attachment.contentType.toLowerCase();
  const isCalendar = contentType === 'text/calendar' || contentType === 'application/ics';
  const chunks: Buffer[] = [];
  let size = 0;
  attachment.content.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (isCalendar && size <= MAX_CALENDAR_BYTES) chunks.push(chunk);
  });
  attachment.content.on('end', () => {
    out.attachmentCount++;
    const summary: AttachmentSummary = { contentType, size, oversize: size > MAX_ATTACHMENT_BYTES };
    if (attachment.filename) summary.filename = stripControls(attachment.filename);
    if (out.attachments.length < MAX_ATTACHMENTS_LISTED) out.attachments.push(summary);
    if (isCalendar && size <= MAX_CALENDAR_BYTES) out.calendar.push(calendarPart(attachment, contentType, Buffer.concat(chunks)));
    attachment.release?.();
  });
}

function calendarPart(attachment: AttachmentStream, contentType: string, bytes: Buffer): CalendarPart {
  const header = attachment.headers.get('content-type') as StructuredHeader | undefined;
  const text = decodeBodyBytes(bytes, header?.params?.charset).text;
  const fromBody = /^METHOD[ \t]*(?:;[^:\r\n]*)?:[ \t]*([A-Za-z-]+)/m.exec(text.replace(/\r?\n[ \t]/g, ''))?.[1];
  const method = (fromBody ?? header?.params?.method)?.toUpperCase();
  const part: CalendarPart = { contentType, text };
  if (method) part.method = method;
  if (attachment.filename) part.filename = stripControls(attachment.filename);
  return part;
}

// ── building the typed message ─────────────────────────────────────────────────────────────

function buildMessage(
  parsed: ParsedParts,
  extra: { digest: string; sizeBytes: number; repairs: string[]; envelope: ParseOptions['envelope'] },
): InboundMessage {
  const headers = messageHeadersFrom(parsed.headerLines.filter((h) => FIELD_NAME.test(h.key)));
  const repairs = extra.repairs;
  const topType = contentTypeOf(parsed.headers);

  const fromAll = addressesWithNames(headers.getAll('from'));
  const from = fromAll[0];
  const sender = firstMailbox(headers.getAll('sender'));
  const to = addressesOf(headers.getAll('to'));
  const cc = addressesOf(headers.getAll('cc'));
  const bcc = addressesOf(headers.getAll('bcc'));
  const deliveredTo = unique([
    ...addressesOf(DELIVERY_HEADERS.flatMap((name) => [...headers.getAll(name)])),
    ...(extra.envelope?.to ?? []).map((a) => a.trim().toLowerCase()).filter(Boolean),
  ]);

  const rawDate = headers.get('date');
  const date = rawDate === undefined ? undefined : parseDate(rawDate);
  if (rawDate !== undefined && !date) repairs.push(`Date header "${rawDate.slice(0, 80)}" does not parse`);
  if (parsed.text?.includes('\u0000') || parsed.html?.includes('\u0000')) repairs.push('NUL bytes in the body removed');

  const subject = typeof parsed.headers.get('subject') === 'string' ? (parsed.headers.get('subject') as string) : (headers.get('subject') ?? '');
  const message: InboundMessage = {
    digest: extra.digest,
    fromAddresses: unique(fromAll.map((a) => a.address)),
    replyTo: addressesWithNames(headers.getAll('reply-to')),
    to,
    cc,
    deliveredTo,
    recipients: unique([...to, ...cc, ...bcc, ...deliveredTo]),
    subject: stripControls(subject).trim(),
    references: normaliseReferences(headers.getAll('references')),
    headers,
    contentType: topType.value,
    attachments: parsed.attachments,
    attachmentCount: parsed.attachmentCount,
    calendar: parsed.calendar,
    authenticationResults: [...headers.getAll('authentication-results')],
    isMultipartReport: topType.value === 'multipart/report',
    sizeBytes: extra.sizeBytes,
    repairs,
  };
  const messageId = normaliseMessageId(headers.get('message-id'));
  if (messageId) message.messageId = messageId;
  if (from) message.from = from;
  if (sender) message.sender = sender;
  const returnPath = returnPathOf(headers.get('return-path'), extra.envelope?.from);
  if (returnPath !== undefined) message.returnPath = returnPath;
  if (date) message.date = date;
  const inReplyTo = normaliseMessageId(headers.get('in-reply-to'));
  if (inReplyTo) message.inReplyTo = inReplyTo;
  if (parsed.text !== undefined) message.text = parsed.text.replace(/\u0000/g, '');
  if (parsed.html !== undefined) message.html = parsed.html.replace(/\u0000/g, '');
  if (message.isMultipartReport && topType.params['report-type']) message.reportType = topType.params['report-type'].toLowerCase();
  return message;
}

/** Headers a delivering MTA adds with the envelope recipient (the reply address lives here for Bcc'd or forwarded mail). */
const DELIVERY_HEADERS = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'x-rcpt-to', 'x-delivered-to', 'x-forwarded-to'];

function addressesWithNames(values: readonly string[]): MailAddress[] {
  if (values.length === 0) return [];
  const out: MailAddress[] = [];
  for (const entry of parseAddressHeader([...values], { flatten: true }).value) {
    const address = entry.address?.trim().toLowerCase();
    if (address) out.push({ address: stripControls(address), name: stripControls(entry.name ?? '').trim() });
  }
  return out;
}

function addressesOf(values: readonly string[]): string[] {
  return unique(addressesWithNames(values).map((a) => a.address));
}

function firstMailbox(values: readonly string[]): MailAddress | undefined {
  return addressesWithNames(values)[0];
}

function returnPathOf(header: string | undefined, envelopeFrom: string | undefined): string | undefined {
  if (envelopeFrom !== undefined) return envelopeFrom.trim().replace(/^<|>$/g, '').toLowerCase();
  if (header === undefined) return undefined;
  const inside = /<([^<>]*)>/.exec(header)?.[1] ?? header;
  return inside.trim().toLowerCase();
}

function contentTypeOf(headers: Map<string, unknown>): { value: string; params: Record<string, string> } {
  const header = headers.get('content-type') as StructuredHeader | undefined;
  const value = typeof header?.value === 'string' && header.value ? header.value.toLowerCase() : 'text/plain';
  return { value, params: header?.params ?? {} };
}

function parseDate(value: string): Date | undefined {
  const date = new Date(value.replace(/\([^()]*\)/g, ' ').trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function stripControls(value: string): string {
  return value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ');
}

/** mailparser hands header lines over as binary strings; raw UTF-8 headers (SMTPUTF8) need decoding. */
function utf8IfValid(line: string): string {
  if (!/[\u0080-\u00ff]/.test(line)) return line;
  const bytes = Buffer.from(line, 'latin1');
  return isLikelyUtf8(bytes) ? bytes.toString('utf8') : line;
}

// ── repairs for broken structure ───────────────────────────────────────────────────────────

/** Bytes of blank lines (and white space) before the first header: some MTAs and mbox tools add them. */
function leadingBlankBytes(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x0d || bytes[i] === 0x0a || bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  // Never eat the indentation of the first header line: back up to the start of its line.
  while (i > 0 && (bytes[i - 1] === 0x20 || bytes[i - 1] === 0x09)) i--;
  return i;
}

function headerEnd(bytes: Buffer): number {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return -1;
  if (crlf < 0) return lf + 2;
  if (lf < 0) return crlf + 4;
  return Math.min(crlf + 4, lf + 2);
}

function bodyOf(bytes: Buffer): Buffer {
  const end = headerEnd(bytes);
  return end < 0 ? Buffer.alloc(0) : bytes.subarray(end);
}

/** A `--delimiter` line directly followed by a part header: the boundary the sender really used. */
function discoverBoundary(bytes: Buffer): string | undefined {
  const body = bodyOf(bytes).subarray(0, 64 * 1024).toString('latin1');
  const match = /^--([\x21-\x7e]{1,70})[ \t]*\r?\n[Cc]ontent-[A-Za-z-]+[ \t]*:/m.exec(body);
  return match?.[1]?.replace(/--$/, '');
}

/** The same message with its top-level Content-Type replaced by a multipart/mixed with `boundary`. */
function withBoundary(bytes: Buffer, boundary: string): Buffer {
  const end = headerEnd(bytes);
  const head = bytes.subarray(0, end).toString('latin1');
  const kept = head.replace(/^content-type[ \t]*:.*(?:\r?\n[ \t].*)*\r?\n?/gim, '');
  return Buffer.concat([Buffer.from(`Content-Type: multipart/mixed; boundary="${boundary.replace(/"/g, '')}"\r\n`, 'latin1'), Buffer.from(kept, 'latin1'), bytes.subarray(end)]);
}

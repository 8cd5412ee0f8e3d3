/**
 * Extract step: the new text of a reply, without the quoted history, signatures and "Sent from
 * my phone". The plain-text part is used when it has any text; an HTML-only reply is converted
 * by html-to-text.ts, which also cuts the quote containers HTML clients mark.
 *
 * On the text, in this order:
 * 1. normalise: line breaks, no-break and zero-width spaces, control and bidi characters; lines
 *    that are mostly undecodable bytes are dropped;
 * 2. cut at the first quote boundary (quote-boundaries.ts) that has reply text above it —
 *    top-posting, the usual case, where everything below is history (quotes, an unquoted
 *    Outlook original, a list footer, a gateway disclaimer). A boundary with nothing above it
 *    (bottom-posting, inline answers) only removes its own lines, and the scan goes on;
 * 3. drop `>`-quoted lines (inline answers between quotes are kept);
 * 4. cut at a signature (signature-lines.ts);
 * 5. email-reply-parser (the maintained library) for what it knows beyond that: closings such as
 *    "Best regards," with the name below, and quote headers we do not. Its device-signature
 *    rule is looser than ours ("Sent from my desk, is much easier…" would go), so fragments it
 *    hides for that reason are kept: step 4 already removed the real ones.
 *
 * The library's quote-header regexes are superlinear on some inputs (a 20 kB crafted text takes
 * seconds), so it only ever sees the first MAX_REPLY_CHARS (the grammar's limit) of the new
 * text; a reply is a few lines, and a longer one is cut, with `overLimit` set so the worker
 * refuses it whole instead of applying its first part. Pure.
 */
import EmailReplyParser from 'email-reply-parser';
import { htmlReplyToText, MAX_HTML_CHARS } from './html-to-text.ts';
import type { InboundMessage } from './parse-message.ts';
import { MAX_REPLY_CHARS } from '../../site/core/reply/reply-grammar.ts';
import { findQuoteBoundary, isQuotedLine } from './quote-boundaries.ts';
import { looksLikeDeviceSignature, signatureStart } from './signature-lines.ts';

/** How much of a body is scanned for quote boundaries; the reply is at the top. */
export const MAX_SCAN_CHARS = 256 * 1024;

export interface ReplyText {
  text: string;
  source: 'text' | 'html';
  /** True when anything besides white space was removed (quote, signature, or over-long text). */
  trimmed: boolean;
  /** True when the new text ran past MAX_REPLY_CHARS (and `text` was cut). */
  overLimit?: boolean;
}

export function extractReplyText(message: Pick<InboundMessage, 'text' | 'html'>): ReplyText {
  const plain = message.text ?? '';
  if (plain.trim() !== '' || !message.html) return { ...extractFromPlainText(plain), source: 'text' };
  const html = htmlReplyToText(message.html);
  const extracted = extractFromPlainText(html.text);
  // HTML past what the converter reads, with no quote marker found before it: unread reply text.
  const unread = message.html.length > MAX_HTML_CHARS && !html.cut;
  return { ...extracted, source: 'html', trimmed: extracted.trimmed || html.cut, ...(extracted.overLimit || unread ? { overLimit: true } : {}) };
}

/** The new text of a plain-text body (steps 1–5 above). */
export function extractFromPlainText(body: string): Omit<ReplyText, 'source'> {
  const scanned = body.length > MAX_SCAN_CHARS ? body.slice(0, MAX_SCAN_CHARS) : body;
  const normal = normaliseText(scanned);
  let lines = normal.split('\n').filter((line) => !isUndecodable(line));

  // Whether reply text stands above a boundary, kept up to date as the scan moves down, so the
  // whole loop stays linear however many attributions a hostile body stacks up.
  let from = 0;
  let checked = 0;
  let textAbove = false;
  // True once everything below a point is known to be history: the unscanned rest is too.
  let restIsHistory = false;
  for (;;) {
    const boundary = findQuoteBoundary(lines, from);
    if (!boundary) break;
    for (; checked < boundary.start; checked++) {
      const line = lines[checked] ?? '';
      if (line.trim() !== '' && !isQuotedLine(line)) textAbove = true;
    }
    if (textAbove) {
      lines = lines.slice(0, boundary.start);
      restIsHistory = true;
      break;
    }
    if (boundary.kind !== 'attribution') {
      lines = []; // the message starts with the forwarded or original message: no new text
      restIsHistory = true;
      break;
    }
    for (let k = boundary.start; k < boundary.end; k++) lines[k] = '';
    from = boundary.end;
    checked = Math.max(checked, boundary.end);
  }

  lines = lines.filter((line) => !isQuotedLine(line));
  const signature = signatureStart(lines);
  if (signature >= 0) lines = lines.slice(0, signature);
  while (lines.length && /^[\s\-_=*~]*$/.test(lines[lines.length - 1] ?? '')) lines.pop();

  let text = lines.join('\n');
  // Over the limit, or cut off by the scan with no quote boundary that makes the rest history:
  // either way part of the reply would go unread, so none of it may apply.
  const overLimit = text.trim().length > MAX_REPLY_CHARS || (scanned.length < body.length && !restIsHistory);
  if (text.length > MAX_REPLY_CHARS) {
    const cut = text.lastIndexOf('\n', MAX_REPLY_CHARS);
    text = text.slice(0, cut > 0 ? cut : MAX_REPLY_CHARS);
  }
  const result = tidy(withLibrary(text));
  const trimmed = scanned.length < body.length || visibleLength(result) < visibleLength(normal);
  return { text: result, trimmed, ...(overLimit ? { overLimit } : {}) };
}

function withLibrary(text: string): string {
  if (text.trim() === '') return '';
  const fragments = new EmailReplyParser().read(text).getFragments();
  const kept = fragments.filter((fragment) => {
    if (!fragment.isHidden()) return true;
    if (fragment.isQuoted() || !fragment.isSignature()) return false;
    const first = fragment.getContent().split('\n').find((line) => line.trim() !== '') ?? '';
    return looksLikeDeviceSignature(first);
  });
  return kept.map((fragment) => fragment.getContent()).join('\n');
}

// Characters that are invisible, or would make text display as something else.
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const SPACES = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;

/** Line breaks to \n, odd spaces to spaces, invisible characters gone, trailing blanks cut. */
export function normaliseText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(INVISIBLE, '')
    .replace(SPACES, ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n');
}

/**
 * A line that is mostly bytes no charset could decode (U+FFFD): binary junk, for instance what
 * a lenient base64 decoder makes of garbage. Nobody wrote it, so it is not reply text. A line of
 * real words in the wrong charset keeps most of its letters and stays.
 */
function isUndecodable(line: string): boolean {
  let bad = 0;
  for (const c of line) if (c === '\ufffd') bad++;
  return bad >= 3 && bad >= 0.4 * line.replace(/\s+/g, '').length;
}

function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}

function visibleLength(text: string): number {
  return text.replace(/\s+/g, '').length;
}

/**
 * Where the quoted original starts in a plain-text reply: the line-level patterns mail clients
 * write above the history they quote. Three kinds:
 *
 * - `attribution`: "On <date>, <name> wrote:" and its translations, often wrapped over two or
 *   three lines by the client ("On Mon, Aug 26, 2019 at 4:37 PM The Hiring Engine <" /
 *   "a-really-long-address@example.com> wrote:"). Recognised by the line it ends on (the verb)
 *   and the nearest line above that starts like one ("On", "Am", "Le", a date…), so a line of the
 *   reply just above is never swallowed. Also the generic form: a line ending in ":" that holds
 *   a date or time and is followed by a `>` quote, whatever the language.
 * - `separator`: "-----Original Message-----", "---------- Forwarded message ---------" and
 *   their translations.
 * - `header-block`: the unquoted From:/Sent:/To:/Subject: block of Outlook and webmails, in
 *   several languages, including bold `*From:*` and `From: Name [mailto:…]`.
 * - `own-email`: Twofold's own email pasted back without `>` (a client that quotes by
 *   indentation, or an attribution no pattern knows): the line above its commands block, and
 *   for a task email the "Due: …" fields and "T13: …" heading above that, so the commands it
 *   lists and its due date are never read as the reply.
 *
 * Only unquoted, non-blank lines are examined, windows are at most three lines and 400
 * characters, so every test is linear in the text.
 */

import { TASK_ID } from '../../site/core/plan/plan-schema.ts';
import { REPLY_INTROS, wrap } from '../mail/email-layout.ts';

export type QuoteBoundaryKind = 'attribution' | 'separator' | 'header-block' | 'own-email';

export interface QuoteBoundary {
  kind: QuoteBoundaryKind;
  /** First line of the marker. */
  start: number;
  /** Line after the marker itself (the quoted original follows from here). */
  end: number;
}

const MAX_WINDOW_LINES = 3;
const MAX_WINDOW_CHARS = 400;

/**
 * A `>`-quoted line. The one exception is a lone `>:`, which is not a quote but the tail of an
 * attribution that Gmail wrapped just before the closing bracket of the address.
 */
export function isQuotedLine(line: string): boolean {
  return /^[ \t]*>/.test(line) && !/^[ \t]*>[ \t]*[:：][ \t]*$/.test(line);
}

function isContentLine(line: string | undefined): line is string {
  return line !== undefined && line.trim() !== '' && !isQuotedLine(line);
}

/** The first quote boundary at or after line `from`, or undefined. */
export function findQuoteBoundary(lines: readonly string[], from = 0): QuoteBoundary | undefined {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i];
    if (!isContentLine(line) || line.length > MAX_WINDOW_CHARS) continue;
    if (SEPARATOR.test(line)) return { kind: 'separator', start: i, end: i + 1 };
    const own = ownEmailAt(lines, i, from);
    if (own) return own;
    const block = headerBlockAt(lines, i, from);
    if (block) return block;
    const attribution = attributionEndingAt(lines, i, from);
    if (attribution) return attribution;
  }
  return undefined;
}

// ── separators ─────────────────────────────────────────────────────────────────────────────

const SEPARATOR_PHRASES = [
  'original message', 'original-nachricht', 'ursprüngliche nachricht', "message d'origine", 'message original', 'mensaje original',
  'mensagem original', 'messaggio originale', 'oorspronkelijk bericht', 'origineel bericht', 'originalmeddelande', 'ursprungligt meddelande',
  'opprinnelig melding', 'oprindelig meddelelse', 'oprindelig besked', 'alkuperäinen viesti', 'исходное сообщение', 'пересылаемое сообщение',
  'oryginalna wiadomość', 'původní zpráva', 'eredeti üzenet', 'orijinal ileti', '原始邮件', '原始郵件', '元のメッセージ', '원본 메시지',
  'forwarded message', 'weitergeleitete nachricht', 'message transféré', 'mensaje reenviado', 'messaggio inoltrato', 'doorgestuurd bericht',
  'mensagem encaminhada', 'vidarebefordrat meddelande', 'videresendt melding', 'begin forwarded message', 'anfang der weitergeleiteten nachricht',
  'début du message réexpédié',
];
const SEPARATOR = new RegExp(`^[\\s\\-=_*~]*[\\[(]?\\s*(?:${SEPARATOR_PHRASES.map(escape).join('|')})\\s*[\\])]?[\\s\\-=_*~:]*$`, 'iu');

// ── Twofold's own email ────────────────────────────────────────────────────────────────────

const OWN_INTRO_LINES = Object.values(REPLY_INTROS).map((intro) => wrap(intro)[0]!);
/** A task email's fields start with its due date; its heading is the task id and title. */
const OWN_FIELDS = /^Due: /;
const OWN_HEADING = new RegExp(`^${TASK_ID.source.replace(/^\^|\$$/g, '')}: \\S`);

function ownEmailAt(lines: readonly string[], i: number, from: number): QuoteBoundary | undefined {
  const line = (lines[i] ?? '').trim();
  if (!OWN_INTRO_LINES.some((intro) => line.startsWith(intro))) return undefined;
  // The fields ("Due: …", then Status, Reason, Owner) sit just above the commands, the heading
  // ("T13: title", wrapped) just above them, with or without blank lines between (HTML and some
  // clients drop them). Only the nearest heading is taken: a reply line above it stays.
  const due = nearestAbove(lines, i, from, OWN_FIELDS);
  if (due === undefined) return { kind: 'own-email', start: i, end: i + 1 };
  const start = nearestAbove(lines, due, from, OWN_HEADING) ?? due;
  return { kind: 'own-email', start, end: i + 1 };
}

/** The nearest line above `i`, within OWN_REACH lines, that matches `pattern`. */
function nearestAbove(lines: readonly string[], i: number, from: number, pattern: RegExp): number | undefined {
  for (let k = i - 1; k >= from && k >= i - OWN_REACH; k--) if (pattern.test(lines[k] ?? '')) return k;
  return undefined;
}

/** How far above the commands the fields, and above the fields the heading, may be (40-column wraps, blank lines). */
const OWN_REACH = 8;

// ── header blocks ──────────────────────────────────────────────────────────────────────────

const FROM_KEYS = [
  'from', 'von', 'de', 'van', 'fra', 'från', 'da', 'od', 'от', 'від', 'lähettäjä', 'feladó', 'kimden', 'nadawca', 'odesílatel',
  'expéditeur', 'remitente', 'mittente', 'afzender', 'avsändare', 'remetente', '差出人', '送信者', '发件人', '寄件者', '보낸 사람',
];
const OTHER_KEYS = [
  'sent', 'date', 'to', 'cc', 'bcc', 'subject', 'reply-to', 'sent by', 'gesendet', 'datum', 'an', 'betreff', 'envoyé', 'à', 'a', 'objet',
  'enviado', 'para', 'asunto', 'fecha', 'verzonden', 'verstuurd', 'aan', 'onderwerp', 'sendt', 'til', 'emne', 'skickat', 'till', 'ämne',
  'inviato', 'oggetto', 'data', 'assunto', 'lähetetty', 'vastaanottaja', 'aihe', 'päivämäärä', 'отправлено', 'кому', 'тема', 'дата',
  'wysłano', 'do', 'temat', 'odesláno', 'komu', 'předmět', 'elküldve', 'címzett', 'tárgy', 'gönderildi', 'kime', 'konu',
  '送信日時', '宛先', '件名', '日付', '发送时间', '收件人', '主题', '日期', '傳送時間', '收件者', '主旨', '받는 사람', '제목', '날짜',
];
const keyPattern = (keys: readonly string[]) =>
  new RegExp(`^[ \\t]*[*_]{0,2}(?:${keys.map(escape).join('|')})[*_]{0,2}[ \\t]*[:：][*_]{0,2}(?:[ \\t]|$)`, 'iu');
const FROM_LINE = keyPattern(FROM_KEYS);
const HEADER_LINE = keyPattern([...FROM_KEYS, ...OTHER_KEYS]);
/** How far below the From line the next header field may be (a wrapped name or address sits between). */
const HEADER_BLOCK_REACH = 4;

function headerBlockAt(lines: readonly string[], i: number, from: number): QuoteBoundary | undefined {
  const line = lines[i] ?? '';
  if (!FROM_LINE.test(line)) return undefined;
  let fields = 0;
  for (let k = i + 1; k < lines.length && k <= i + HEADER_BLOCK_REACH; k++) {
    const next = lines[k] ?? '';
    if (isQuotedLine(next)) break;
    if (next.length <= MAX_WINDOW_CHARS && HEADER_LINE.test(next)) fields++;
  }
  let start = i;
  while (start - 1 >= from && HEADER_LINE.test(lines[start - 1] ?? '') && (lines[start - 1] ?? '').length <= MAX_WINDOW_CHARS) {
    start--;
    fields++;
  }
  return fields >= 1 ? { kind: 'header-block', start, end: i + 1 } : undefined;
}

// ── attributions ───────────────────────────────────────────────────────────────────────────

interface Attribution {
  /** How the first line of the attribution starts. */
  start: RegExp;
  /** How the attribution ends (tested on the whole window, lines joined by spaces). */
  end: RegExp;
}

const DATEISH = /\d/;
const LOCALIZED: readonly Attribution[] = [
  { start: /^[\s\-]*On\s/i, end: /(?<!\p{L})wrote\s*:[\s\-]*$/iu }, // English
  { start: /^[\s\-]*Am\s/i, end: /(?<!\p{L})schrieb(?!\p{L})[^:]{0,200}:\s*$/iu }, // German
  { start: /^[\s\-]*Le\s/i, end: /(?<!\p{L})écrit\s*:\s*$/iu }, // French
  { start: /^[\s\-]*El\s/i, end: /(?<!\p{L})escribió\s*:\s*$/iu }, // Spanish
  { start: /^[\s\-]*(?:Il|In data)\s/i, end: /(?<!\p{L})scritto\s*:\s*$/iu }, // Italian
  { start: /^[\s\-]*Op\s/i, end: /(?<!\p{L})schreef(?!\p{L})[^:]{0,200}:\s*$/iu }, // Dutch
  { start: /^[\s\-]*(?:Em|No dia)\s/i, end: /(?<!\p{L})escreveu\s*:\s*$/iu }, // Portuguese
  { start: /^[\s\-]*(?:(?:ma|ti|ke|to|pe|la|su)\.?\s+)?\d/i, end: /(?<!\p{L})kirjoitti\s*:\s*$/iu }, // Finnish
  { start: /^[\s\-]*(?:Den\s|\p{L}{2,4}\.?\s+\d|\d)/iu, end: /(?<!\p{L})skrev(?!\p{L})[^:]{0,200}:\s*$/iu }, // Swedish, Norwegian, Danish
  { start: /^[\s\-]*(?:W dniu|Dnia)\s/i, end: /(?:pisze|napisał\(a\)|napisała|napisał)\s*:\s*$/iu }, // Polish
  { start: /^[\s\-]*Dne\s/i, end: /napsal(?:\(a\)|a)?\s*:\s*$/iu }, // Czech
  { start: /^[\s\-]*(?:\d|\p{L}{2,3},?\s+\d)/u, end: /(?:написал\(а\)|написала|написал|пишет|написав)\s*:\s*$/iu }, // Russian, Ukrainian
  { start: /^[\s\-]*\d/, end: /(?<!\p{L})írta\s*:\s*$/iu }, // Hungarian
  { start: /^[\s\-]*\d/, end: /(?<!\p{L})yazdı\s*:\s*$/iu }, // Turkish
  { start: /^\s*(?:在|於|于)/u, end: /(?:写道|寫道)\s*[:：]\s*$/u }, // Chinese
  { start: /^\s*\S/u, end: /@[^\s<>]+>\s*(?:于|於|在)\s*\d{4}\s*年.{0,80}?(?:写道|寫道)\s*[:：]\s*$/u }, // Chinese, Gmail: "Name <addr> 于2026年12月3日周四 09:00写道："
  { start: /^\s*\d{4}\s*年/u, end: /@[^\s<>]+>\s*[:：]\s*$/u }, // Japanese, Gmail: "2026年12月3日(木) 9:00 Name <addr>:"
  { start: /^\s*\d{4}/, end: /(?:のメッセージ|は書きました|書きました|wrote)\s*[:：]\s*$/iu }, // Japanese
  { start: /^\s*\d{4}/, end: /작성\s*[:：]?\s*$/u }, // Korean
];
// "Name <name@example.com> wrote:" and translations, on one line, without a date.
const NAME_WROTE = /@[^\s>]+>?\)?\s*(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|kirjoitti|skrev|napisał|написал)\s*:\s*$/iu;
// Every attribution ends in a colon (Korean may leave it out): a cheap test before the others.
const MAY_END_ATTRIBUTION = /(?:[:：]|작성)\s*$/u;

// The generic attribution: any language, a date or time in it, a `>` quote right below.
const TIME_OR_YEAR = /\b\d{1,2}[:.h]\d{2}\b|\b(?:19|20)\d{2}\b/;
const ENDS_WITH_COLON = /[:：]\s*$/;

function attributionEndingAt(lines: readonly string[], e: number, from: number): QuoteBoundary | undefined {
  const last = lines[e] ?? '';
  if (!MAY_END_ATTRIBUTION.test(last)) return undefined;
  // Windows of one to three lines ending at e, shortest first: the first match is the one that
  // starts nearest to e, so a reply line above the attribution is never taken into it.
  const windows: Array<{ start: number; text: string }> = [];
  for (let s = e; s >= Math.max(from, e - MAX_WINDOW_LINES + 1); s--) {
    if (!isContentLine(lines[s])) break;
    const text = lines.slice(s, e + 1).join(' ').replace(/\s+/g, ' ');
    if (text.length > MAX_WINDOW_CHARS) break;
    windows.push({ start: s, text });
  }
  for (const { start, text } of windows) {
    if (!DATEISH.test(text) && !text.includes('@')) continue;
    const first = lines[start] ?? '';
    if (LOCALIZED.some((a) => a.start.test(first) && a.end.test(text))) return { kind: 'attribution', start, end: e + 1 };
  }
  if (windows[0] && NAME_WROTE.test(windows[0].text)) return { kind: 'attribution', start: e, end: e + 1 };
  if (ENDS_WITH_COLON.test(last) && quoteFollows(lines, e)) {
    const dated = windows.find((w) => TIME_OR_YEAR.test(w.text));
    if (dated) return { kind: 'attribution', start: dated.start, end: e + 1 };
  }
  return undefined;
}

/** The next non-blank line after `e` (within two blank lines) is a `>` quote. */
function quoteFollows(lines: readonly string[], e: number): boolean {
  for (let k = e + 1; k < lines.length && k <= e + 3; k++) {
    const line = lines[k] ?? '';
    if (line.trim() === '') continue;
    return isQuotedLine(line);
  }
  return false;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Due dates written in replies → one calendar day (YYYY-MM-DD) in the plan's time zone.
 *
 * What is accepted (and why):
 * - Year-first numeric dates, `2026-12-18` (also `2026/12/18`): nobody writes year-day-month.
 * - A month written as a word: `Dec 18`, `18 December`, `Friday, December 18th 2026`.
 * - Natural language through chrono-node: `tomorrow`, `friday`, `next friday` (the Friday of
 *   next week), `in 2 weeks`, `end of month`, plus a few business phrases chrono lacks
 *   (`eod`, `eow`/`end of week` = Friday, `eom`, `end of quarter`, `end of year`).
 * - A date without a year is the next such date (`Dec 1` written on Dec 5 is next year's).
 *
 * What is refused: dates written with numbers only and no year first (`3/4`, `18/12`,
 * `12/18/2026`, `18.12.`). `3/4` is March 4 in the US and 3 April elsewhere; `18/12` can only be
 * one date, but accepting it would teach a sender that numeric dates work until the day one is
 * silently misread. One rule is easier to explain: numbers-only dates are always refused, with
 * the readings spelled out in the answer.
 *
 * "Today" is the email's Date header read in the plan's time zone, never the server's: chrono
 * gets a reference whose local wall clock equals the plan-zone wall clock, and only calendar
 * fields (year, month, day) are read back from it.
 */
import * as chrono from 'chrono-node';
import { DateTime } from 'luxon';
import type { ErrorCode } from '../errors/error-catalog.ts';
import { cleanReplyValue, wordKey } from './reply-command.ts';

/** A date needs a few words; longer text is not a date and is not handed to chrono. */
export const MAX_DATE_TEXT = 80;
/** Dates further out than this are typos (2062 for 2026). */
export const MAX_DUE_YEARS_AHEAD = 5;
const EARLIEST = '2000-01-01';

export interface ReplyDateContext {
  /** The plan's IANA time zone. */
  timezone: string;
  /** The instant the sender wrote relative dates against (the email's Date header). */
  sentAt: Date;
}

export type ReplyDateResult =
  | { ok: true; date: string }
  | { ok: false; code: Extract<ErrorCode, 'REPLY_BAD_DATE' | 'REPLY_DATE_AMBIGUOUS'>; message: string; hint?: string };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const YEAR_FIRST = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/;
const YEAR_FIRST_ANYWHERE = /\d{4}[-/.]\d{1,2}[-/.]\d{1,2}/g;
// `3/4`, `18.12.`, `12-18-2026`: numbers only. A trailing am/pm makes `5.30pm` a time, not a date.
const NUMERIC_DAY_MONTH = /(?<!\d)(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?(?!\d|\s?[ap]\.?m\b)/i;
/** Words around a date (`friday hopefully`) are allowed, a few of them and no digits. */
const MAX_LEFTOVER_WORDS = 3;
/** With `whole`, only these may surround the date (`by friday at the latest`). */
const AROUND_A_DATE = new Set(['by', 'on', 'before', 'at', 'the', 'latest', 'please', 'hopefully', 'probably', 'now']);

type Phrase = (today: DateTime) => DateTime;
const friday = (d: DateTime) => (d.weekday > 5 ? d.plus({ weeks: 1 }) : d).set({ weekday: 5 });
/** Business phrases chrono does not know; keys are lowercased words. */
const PHRASES = new Map<string, Phrase>();
for (const k of ['eod', 'end of day', 'end of the day', 'end of today', 'cob', 'close of business', 'end of business', 'eob']) PHRASES.set(k, (d) => d);
for (const k of ['eow', 'end of week', 'end of the week', 'end of this week']) PHRASES.set(k, friday);
for (const k of ['end of next week']) PHRASES.set(k, (d) => friday(d).plus({ weeks: 1 }));
for (const k of ['eom', 'end of month', 'end of the month', 'end of this month']) PHRASES.set(k, (d) => d.endOf('month'));
for (const k of ['end of next month']) PHRASES.set(k, (d) => d.plus({ months: 1 }).endOf('month'));
for (const k of ['eoq', 'end of quarter', 'end of the quarter', 'end of this quarter']) PHRASES.set(k, (d) => d.endOf('quarter'));
for (const k of ['eoy', 'end of year', 'end of the year', 'end of this year']) PHRASES.set(k, (d) => d.endOf('year'));

const bad = (message: string, hint?: string): ReplyDateResult => ({ ok: false, code: 'REPLY_BAD_DATE', message, ...(hint ? { hint } : {}) });

/**
 * The calendar day a reply's date text means, or why it cannot be read. Pure and bounded.
 * `whole`: the text must be a date and nothing more (no "by", "at the latest" around it).
 */
export function parseReplyDate(text: string, context: ReplyDateContext, options: { whole?: boolean } = {}): ReplyDateResult {
  const value = cleanReplyValue(text).replace(/[.!,;]+$/, '').trim();
  if (!value) return bad('`due` needs a date', 'Write `due: Dec 18`, `due: friday` or `due: 2026-12-18`.');
  if (value.length > MAX_DATE_TEXT) return bad(`"${value.slice(0, 40)}…" is too long to be a date`);
  const today = DateTime.fromJSDate(context.sentAt, { zone: context.timezone });
  if (!today.isValid) return bad('the email has no usable date to count from');

  const resolved = resolve(value, today, options.whole ?? false);
  if (!resolved.ok) return resolved;
  const date = resolved.date;
  const latest = today.plus({ years: MAX_DUE_YEARS_AHEAD }).toISODate()!;
  if (date < EARLIEST || date > latest) return bad(`"${value}" reads as ${date}, which is not a plausible due date`, 'Check the year.');
  return { ok: true, date };
}

function resolve(value: string, today: DateTime, whole: boolean): ReplyDateResult {
  const ymd = YEAR_FIRST.exec(value);
  if (ymd) return calendarDay(Number(ymd[1]), Number(ymd[2]), Number(ymd[3]), value);

  const key = words(value);
  const phrase = PHRASES.get(key);
  if (phrase) return { ok: true, date: phrase(today).toISODate()! };

  const numeric = NUMERIC_DAY_MONTH.exec(value.replace(YEAR_FIRST_ANYWHERE, ' '));
  if (numeric) return ambiguous(numeric[0], Number(numeric[1]), Number(numeric[2]));

  // chrono reads "from today" as two dates ("a week" and "today"); "from now" is one.
  const input = value.replace(/\bfrom today\b/gi, 'from now');
  const reference = new Date(today.year, today.month - 1, today.day, today.hour, today.minute, today.second);
  const results = chrono.parse(input, reference, { forwardDate: true });
  if (results.length === 0) return bad(`"${value}" is not a date Twofold can read`);
  if (results.length > 1) return bad(`"${value}" names more than one date (${results.map((r) => `"${r.text}"`).join(', ')}) — give one`);
  const result = results[0]!;
  const leftover = words(input.slice(0, result.index) + ' ' + input.slice(result.index + result.text.length));
  const extra = leftover ? leftover.split(' ') : [];
  const tooMuch = whole ? extra.some((w) => !AROUND_A_DATE.has(w)) : extra.length > MAX_LEFTOVER_WORDS;
  if (/\d/.test(leftover) || tooMuch) return bad(`could not read all of "${value}" as one date`);
  const start = result.start;
  if (!start.isCertain('day') && !start.isCertain('weekday')) {
    return bad(`"${value}" does not say which day`, 'Name the day: `due: Jan 15`, `due: end of next month`, `due: friday`.');
  }
  return calendarDay(start.get('year')!, start.get('month')!, start.get('day')!, value);
}

function calendarDay(year: number, month: number, day: number, value: string): ReplyDateResult {
  const d = DateTime.fromObject({ year, month, day }, { zone: 'UTC' });
  if (!d.isValid) return bad(`"${value}" is not a calendar date`);
  return { ok: true, date: d.toISODate()! };
}

function ambiguous(written: string, a: number, b: number): ReplyDateResult {
  const readings: string[] = [];
  if (a >= 1 && a <= 12 && b >= 1 && b <= 31) readings.push(`${MONTHS[a - 1]} ${b}`);
  if (b >= 1 && b <= 12 && a >= 1 && a <= 31 && a !== b) readings.push(`${a} ${MONTHS[b - 1]}`);
  const hint = 'Write the month as a word (`Dec 18`) or the date as YYYY-MM-DD (`2026-12-18`).';
  if (readings.length === 2) return { ok: false, code: 'REPLY_DATE_AMBIGUOUS', message: `"${written}" could mean ${readings[0]} or ${readings[1]}`, hint };
  if (readings.length === 1) return { ok: false, code: 'REPLY_DATE_AMBIGUOUS', message: `"${written}" is written with numbers only; if you mean ${readings[0]}, write that`, hint };
  return { ok: false, code: 'REPLY_DATE_AMBIGUOUS', message: `"${written}" is written with numbers only and is not a date either way`, hint };
}

/** Lowercase words only: `By End-of-Month!` → `by end of month`, minus leading fillers. */
function words(text: string): string {
  let out = wordKey(text);
  for (let i = 0; i < 3; i++) {
    const next = out.replace(/^(?:by|on|before|at|the|until|till)\s+/, '');
    if (next === out) break;
    out = next;
  }
  return out;
}

/** Human-readable dates and spans for portals and emails, fixed to en-US for stable output. */
import { DateTime } from 'luxon';

const LOCALE = 'en-US';

/** "Mon, Dec 14, 2026" for a calendar date (YYYY-MM-DD). */
export function formatDay(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).setLocale(LOCALE).toFormat('ccc, LLL d, yyyy');
}

/** "Dec 14" */
export function formatShortDay(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).setLocale(LOCALE).toFormat('LLL d');
}

/** "Tue, Dec 15, 2026, 10:00 AM CST" for an instant shown in a zone. */
export function formatInstant(instant: Date | string, zone: string): string {
  const dt = typeof instant === 'string' ? DateTime.fromISO(instant, { zone }) : DateTime.fromJSDate(instant, { zone });
  return dt.setLocale(LOCALE).toFormat('ccc, LLL d, yyyy, h:mm a ZZZZ');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "today", "1 day", "12 days" */
export function formatAge(days: number): string {
  return days <= 0 ? 'today' : plural(days, 'day');
}

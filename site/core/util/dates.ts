/**
 * Calendar dates and instants in a plan's time zone. Every date in a plan is a calendar date
 * (YYYY-MM-DD) read in the plan's IANA time zone; instants are computed with Luxon, never with
 * the server's TZ.
 */
import { DateTime, Duration, IANAZone } from 'luxon';

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** `+7d`, `+2w` (calendar days or weeks after the plan's start). */
export const RELATIVE_DATE = /^\+(\d{1,4})([dw])$/;
/** `3d`, `2w`, `36h` — a span used by escalation thresholds and reminders. */
export const SPAN = /^(\d{1,4})([hdw])$/;

export function isValidTimeZone(zone: string): boolean {
  return typeof zone === 'string' && zone.length > 0 && IANAZone.isValidZone(zone);
}

/** True for a real calendar date written as YYYY-MM-DD (rejects 2026-02-30). */
export function isIsoDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  return DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/** A YAML 1.1 parser (Astro's) hands dates over as Date objects at UTC midnight. */
export function dateToIso(value: Date): string {
  return value.toISOString().slice(0, 10);
}

export function isDateOrRelative(value: string): boolean {
  return isIsoDate(value) || RELATIVE_DATE.test(value);
}

/** Resolve `+7d` against `start`; absolute dates pass through. Returns YYYY-MM-DD. */
export function resolveDate(value: string, start: string): string {
  const rel = RELATIVE_DATE.exec(value);
  if (!rel) return value;
  const n = Number(rel[1]);
  const days = rel[2] === 'w' ? n * 7 : n;
  return addDays(start, days);
}

export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
}

/** Whole calendar days from `a` to `b` (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  const da = DateTime.fromISO(a, { zone: 'UTC' });
  const db = DateTime.fromISO(b, { zone: 'UTC' });
  return Math.round(db.diff(da, 'days').days);
}

export function spanToDuration(span: string): Duration {
  const m = SPAN.exec(span);
  if (!m) throw new Error(`not a span: ${span}`);
  const n = Number(m[1]);
  return m[2] === 'h' ? Duration.fromObject({ hours: n }) : m[2] === 'w' ? Duration.fromObject({ weeks: n }) : Duration.fromObject({ days: n });
}

/** The calendar date of an instant in a zone. */
export function dateInZone(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate()!;
}

/** The instant of a wall-clock time on a date in a zone (DST-correct). */
export function instantAt(date: string, time: string, zone: string): Date {
  return DateTime.fromISO(`${date}T${time}`, { zone }).toJSDate();
}

export function compareIso(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

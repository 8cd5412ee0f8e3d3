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

/** Zone checks ask Intl, which is slow; plans repeat a handful of zones. */
const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > 64) return false;
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 1_000) zoneValidity.set(zone, valid);
  }
  return valid;
}

const DAY_MS = 86_400_000;

/**
 * Calendar-date arithmetic on day numbers (days since 1970-01-01): plans do it for every task on
 * every validation, and Luxon objects are far too slow for that. Zones matter only when an
 * instant becomes a date (dateInZone) or a date and time become an instant (instantAt).
 */
function dayNumber(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** True for a real calendar date written as YYYY-MM-DD (rejects 2026-02-30). */
export function isIsoDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const day = dayNumber(value);
  return Number.isInteger(day) && dayToIso(day) === value;
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
  return dayToIso(dayNumber(date) + days);
}

/** Whole calendar days from `a` to `b` (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  return dayNumber(b) - dayNumber(a);
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

/** The English weekday name of a calendar date, lowercase (`monday`), as plans write `working_days`; a date's weekday needs no zone. */
export function weekdayOf(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).setLocale('en-US').toFormat('cccc').toLowerCase();
}

export function compareIso(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The `--now` option every command that depends on today takes. A calendar date means "that
 * day, in every plan's time zone" (so `--now 2026-12-03` gives the same today to a plan in
 * Tokyo and one in Chicago); a date-time with an offset (or Z) is an instant, and each plan
 * reads its today from it in its own zone. A date-time without an offset is read as UTC, never
 * in the server's zone.
 */
import { DateTime } from 'luxon';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { dateInZone, isIsoDate } from '../../site/core/util/dates.ts';

export interface CliClock {
  instant: Date;
  /** Set when `--now` was a calendar date: today in every zone. */
  date?: string;
}

export const NOW_OPTION_DOC = '--now <date|time>  fix the clock: YYYY-MM-DD (that day in every plan\'s zone) or an ISO time such as 2026-12-03T09:00:00-06:00 (without an offset: UTC) (default: the real time)';

export function clockFromOption(value: string | undefined, realNow: () => Date = () => new Date()): CliClock {
  if (value === undefined) return { instant: realNow() };
  const v = value.trim();
  if (isIsoDate(v)) return { instant: DateTime.fromISO(`${v}T12:00:00`, { zone: 'UTC' }).toJSDate(), date: v };
  const dt = DateTime.fromISO(v, { zone: 'UTC', setZone: true });
  if (!dt.isValid || !/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    throw new TwofoldError('CLI_BAD_DATE', `--now "${v.slice(0, 60)}" is neither a date (YYYY-MM-DD) nor an ISO time`);
  }
  return { instant: dt.toJSDate() };
}

/** Today (YYYY-MM-DD) for a plan in `zone`. */
export function todayIn(clock: CliClock, zone: string): string {
  return clock.date ?? dateInZone(clock.instant, zone);
}

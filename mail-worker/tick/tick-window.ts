/**
 * When the scheduler may send for a plan: on the plan's working days (`schedule.working_days`),
 * inside its working hours (`schedule.working_hours`, where the plan format says emails fall) and
 * outside the worker's quiet hours (`tick.quiet_hours`), all read in the plan's time zone. Pure.
 *
 * Outside that window nothing goes out and nothing is recorded: what was due waits for the next
 * tick inside the window (a reply confirmation is the only email that ignores the window, and it
 * is not the scheduler's).
 *
 * A span `HH:MM-HH:MM` whose end is earlier than its start wraps past midnight ("19:00-08:00").
 * A span whose start equals its end means "all day" for working hours and "none" for quiet hours.
 */
import { DateTime } from 'luxon';
import { WORKING_HOURS } from '../../site/core/plan/plan-schema.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { addDays, dateInZone, instantAt, weekdayOf } from '../../site/core/util/dates.ts';

/** The worker's default quiet hours: the default of `tick.quiet_hours` (mail-worker/config/worker-config.ts). */
export const DEFAULT_QUIET_HOURS = '19:00-08:00';
/** How far ahead `nextOpening` looks (a plan has at least one working day a week). */
const MAX_DAYS_AHEAD = 14;
const MINUTES_PER_DAY = 24 * 60;

export type TickClosedReason = 'non-working-day' | 'outside-working-hours' | 'quiet-hours';

export interface TickWindow {
  open: boolean;
  /** Why nothing may go out now (absent when open). */
  reason?: TickClosedReason;
  /** Today in the plan's zone (YYYY-MM-DD). */
  today: string;
  /** The wall-clock time in the plan's zone (HH:MM). */
  local: string;
}

type Range = [start: number, end: number];

/** Minutes of the day a span covers, as half-open ranges within one day. */
function spanRanges(span: string, equalMeans: 'all' | 'none'): Range[] {
  if (!WORKING_HOURS.test(span.trim())) throw new Error(`not a span of hours: ${span}`);
  const [start, end] = span.trim().split('-').map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5))) as [number, number];
  if (start === end) return equalMeans === 'all' ? [[0, MINUTES_PER_DAY]] : [];
  return start < end ? [[start, end]] : [[start, MINUTES_PER_DAY], [0, end]];
}

/** The minutes of a working day when sending is allowed: working hours minus quiet hours. */
export function openRanges(schedule: Plan['schedule'], quietHours: string): Range[] {
  let open = spanRanges(schedule.working_hours, 'all');
  for (const [qs, qe] of spanRanges(quietHours, 'none')) {
    open = open.flatMap(([s, e]): Range[] => {
      if (qe <= s || qs >= e) return [[s, e]];
      const parts: Range[] = [];
      if (qs > s) parts.push([s, qs]);
      if (qe < e) parts.push([qe, e]);
      return parts;
    });
  }
  return open.sort((a, b) => a[0] - b[0]);
}

export function isWorkingDay(schedule: Plan['schedule'], date: string): boolean {
  return (schedule.working_days as readonly string[]).includes(weekdayOf(date));
}

function inRanges(ranges: Range[], minute: number): boolean {
  return ranges.some(([s, e]) => minute >= s && minute < e);
}

function inside(span: string, minute: number, equalMeans: 'all' | 'none'): boolean {
  return inRanges(spanRanges(span, equalMeans), minute);
}

/** May the scheduler send for this plan at `now`? */
export function tickWindow(plan: Pick<Plan, 'schedule' | 'timezone'>, now: Date, quietHours: string): TickWindow {
  const local = DateTime.fromJSDate(now, { zone: plan.timezone });
  const today = local.toISODate()!;
  const minute = local.hour * 60 + local.minute;
  const base = { today, local: local.toFormat('HH:mm') };
  if (!isWorkingDay(plan.schedule, today)) return { ...base, open: false, reason: 'non-working-day' };
  if (inside(quietHours, minute, 'none')) return { ...base, open: false, reason: 'quiet-hours' };
  if (!inside(plan.schedule.working_hours, minute, 'all')) return { ...base, open: false, reason: 'outside-working-hours' };
  return { ...base, open: true };
}

/** The first instant at or after `from` inside the plan's window, or undefined when none is near. */
export function nextOpening(plan: Pick<Plan, 'schedule' | 'timezone'>, from: Date, quietHours: string): Date | undefined {
  const ranges = openRanges(plan.schedule, quietHours);
  const local = DateTime.fromJSDate(from, { zone: plan.timezone });
  const today = local.toISODate()!;
  const minute = local.hour * 60 + local.minute;
  for (let d = 0; d <= MAX_DAYS_AHEAD; d++) {
    const date = addDays(today, d);
    if (!isWorkingDay(plan.schedule, date)) continue;
    for (const [s, e] of ranges) {
      if (d === 0 && minute >= e) continue;
      if (d === 0 && minute >= s) return from;
      const at = instantAt(date, clock(s), plan.timezone);
      // A start that a daylight-saving gap skips moves forward; it must still be that day.
      if (dateInZone(at, plan.timezone) === date) return at;
    }
  }
  return undefined;
}

/**
 * The instant a date-only `--now` stands for in a plan: the first moment of that day inside the
 * plan's window (so `tick --now 2026-03-09` behaves like a tick during that working day), else
 * the start of the plan's working hours (a closed day stays closed).
 */
export function momentOnDay(plan: Pick<Plan, 'schedule' | 'timezone'>, date: string, quietHours: string): Date {
  const dayStart = instantAt(date, '00:00', plan.timezone);
  const opening = nextOpening(plan, dayStart, quietHours);
  if (opening && dateInZone(opening, plan.timezone) === date) return opening;
  return instantAt(date, plan.schedule.working_hours.slice(0, 5), plan.timezone);
}

function clock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

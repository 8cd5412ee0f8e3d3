/**
 * When each milestone check-in happens, who is invited and what the invite says. Pure: the plan,
 * its records and "now" in, check-ins out. The mail worker, `twofold invite`, `twofold status`
 * and the portal's "add to calendar" all read check-ins from here, so they agree.
 *
 * Rules (the README's "Calendar check-ins" section says the same):
 * - `at-due`: on the stage's due date at `checkin.at`, default the start of
 *   `schedule.working_hours`; `allday: true` makes it an all-day event on that date.
 * - `on-complete`: pending (no time) until every task of the stage is done. Then it falls on the
 *   ON_COMPLETE_DELAY_WORKING_DAYS-th working day (`schedule.working_days`) after the day the
 *   stage completed, at `checkin.at` or the start of working hours. The completion day is the
 *   latest of the tasks' `done:` dates and `records.stages[id].completedAt` (a stage reopened
 *   and done again counts from the later completion); with neither, it is today, and
 *   `planInvites` stores that day as `completedAt` so the time does not drift on later runs.
 *   A stage with no tasks never completes. Whole days, not hours, so every attendee has at
 *   least the rest of the completion day to see the invite, and the meeting is never squeezed
 *   into the last minutes of a working day.
 * - Wall-clock times are read in the plan's time zone with Luxon, never the server's TZ; a time
 *   that a daylight-saving gap skips moves forward by the gap (Luxon's rule).
 * - Attendees are `checkin.attendees`; the CSM organizes and is never also an attendee.
 */
import { csmOf, personById, planTitle, stageDue } from '../plan/plan-model.ts';
import type { PlanRecords } from '../plan/plan-records.ts';
import type { Checkin, Person, Plan, Stage } from '../plan/plan-types.ts';
import { addDays, compareIso, dateInZone, instantAt, weekdayOf } from '../util/dates.ts';
import { formatDay } from '../util/format.ts';

/** Working days between a stage's completion day and its `on-complete` check-in. */
export const ON_COMPLETE_DELAY_WORKING_DAYS = 1;
/** Never look further than this for a working day (a plan always has at least one). */
const MAX_DAYS_SEARCHED = 14;

export type CheckinStatus = 'scheduled' | 'pending';

/** What a calendar object needs about one check-in (also built from records for a CANCEL). */
export interface CheckinEvent {
  uid: string;
  title: string;
  description?: string;
  location?: string;
  allDay: boolean;
  /** Timed check-ins: start and end instants. */
  start?: Date;
  end?: Date;
  /** All-day check-ins: the date (YYYY-MM-DD) and the exclusive end date (the next day). */
  date?: string;
  endDate?: string;
  organizer: { name?: string; email: string };
  attendees: { name?: string; email: string }[];
}

export interface CheckinPlan extends CheckinEvent {
  stageId: string;
  stageName: string;
  when: Checkin['when'];
  /** `pending`: an on-complete check-in whose stage is not complete yet (no time). */
  status: CheckinStatus;
  minutes: number;
  /** The plan's IANA zone: times in emails and the portal are shown in it. */
  timezone: string;
  attendees: Person[];
  organizer: Person;
}

const UID_PATTERN = /^checkin-([a-z][a-z0-9_-]{0,31})\.([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)@([^@\s]+)$/;

/**
 * The check-in's iCalendar UID: `checkin-<stageId>.<planSlug>@<organizer's mail domain>`.
 * Namespaced by plan and by the vendor's domain (two vendors' `acme` plans never collide in a
 * shared attendee's calendar), never derived from the date, so a moved milestone updates the
 * same event. Once sent, the UID lives in the plan records and is reused as stored.
 */
export function checkinUid(slug: string, stageId: string, organizerEmail: string): string {
  const domain = organizerEmail.slice(organizerEmail.lastIndexOf('@') + 1).toLowerCase() || 'twofold.invalid';
  return `checkin-${stageId}.${slug}@${domain}`;
}

/** The plan and stage a check-in UID names (for RSVPs), or undefined for a foreign UID. */
export function parseCheckinUid(uid: string): { slug: string; stageId: string } | undefined {
  const m = UID_PATTERN.exec(uid.trim());
  return m ? { stageId: m[1]!, slug: m[2]! } : undefined;
}

export function defaultCheckinTitle(plan: Plan, stage: Stage): string {
  return `${stage.name} check-in — ${plan.client} × ${plan.vendor}`;
}

/** Every check-in the plan defines, in stage order. */
export function planCheckins(plan: Plan, slug: string, records: PlanRecords, now: Date): CheckinPlan[] {
  const out: CheckinPlan[] = [];
  for (const stage of plan.stages) {
    if (stage.checkin) out.push(stageCheckin(plan, slug, stage, stage.checkin, records, now));
  }
  return out;
}

/**
 * The next check-in for `twofold status`: the earliest scheduled one that has not ended yet,
 * else the first pending one (waiting for its stage), else undefined.
 */
export function nextCheckin(plan: Plan, slug: string, records: PlanRecords, now: Date): CheckinPlan | undefined {
  const all = planCheckins(plan, slug, records, now);
  const upcoming = all
    .filter((c) => c.status === 'scheduled' && checkinEnd(c, plan.timezone).getTime() > now.getTime())
    .sort((a, b) => checkinStart(a, plan.timezone).getTime() - checkinStart(b, plan.timezone).getTime());
  return upcoming[0] ?? all.find((c) => c.status === 'pending');
}

/** The instant a check-in starts (all-day: midnight of its date in the plan zone). */
export function checkinStart(event: CheckinEvent, zone: string): Date {
  if (event.allDay && event.date) return instantAt(event.date, '00:00', zone);
  if (!event.start) throw new Error(`check-in ${event.uid} has no time yet`);
  return event.start;
}

/** The instant a check-in ends (all-day: midnight at the start of its exclusive end date). */
export function checkinEnd(event: CheckinEvent, zone: string): Date {
  if (event.allDay && event.endDate) return instantAt(event.endDate, '00:00', zone);
  if (!event.end) throw new Error(`check-in ${event.uid} has no time yet`);
  return event.end;
}

/**
 * The day a complete stage completed (YYYY-MM-DD in the plan zone), or undefined while it is
 * not complete. `now` stands in when no date is known (see the module comment).
 */
export function stageCompletionDay(plan: Plan, stage: Stage, records: PlanRecords, now: Date): string | undefined {
  if (stage.tasks.length === 0 || stage.tasks.some((t) => t.status !== 'done')) return undefined;
  const days = stage.tasks.map((t) => t.done).filter((d): d is string => Boolean(d));
  const recorded = records.stages[stage.id]?.completedAt;
  if (recorded && !Number.isNaN(Date.parse(recorded))) days.push(dateInZone(new Date(recorded), plan.timezone));
  if (days.length === 0) return dateInZone(now, plan.timezone);
  return days.sort(compareIso)[days.length - 1]!;
}

function stageCheckin(plan: Plan, slug: string, stage: Stage, checkin: Checkin, records: PlanRecords, now: Date): CheckinPlan {
  const organizer = csmOf(plan);
  const attendees = uniquePeople(checkin.attendees.map((id) => personById(plan, id)).filter((p): p is Person => Boolean(p)))
    .filter((p) => p.email !== organizer.email);
  const base: CheckinPlan = {
    stageId: stage.id,
    stageName: stage.name,
    uid: records.checkins[stage.id]?.uid ?? checkinUid(slug, stage.id, organizer.email),
    title: checkin.title ?? defaultCheckinTitle(plan, stage),
    description: describe(plan, stage, checkin),
    when: checkin.when,
    status: 'scheduled',
    allDay: checkin.allday === true,
    minutes: checkin.minutes,
    timezone: plan.timezone,
    attendees,
    organizer,
    ...(checkin.location ? { location: checkin.location } : {}),
  };

  let day: string;
  if (checkin.when === 'at-due') {
    day = stageDue(plan, stage);
  } else {
    const completed = stageCompletionDay(plan, stage, records, now);
    if (!completed) return { ...base, status: 'pending' };
    day = addWorkingDays(plan, completed, ON_COMPLETE_DELAY_WORKING_DAYS);
  }
  if (base.allDay) return { ...base, date: day, endDate: addDays(day, 1) };
  const start = instantAt(day, checkin.at ?? workingHoursStart(plan), plan.timezone);
  return { ...base, start, end: new Date(start.getTime() + checkin.minutes * 60_000) };
}

function describe(plan: Plan, stage: Stage, checkin: Checkin): string {
  const lines = [`Milestone check-in for "${stage.name}" — ${planTitle(plan)}.`];
  if (stage.goal) lines.push(`Goal: ${stage.goal}`);
  lines.push(
    checkin.when === 'at-due'
      ? `Held on the milestone's due date, ${formatDay(stageDue(plan, stage))}.`
      : "Held on the first working day after the stage's last task is done.",
  );
  return lines.join('\n');
}

export function workingHoursStart(plan: Plan): string {
  return plan.schedule.working_hours.slice(0, 5);
}

/** The n-th working day after `date` (n ≥ 1), by the plan's `working_days`. */
export function addWorkingDays(plan: Plan, date: string, n: number): string {
  const working = new Set<string>(plan.schedule.working_days);
  let day = date;
  let left = n;
  for (let i = 0; i < n * MAX_DAYS_SEARCHED && left > 0; i++) {
    day = addDays(day, 1);
    if (working.has(weekdayOf(day))) left--;
  }
  return day;
}

function uniquePeople(people: Person[]): Person[] {
  const seen = new Set<string>();
  return people.filter((p) => (seen.has(p.email) ? false : (seen.add(p.email), true)));
}

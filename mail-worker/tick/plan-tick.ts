/**
 * What the scheduler owes one plan at one moment. Pure: the plan, its records, the tick state
 * (what was already sent), the moment and the quiet hours in; the list of things due out. The
 * executor (run-tick.ts) sends them and settles their keys; `twofold tick --dry-run` prints them.
 *
 * Rules (the README's "Reminders, digests and escalation" section says the same):
 *
 * - Window: nothing is due outside the plan's window (tick-window.ts: working days, working
 *   hours, not quiet hours, in the plan's zone). What was due waits: the next tick inside the
 *   window finds it still due, unless it no longer applies (the task was done, unblocked…).
 * - Reminders (tasks `todo` or `in_progress`, from the plan's start): once when the task comes
 *   within `remind_before` of its due date (due soon or due today), and when it is overdue: on
 *   the first overdue day and every OVERDUE_REMIND_EVERY_DAYS days after. Blocked tasks climb the
 *   escalation ladder instead; done tasks get nothing.
 * - Digests: at most one email per person per day. A person's reminders are merged into one
 *   reminder digest (`kind: 'reminder'`, the reminded tasks first, then the rest of their open
 *   tasks); on the plan's `digest_day` the weekly digest (`kind: 'weekly'`) goes to everyone
 *   with open tasks and carries that day's reminders. A weekly digest missed on its day (a
 *   holiday, the worker down) goes out on the next day the window opens, within the week.
 * - Escalations: a blocked task (with `blocked.since`) whose age reaches a ladder step
 *   (`escalationStepReached`, the one rule for ages) and whose step was not yet notified for
 *   this blocker (records.escalations with the same `since`, or the state) notifies that step's
 *   people; steps skipped (the tick was not running) are notified together, each person once, at
 *   the highest step they belong to. Unblocking, or a new `since`, resets the ladder: the stale
 *   record is dropped (`resets`).
 * - Stage completion: a stage whose tasks are all done, on its completion day
 *   (`stageCompletionDay`, the calendar's rule), not yet handled: it is recorded in
 *   `records.stages`, logged (`stage_complete`), and the next stage's open tasks are emailed to
 *   their owners. A completion older than STAGE_ANNOUNCE_DAYS is recorded quietly (a tick that
 *   starts on an old plan does not announce old news).
 * - The plan's start: on the first tick in the window on or after `start`, the first stage's
 *   open tasks are emailed to their owners (tasks are assigned when their stage opens; later
 *   stages open on the completion of the one before, above).
 * - Check-ins: whatever `planInvites` says the plan needs (new, moved, renamed, removed), planned
 *   on the records as they will be once the stage completions above are recorded.
 *
 * Scope `changes` (the worker's tick after a reply) keeps only stage completions and check-ins:
 * what a reply can cause at once. Reminders, digests, escalations and the plan's start (no reply
 * causes it) follow the interval.
 */
import { stageCompletionDay } from '../../site/core/calendar/checkin-schedule.ts';
import { planInvites, type InviteAction } from '../../site/core/calendar/invite-plan.ts';
import { escalationStepReached, recordedEscalation } from '../../site/core/plan/plan-health.ts';
import { allTasks, findTask, personById, stageViews } from '../../site/core/plan/plan-model.ts';
import type { EscalationRecord, PlanRecords } from '../../site/core/plan/plan-records.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { addDays, compareIso, dateInZone, daysBetween, instantAt, weekdayOf } from '../../site/core/util/dates.ts';
import { plural } from '../../site/core/util/format.ts';
import { dueState } from '../mail/task-facts.ts';
import { tickKeys, type TickState } from './tick-state.ts';
import { tickWindow, type TickWindow } from './tick-window.ts';

/** An overdue task is reminded on its first overdue day and again every this many days. */
export const OVERDUE_REMIND_EVERY_DAYS = 7;
/** A stage completed longer ago than this is recorded without announcing it (no activity, no task emails). */
export const STAGE_ANNOUNCE_DAYS = 7;
/** The instant recorded for a completion day in the past: midday, unambiguous in every zone's day. */
const PAST_COMPLETION_TIME = '12:00';

export type TickScope = 'all' | 'changes';

export interface PlanTickInput {
  slug: string;
  plan: Plan;
  records: PlanRecords;
  state: TickState;
  now: Date;
  /** The worker's quiet hours, HH:MM-HH:MM in each plan's zone. */
  quietHours: string;
  /** Default `all`. */
  scope?: TickScope;
}

export interface ReminderDue {
  task: string;
  why: 'before' | 'overdue';
  key: string;
}

export interface DigestDue {
  /** The recipient's email. */
  to: string;
  kind: 'weekly' | 'reminder';
  /** Reminded tasks, listed first in the email. */
  reminders: ReminderDue[];
  /** The person's one email of the day: its Message-ID derives from it. */
  key: string;
  /** Every key this email settles (the day's, the week's, each reminder's). */
  keys: string[];
}

export interface EscalationDue {
  task: string;
  since: string;
  blockedDays: number;
  /** Ladder steps (0-based) notified now, lowest first. */
  steps: number[];
  /** One email per person: at the highest step of `steps` they belong to. */
  recipients: Array<{ email: string; step: number }>;
  keys: string[];
  /** `records.escalations[task]` once sent. */
  record: EscalationRecord;
}

export interface StageDue {
  stageId: string;
  /** The completion day (YYYY-MM-DD in the plan's zone). */
  day: string;
  key: string;
  /** `records.stages[stageId].completedAt` once recorded. */
  completedAt: string;
  /** The records already held this completion (a crash after recording it): do not log it again. */
  recorded: boolean;
  /** Log it and email the next stage's owners (false for an old completion). */
  announce: boolean;
  /** The next stage's open tasks, each to its owner. */
  taskEmails: Array<{ task: string; to: string }>;
}

/** A stage opening at the plan's start: its open tasks emailed to their owners. */
export interface OpeningDue {
  stageId: string;
  key: string;
  taskEmails: Array<{ task: string; to: string }>;
}

export interface PlanTick {
  slug: string;
  today: string;
  window: TickWindow;
  stages: StageDue[];
  openings: OpeningDue[];
  /** Planned on `records` (stage completions included); sendInvites sends exactly these. */
  invites: InviteAction[];
  escalations: EscalationDue[];
  /** Tasks whose recorded escalation no longer applies (unblocked, new blocker, task gone). */
  resets: string[];
  digests: DigestDue[];
  /** The records with this tick's stage completions. */
  records: PlanRecords;
}

export type TickItemKind = 'reminder' | 'digest' | 'escalation' | 'checkin' | 'task';

/** One email the tick sends (or would send), as `twofold tick --json` prints it. */
export interface TickItem {
  kind: TickItemKind;
  to: string;
  plan: string;
  /** The task; for a digest or reminder the reminded task ids, comma-separated; null for check-ins and digests without reminders. */
  task: string | null;
  /** The escalation step, 1-based; null for every other kind. */
  step: number | null;
  /** Words for the plain output: "REQUEST kickoff SEQUENCE 0", "blocked 7 days"… */
  detail: string;
}

export function planTick(input: PlanTickInput): PlanTick {
  const { slug, plan, records, state, now } = input;
  const window = tickWindow(plan, now, input.quietHours);
  const today = window.today;
  const nothing: PlanTick = { slug, today, window, stages: [], openings: [], invites: [], escalations: [], resets: [], digests: [], records };
  if (!window.open) return nothing;

  const stages = stagesDue(plan, records, state, now, today);
  let after = records;
  for (const s of stages) if (!s.recorded) after = { ...after, stages: { ...after.stages, [s.stageId]: { completedAt: s.completedAt } } };
  const invites = planInvites(plan, slug, after, now).actions;
  if (input.scope === 'changes') return { ...nothing, stages, invites, records: after };

  const escalations = escalationsDue(plan, records, state, now, today);
  const replaced = new Set(escalations.map((e) => e.task));
  const resets = Object.entries(records.escalations)
    .filter(([id]) => {
      const found = findTask(plan, id);
      return !replaced.has(id) && (!found || found.task.id !== id || recordedEscalation(records, found.task) === undefined);
    })
    .map(([id]) => id);
  return { ...nothing, stages, openings: openingsDue(plan, state, today), invites, escalations, resets, digests: digestsDue(plan, state, today), records: after };
}

/** The emails of a planned tick, in the order the executor sends them. */
export function tickItems(tick: PlanTick): TickItem[] {
  const plan = tick.slug;
  return [
    ...tick.invites.map((a) => inviteItem(plan, a)),
    ...tick.openings.flatMap((o) => o.taskEmails.map((t): TickItem => ({ kind: 'task', to: t.to, plan, task: t.task, step: null, detail: `stage ${o.stageId} opens` }))),
    ...tick.stages.flatMap((s) => s.taskEmails.map((t): TickItem => ({ kind: 'task', to: t.to, plan, task: t.task, step: null, detail: `stage ${s.stageId} complete` }))),
    ...tick.escalations.flatMap((e) => e.recipients.map((r): TickItem => ({ kind: 'escalation', to: r.email, plan, task: e.task, step: r.step + 1, detail: `blocked ${plural(e.blockedDays, 'day')}` }))),
    ...tick.digests.map((d): TickItem => ({
      kind: d.kind === 'weekly' ? 'digest' : 'reminder',
      to: d.to,
      plan,
      task: d.reminders.length ? d.reminders.map((r) => r.task).join(',') : null,
      step: null,
      detail: [d.kind === 'weekly' ? 'weekly digest' : 'reminder digest', ...d.reminders.map((r) => `${r.task} ${r.why === 'before' ? 'due soon' : 'overdue'}`)].join(', '),
    })),
  ];
}

/** A check-in invite as a tick item: "REQUEST kickoff SEQUENCE 0". */
export function inviteItem(plan: string, action: InviteAction): TickItem {
  const what = `${action.method}${action.cancel === 'attendee' ? ' (uninvited)' : ''}`;
  return { kind: 'checkin', to: action.recipient.email, plan, task: null, step: null, detail: `${what} ${action.stageId} SEQUENCE ${action.sequence}` };
}

/** Where an item sits among a tick's items: a person's digest, or (kind, person, task). */
export function itemKey(item: Pick<TickItem, 'kind' | 'to' | 'task'>): string {
  return item.kind === 'digest' || item.kind === 'reminder' ? `digest|${item.to}` : `${item.kind}|${item.to}|${item.task ?? ''}`;
}

function stagesDue(plan: Plan, records: PlanRecords, state: TickState, now: Date, today: string): StageDue[] {
  const out: StageDue[] = [];
  const views = stageViews(plan);
  for (const view of views) {
    if (!view.complete) continue;
    const day = stageCompletionDay(plan, view.stage, records, now);
    if (!day) continue;
    const key = tickKeys.stage(view.stage.id, day);
    if (state.sent[key]) continue;
    const held = records.stages[view.stage.id]?.completedAt;
    const heldDay = held && !Number.isNaN(Date.parse(held)) ? dateInZone(new Date(held), plan.timezone) : undefined;
    const recorded = heldDay !== undefined && compareIso(heldDay, day) >= 0;
    const completedAt = recorded ? held! : day === today ? now.toISOString() : instantAt(day, PAST_COMPLETION_TIME, plan.timezone).toISOString();
    const announce = daysBetween(day, today) <= STAGE_ANNOUNCE_DAYS;
    const next = plan.stages[view.index + 1];
    const taskEmails = announce && next
      ? next.tasks.filter((t) => t.status !== 'done').map((t) => ({ task: t.id, to: personById(plan, t.owner)!.email }))
      : [];
    out.push({ stageId: view.stage.id, day, key, completedAt, recorded, announce, taskEmails });
  }
  return out;
}

function openingsDue(plan: Plan, state: TickState, today: string): OpeningDue[] {
  const first = plan.stages[0];
  if (!first || compareIso(today, plan.start) < 0) return [];
  const key = tickKeys.opening(first.id);
  if (state.sent[key]) return [];
  const open = first.tasks.filter((t) => t.status !== 'done');
  if (open.length === 0) return [];
  return [{ stageId: first.id, key, taskEmails: open.map((t) => ({ task: t.id, to: personById(plan, t.owner)!.email })) }];
}

function escalationsDue(plan: Plan, records: PlanRecords, state: TickState, now: Date, today: string): EscalationDue[] {
  const out: EscalationDue[] = [];
  for (const view of allTasks(plan, today)) {
    const { task } = view;
    const since = task.blocked?.since;
    if (task.status !== 'blocked' || !since) continue;
    const reached = escalationStepReached(plan, task, today);
    if (reached < 0) continue;
    let notified = recordedEscalation(records, task)?.step ?? -1;
    for (let s = notified + 1; s <= reached; s++) if (state.sent[tickKeys.escalation(task.id, since, s)]) notified = s;
    if (reached <= notified) continue;
    const steps = range(notified + 1, reached);
    const byEmail = new Map<string, number>();
    for (const s of steps) {
      for (const id of plan.escalation[s]!.notify) {
        const person = personById(plan, id);
        if (person) byEmail.set(person.email, s);
      }
    }
    const recipients = [...byEmail].map(([email, step]) => ({ email, step }));
    out.push({
      task: task.id,
      since,
      blockedDays: view.blockedDays ?? 0,
      steps,
      recipients,
      keys: steps.map((s) => tickKeys.escalation(task.id, since, s)),
      record: { since, step: reached, at: now.toISOString(), notified: recipients.map((r) => r.email) },
    });
  }
  return out;
}

function digestsDue(plan: Plan, state: TickState, today: string): DigestDue[] {
  if (compareIso(today, plan.start) < 0) return [];
  const open = allTasks(plan, today).filter((v) => v.task.status !== 'done');
  const owners = new Set(open.map((v) => v.owner.email));
  const digestDate = lastDigestDay(plan, today);
  const weeklyDue = compareIso(digestDate, plan.start) >= 0;
  const out: DigestDue[] = [];
  for (const person of plan.people) {
    if (!owners.has(person.email)) continue;
    const key = tickKeys.digest(person.email, today);
    if (state.sent[key]) continue;
    const reminders: ReminderDue[] = [];
    for (const v of open) {
      if (v.owner.email !== person.email || (v.task.status !== 'todo' && v.task.status !== 'in_progress')) continue;
      const due = dueState(plan, v, today);
      const reminder: ReminderDue | undefined =
        due === 'due-soon' || due === 'due-today'
          ? { task: v.task.id, why: 'before', key: tickKeys.remindBefore(v.task.id, v.due) }
          : due === 'overdue'
            ? { task: v.task.id, why: 'overdue', key: tickKeys.remindOverdue(v.task.id, v.due, Math.floor((v.overdueDays - 1) / OVERDUE_REMIND_EVERY_DAYS)) }
            : undefined;
      if (reminder && !state.sent[reminder.key]) reminders.push(reminder);
    }
    const weeklyKey = tickKeys.weekly(person.email, digestDate);
    const weekly = weeklyDue && !state.sent[weeklyKey];
    if (!weekly && reminders.length === 0) continue;
    out.push({
      to: person.email,
      kind: weekly ? 'weekly' : 'reminder',
      reminders,
      key,
      keys: [key, ...(weekly ? [weeklyKey] : []), ...reminders.map((r) => r.key)],
    });
  }
  return out;
}

/**
 * The keys a digest sent outside the tick settles (`twofold start`'s first digests): that
 * person's email of the day and this week's digest, so the scheduler does not send another.
 */
export function digestSentKeys(plan: Plan, email: string, today: string): string[] {
  return [tickKeys.digest(email, today), tickKeys.weekly(email, lastDigestDay(plan, today))];
}

/** The latest day on or before `today` that is the plan's digest day. */
function lastDigestDay(plan: Plan, today: string): string {
  for (let back = 0; back < 7; back++) {
    const day = addDays(today, -back);
    if (weekdayOf(day) === plan.schedule.digest_day) return day;
  }
  return today;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

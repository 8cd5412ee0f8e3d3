/**
 * The health of a plan on a date: on track, at risk or stalled, with the reasons in words. The
 * portal, `twofold status` and the tick all read health from here, so they never disagree.
 *
 * A blocker's step is the higher of the step its age has reached (`escalationStepReached`) and
 * the step the tick recorded as notified for the same blocker (`records.escalations`, see
 * `recordedEscalation`): health is true even before the tick ran, and a step that was notified
 * stays counted when the ladder is edited afterwards. Callers pass the records they have
 * (status and portal both do), so the two read the same.
 *
 * Rules (overdue days and blocker ages are whole calendar days in the plan's time zone):
 * - stalled: a task 7 or more days overdue, or a blocker past the last step of the escalation ladder;
 * - at risk: a task 1–6 days overdue, or a blocker past the first step of the ladder;
 * - on track otherwise.
 */
import { daysBetween, spanToDuration } from '../util/dates.ts';
import { plural } from '../util/format.ts';
import { allTasks, type TaskView } from './plan-model.ts';
import type { EscalationRecord, PlanRecords } from './plan-records.ts';
import type { Plan, Task } from './plan-types.ts';

export type Health = 'on_track' | 'at_risk' | 'stalled';

/** A task this many days overdue stalls the plan; fewer (but at least one) puts it at risk. */
export const STALLED_OVERDUE_DAYS = 7;

export const HEALTH_LABELS: Record<Health, string> = { on_track: 'on track', at_risk: 'at risk', stalled: 'stalled' };

const RANK: Record<Health, number> = { on_track: 0, at_risk: 1, stalled: 2 };

/** One task that weighs on the plan's health. */
export interface HealthSignal {
  task: string;
  /** Owner's person id, name and side. */
  owner: string;
  ownerName: string;
  side: 'vendor' | 'client';
  health: Health;
  /** Days past the due date (0 when not overdue). */
  overdueDays: number;
  /** Days blocked, for blocked tasks with a `since` date. */
  blockedDays?: number;
  blockedReason?: string;
  /** Index in `plan.escalation` of the highest step reached; -1 for none. */
  escalationStep: number;
  /** The reason in words: "T2 (Raj Patel) blocked 9 days (waiting on IT security review), past the last escalation step". */
  reason: string;
}

export interface PlanHealth {
  level: Health;
  /** One sentence per task that weighs on health, worst first; a single summary when on track. */
  reasons: string[];
  signals: HealthSignal[];
}

/**
 * The highest escalation step a blocked task has reached on `today`, as an index into
 * `plan.escalation`, or -1 when it has reached none (or is not blocked, or has no `since`).
 * A step is reached when the blocker's age (whole days since `blocked.since`) is at least the
 * step's `after` span; `36h` is reached on the second day.
 */
export function escalationStepReached(plan: Plan, task: Task, today: string): number {
  if (task.status !== 'blocked' || !task.blocked?.since) return -1;
  const hours = Math.max(0, daysBetween(task.blocked.since, today)) * 24;
  let reached = -1;
  plan.escalation.forEach((step, i) => {
    if (hours >= spanToDuration(step.after).as('hours')) reached = i;
  });
  return reached;
}

/**
 * The escalation the tick recorded for this task's current blocker, or undefined: none was
 * notified, the task is not blocked, or the record is of an earlier blocker (another `since`:
 * unblocking or a new blocker resets the ladder).
 */
export function recordedEscalation(records: Pick<PlanRecords, 'escalations'> | undefined, task: Task): EscalationRecord | undefined {
  if (task.status !== 'blocked' || !task.blocked?.since) return undefined;
  const record = records?.escalations[task.id];
  return record && record.since === task.blocked.since && Number.isInteger(record.step) && record.step >= 0 ? record : undefined;
}

/** The step that counts for health: reached by age, or notified for this blocker, whichever is higher. */
function healthStep(plan: Plan, task: Task, today: string, records?: Pick<PlanRecords, 'escalations'>): number {
  const recorded = recordedEscalation(records, task);
  return Math.max(escalationStepReached(plan, task, today), recorded ? Math.min(recorded.step, plan.escalation.length - 1) : -1);
}

/** The health of `plan` on `today` (YYYY-MM-DD in the plan's time zone), with the plan's records when known. */
export function planHealth(plan: Plan, today: string, records?: Pick<PlanRecords, 'escalations'>): PlanHealth {
  const signals: HealthSignal[] = [];
  const young: TaskView[] = [];
  for (const view of allTasks(plan, today)) {
    if (view.task.status === 'done') continue;
    const signal = signalFor(plan, view, today, records);
    if (signal) signals.push(signal);
    else if (view.task.status === 'blocked') young.push(view);
  }
  signals.sort((a, b) => RANK[b.health] - RANK[a.health] || severity(b) - severity(a) || a.task.localeCompare(b.task));
  const level = signals.reduce<Health>((worst, s) => (RANK[s.health] > RANK[worst] ? s.health : worst), 'on_track');
  const reasons = signals.length > 0 ? signals.map((s) => s.reason) : [onTrackReason(young)];
  return { level, reasons, signals };
}

function signalFor(plan: Plan, view: TaskView, today: string, records?: Pick<PlanRecords, 'escalations'>): HealthSignal | undefined {
  const { task, owner, overdueDays } = view;
  const step = healthStep(plan, task, today, records);
  const last = plan.escalation.length - 1;
  const byBlocker: Health = step < 0 ? 'on_track' : step >= last ? 'stalled' : 'at_risk';
  const byOverdue: Health = overdueDays >= STALLED_OVERDUE_DAYS ? 'stalled' : overdueDays >= 1 ? 'at_risk' : 'on_track';
  const health = RANK[byBlocker] >= RANK[byOverdue] ? byBlocker : byOverdue;
  if (health === 'on_track') return undefined;

  const parts: string[] = [];
  if (step >= 0) {
    const where = step >= last ? 'past the last escalation step' : `past escalation step ${step + 1} of ${last + 1}`;
    parts.push(`blocked ${plural(view.blockedDays ?? 0, 'day')} (${task.blocked!.reason}), ${where}`);
  } else if (task.status === 'blocked') {
    parts.push(`blocked (${task.blocked?.reason ?? 'no reason given'})`);
  }
  if (overdueDays > 0) parts.push(`${plural(overdueDays, 'day')} overdue`);
  const signal: HealthSignal = {
    task: task.id,
    owner: owner.id,
    ownerName: owner.name,
    side: owner.side,
    health,
    overdueDays,
    escalationStep: step,
    reason: `${task.id} (${owner.name}) ${parts.join(', ')}`,
  };
  if (view.blockedDays !== undefined) signal.blockedDays = view.blockedDays;
  if (task.blocked) signal.blockedReason = task.blocked.reason;
  return signal;
}

/** Orders signals of equal health: the longer a task has been stuck, the earlier it is named. */
function severity(s: HealthSignal): number {
  return Math.max(s.overdueDays, s.blockedDays ?? 0);
}

function onTrackReason(young: TaskView[]): string {
  if (young.length === 0) return 'nothing overdue or blocked';
  const names = young.map((v) => `${v.task.id} (${v.task.blocked?.reason ?? 'no reason given'})`).join(', ');
  return `nothing overdue; ${young.length === 1 ? 'a blocker' : `${young.length} blockers`} not yet escalated: ${names}`;
}


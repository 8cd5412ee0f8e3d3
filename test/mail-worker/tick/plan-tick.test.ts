/**
 * The tick's pure planner and its window: tables of moments on the Harbor plan
 * (test/fixtures/tick/harbor-month.md, America/Chicago, March 2026), with the plan edits, records
 * and tick state of each case, and what is due then.
 */
import { describe, expect, it } from 'vitest';
import { planInvites } from '../../../site/core/calendar/invite-plan.ts';
import { emptyRecords, type PlanRecords } from '../../../site/core/plan/plan-records.ts';
import type { PlanEdit } from '../../../site/core/plan/plan-file.ts';
import type { Plan } from '../../../site/core/plan/plan-types.ts';
import { OVERDUE_REMIND_EVERY_DAYS, planTick, STAGE_ANNOUNCE_DAYS, tickItems, type TickItemKind, type TickScope } from '../../../mail-worker/tick/plan-tick.ts';
import { emptyTickState, pruneTickState, settle, TICK_STATE_RETENTION_DAYS, tickKeys, type TickState } from '../../../mail-worker/tick/tick-state.ts';
import { DEFAULT_QUIET_HOURS, momentOnDay, nextOpening, tickWindow } from '../../../mail-worker/tick/tick-window.ts';
import { blocked, done, dueOn, EMAIL, TICK_PLAN_SLUG, tickPlan, type Who } from './tick-fixture.ts';

const WHO = Object.fromEntries(Object.entries(EMAIL).map(([who, email]) => [email, who])) as Record<string, Who>;
const EVERYONE = Object.values(EMAIL);

/** Records as they are once the plan's current check-in invites went out (so cases see only what they are about). */
function invitesSent(plan: Plan, now: Date, records = emptyRecords()): PlanRecords {
  return planInvites(plan, TICK_PLAN_SLUG, records, now).after;
}

/** State where everyone already had the weekly digest of the week whose digest day is `monday`. */
function weeklySent(monday: string, extra: string[] = []): string[] {
  return [...EVERYONE.map((e) => tickKeys.weekly(e, monday)), ...extra];
}

/** The plan's start already handled (the kickoff tasks emailed), so cases about something else see only what they are about. */
const PLAN_STARTED = tickKeys.opening('kickoff');

function stateOf(keys: string[], started = true): TickState {
  return settle(emptyTickState(), started ? [PLAN_STARTED, ...keys] : keys, new Date('2026-03-01T00:00:00Z'));
}

interface Case {
  name: string;
  at: string;
  edits?: PlanEdit[];
  /** Records before the tick (default: the check-in invites of the unedited plan already sent). */
  records?: (plan: Plan, now: Date) => PlanRecords;
  state?: string[];
  /** Whether the state holds the plan's start (default true; false for the cases about the start). */
  started?: boolean;
  scope?: TickScope;
  /** Only these kinds of email (default every kind). */
  kinds?: TickItemKind[];
  expect: string[];
}

function run(c: Case) {
  const plan = tickPlan(c.edits ?? []);
  const now = new Date(c.at);
  const records = c.records ? c.records(plan, now) : invitesSent(tickPlan(), now);
  const tick = planTick({ slug: TICK_PLAN_SLUG, plan, records, state: stateOf(c.state ?? [], c.started ?? true), now, quietHours: DEFAULT_QUIET_HOURS, ...(c.scope ? { scope: c.scope } : {}) });
  const items = tickItems(tick).filter((i) => !c.kinds || c.kinds.includes(i.kind));
  return { tick, items: items.map((i) => [i.kind, WHO[i.to], i.task, i.step].filter((x) => x !== null).join(' ')) };
}

const T3_BLOCKED = blocked('T3', 'waiting on IT security review', '2026-03-04');

describe('tickWindow: when the scheduler may send (America/Chicago, working hours 09:00-17:00, quiet 19:00-08:00)', () => {
  it.each([
    { name: 'a Monday morning in working hours', at: '2026-03-02T10:00:00-06:00', open: true, local: '10:00' },
    { name: 'the first minute of working hours', at: '2026-03-02T09:00:00-06:00', open: true, local: '09:00' },
    { name: 'after quiet hours but before working hours', at: '2026-03-02T08:59:00-06:00', open: false, reason: 'outside-working-hours', local: '08:59' },
    { name: 'the last minute of quiet hours', at: '2026-03-02T07:59:00-06:00', open: false, reason: 'quiet-hours', local: '07:59' },
    { name: 'the end of working hours (exclusive)', at: '2026-03-02T17:00:00-06:00', open: false, reason: 'outside-working-hours', local: '17:00' },
    { name: 'an evening in quiet hours', at: '2026-03-02T19:00:00-06:00', open: false, reason: 'quiet-hours', local: '19:00' },
    { name: 'just after midnight, read in the plan zone, not UTC (Tuesday 03:00Z is Monday evening)', at: '2026-03-03T03:00:00Z', open: false, reason: 'quiet-hours', local: '21:00', today: '2026-03-02' },
    { name: 'a Saturday', at: '2026-03-07T10:00:00-06:00', open: false, reason: 'non-working-day', local: '10:00' },
    { name: 'the Sunday daylight saving starts', at: '2026-03-08T10:00:00-05:00', open: false, reason: 'non-working-day', local: '10:00' },
    { name: '14:30Z after the change: 09:30 CDT, open', at: '2026-03-09T14:30:00Z', open: true, local: '09:30' },
    { name: '14:30Z before the change: 08:30 CST, not yet', at: '2026-03-06T14:30:00Z', open: false, reason: 'outside-working-hours', local: '08:30' },
  ])('$name', ({ at, open, reason, local, today }) => {
    const w = tickWindow(tickPlan(), new Date(at), DEFAULT_QUIET_HOURS);
    expect(w).toEqual({ open, ...(reason ? { reason } : {}), local, today: today ?? at.slice(0, 10) });
  });

  it.each([
    { name: 'long working hours are cut by the quiet hours in the morning', hours: '07:00-20:00', quiet: '19:00-08:00', at: '07:30', open: false },
    { name: 'long working hours are cut by the quiet hours in the evening', hours: '07:00-20:00', quiet: '19:00-08:00', at: '19:30', open: false },
    { name: 'long working hours, between the quiet hours', hours: '07:00-20:00', quiet: '19:00-08:00', at: '18:00', open: true },
    { name: 'no quiet hours ("00:00-00:00")', hours: '07:00-20:00', quiet: '00:00-00:00', at: '19:30', open: true },
    { name: 'quiet hours that do not wrap midnight', hours: '09:00-17:00', quiet: '12:00-13:00', at: '12:30', open: false },
    { name: 'working hours that wrap midnight (a night shift)', hours: '22:00-06:00', quiet: '00:00-00:00', at: '23:00', open: true },
  ])('$name', ({ hours, quiet, at, open }) => {
    const plan = tickPlan([{ op: 'set', path: ['schedule', 'working_hours'], value: hours }]);
    expect(tickWindow(plan, new Date(`2026-03-04T${at}:00-06:00`), quiet).open).toBe(open);
  });

  it('a plan whose working days include Saturday sends on Saturday', () => {
    const plan = tickPlan();
    plan.schedule.working_days = [...plan.schedule.working_days, 'saturday'];
    expect(tickWindow(plan, new Date('2026-03-07T10:00:00-06:00'), DEFAULT_QUIET_HOURS).open).toBe(true);
  });

  it.each([
    { name: 'inside the window: now', from: '2026-03-04T10:00:00-06:00', next: '2026-03-04T16:00:00.000Z' },
    { name: 'early morning: at 09:00 that day', from: '2026-03-04T06:00:00-06:00', next: '2026-03-04T15:00:00.000Z' },
    { name: 'Friday evening: Monday 09:00, after the daylight-saving change', from: '2026-03-06T17:30:00-06:00', next: '2026-03-09T14:00:00.000Z' },
    { name: 'Saturday: Monday 09:00', from: '2026-03-07T10:00:00-06:00', next: '2026-03-09T14:00:00.000Z' },
  ])('nextOpening from $name', ({ from, next }) => {
    expect(nextOpening(tickPlan(), new Date(from), DEFAULT_QUIET_HOURS)?.toISOString()).toBe(next);
  });

  it.each([
    { name: 'a working day: its first open minute', date: '2026-03-09', at: '2026-03-09T14:00:00.000Z' },
    { name: 'a Saturday: the start of working hours (closed)', date: '2026-03-07', at: '2026-03-07T15:00:00.000Z' },
  ])('a date-only --now stands for $name', ({ date, at }) => {
    expect(momentOnDay(tickPlan(), date, DEFAULT_QUIET_HOURS).toISOString()).toBe(at);
  });
});

describe('planTick: reminders and digests', () => {
  it.each<Case>([
    { name: 'nothing on a Saturday, whatever is due', at: '2026-03-07T10:00:00-06:00', records: () => emptyRecords(), expect: [] },
    { name: 'nothing before the plan starts but the check-in invites', at: '2026-02-27T10:00:00-06:00', records: () => emptyRecords(), started: false, expect: ['checkin raj', 'checkin dana'] },
    {
      name: 'the first Monday: a weekly digest to everyone with open tasks, T1 (due in 2 days) merged into Raj\'s',
      at: '2026-03-02T10:00:00-06:00',
      expect: ['digest maya', 'digest sam', 'digest raj T1', 'digest ines', 'digest dana'],
    },
    { name: 'a weekly digest missed on Monday goes out on Tuesday, with the day\'s reminders', at: '2026-03-03T10:00:00-06:00', expect: ['digest maya T2', 'digest sam', 'digest raj T1', 'digest ines', 'digest dana'] },
    { name: 'on Tuesday, after Monday\'s digests: T2 comes within remind_before (2d); T1 is due tomorrow and not yet reminded', at: '2026-03-03T10:00:00-06:00', state: weeklySent('2026-03-02'), expect: ['reminder raj T1', 'reminder maya T2'] },
    { name: 'a reminder goes out once per due date', at: '2026-03-03T10:00:00-06:00', state: weeklySent('2026-03-02', ['remind:T1:2026-03-04:before', 'remind:T2:2026-03-05:before']), expect: [] },
    { name: 'a moved due date is reminded again', at: '2026-03-03T10:00:00-06:00', edits: dueOn('T1', '2026-03-05'), state: weeklySent('2026-03-02', ['remind:T1:2026-03-04:before', 'remind:T2:2026-03-05:before']), expect: ['reminder raj T1'] },
    { name: 'one email per person per day: someone emailed today gets nothing more until tomorrow', at: '2026-03-03T10:00:00-06:00', state: weeklySent('2026-03-02', [tickKeys.digest(EMAIL.raj, '2026-03-03')]), expect: ['reminder maya T2'] },
    { name: 'each owner gets their own reminder', at: '2026-03-04T10:00:00-06:00', state: weeklySent('2026-03-02'), expect: ['reminder raj T1', 'reminder maya T2', 'reminder ines T6'] },
    { name: 'several reminders for one person are one email', at: '2026-03-04T10:00:00-06:00', edits: dueOn('T5', '2026-03-05'), state: weeklySent('2026-03-02', ['remind:T1:2026-03-04:before', 'remind:T2:2026-03-05:before']), expect: ['reminder ines T5,T6'] },
    { name: 'done tasks and blocked tasks are not reminded', at: '2026-03-03T10:00:00-06:00', edits: [...done('T1', '2026-03-02'), ...blocked('T2', 'waiting on the printer', '2026-03-03')], state: weeklySent('2026-03-02'), expect: [] },
    {
      name: 'overdue on the next working day (the first overdue day was a Saturday)',
      at: '2026-03-09T10:00:00-05:00',
      state: weeklySent('2026-03-09', ['remind:T1:2026-03-04:before', 'remind:T2:2026-03-05:before', 'remind:T6:2026-03-06:before']),
      expect: ['reminder maya T2', 'reminder raj T1', 'reminder ines T6'],
    },
    {
      name: `overdue again ${OVERDUE_REMIND_EVERY_DAYS} days after the first overdue day, not before (and T3 comes due soon)`,
      at: '2026-03-12T10:00:00-05:00',
      state: weeklySent('2026-03-09', ['remind:T1:2026-03-04:overdue-0', 'remind:T2:2026-03-05:overdue-0', 'remind:T6:2026-03-06:overdue-0']),
      expect: ['reminder raj T1', 'reminder dana T3'],
    },
  ])('$name', (c) => {
    expect(run(c).items.sort()).toEqual([...c.expect].sort());
  });

  it('a reminder digest lists the reminded tasks; the weekly one settles the week and the day', () => {
    const { tick } = run({ name: '', at: '2026-03-02T10:00:00-06:00', expect: [] });
    const raj = tick.digests.find((d) => d.to === EMAIL.raj)!;
    expect(raj).toEqual({
      to: EMAIL.raj,
      kind: 'weekly',
      reminders: [{ task: 'T1', why: 'before', key: 'remind:T1:2026-03-04:before' }],
      key: `digest:${EMAIL.raj}:2026-03-02`,
      keys: [`digest:${EMAIL.raj}:2026-03-02`, `weekly:${EMAIL.raj}:2026-03-02`, 'remind:T1:2026-03-04:before'],
    });
  });
});

describe('planTick: escalations', () => {
  const onlyEscalations: TickItemKind[] = ['escalation'];
  const stepOne = (plan: Plan, now: Date) => ({ ...invitesSent(plan, now), escalations: { T3: { since: '2026-03-04', step: 0, at: '2026-03-06T16:00:00.000Z' } } });
  it.each<Case>([
    { name: 'a blocker younger than the first step: nothing', at: '2026-03-05T10:00:00-06:00', edits: T3_BLOCKED, kinds: onlyEscalations, expect: [] },
    { name: 'the first step (2d) notifies Maya', at: '2026-03-06T10:00:00-06:00', edits: T3_BLOCKED, kinds: onlyEscalations, expect: ['escalation maya T3 1'] },
    { name: 'a step already recorded is not sent again', at: '2026-03-06T16:00:00-06:00', edits: T3_BLOCKED, records: stepOne, kinds: onlyEscalations, expect: [] },
    { name: 'a step already in the tick state is not sent again, even without records', at: '2026-03-06T16:00:00-06:00', edits: T3_BLOCKED, state: ['escalation:T3:2026-03-04:1'], kinds: onlyEscalations, expect: [] },
    { name: 'the next step (5d) notifies Raj and Sam', at: '2026-03-09T10:00:00-05:00', edits: T3_BLOCKED, records: stepOne, kinds: onlyEscalations, expect: ['escalation raj T3 2', 'escalation sam T3 2'] },
    { name: 'steps missed while the tick was not running go out together', at: '2026-03-09T10:00:00-05:00', edits: T3_BLOCKED, kinds: onlyEscalations, expect: ['escalation maya T3 1', 'escalation raj T3 2', 'escalation sam T3 2'] },
    { name: 'someone on two steps gets one email, at the higher step', at: '2026-03-16T10:00:00-05:00', edits: T3_BLOCKED, kinds: onlyEscalations, expect: ['escalation maya T3 3', 'escalation raj T3 3', 'escalation sam T3 2'] },
    { name: 'a step reached on a weekend waits', at: '2026-03-14T10:00:00-05:00', edits: T3_BLOCKED, records: stepOne, kinds: onlyEscalations, expect: [] },
    {
      name: 'a new blocker (another since) starts the ladder again',
      at: '2026-03-06T10:00:00-06:00',
      edits: T3_BLOCKED,
      records: (plan, now) => ({ ...invitesSent(plan, now), escalations: { T3: { since: '2026-02-20', step: 2, at: '2026-03-02T16:00:00.000Z' } } }),
      kinds: onlyEscalations,
      expect: ['escalation maya T3 1'],
    },
    { name: 'a blocker without a since date never escalates', at: '2026-03-16T10:00:00-05:00', edits: [{ op: 'set', path: ['stages', 1, 'tasks', 0, 'status'], value: 'blocked' }, { op: 'set', path: ['stages', 1, 'tasks', 0, 'blocked'], value: { reason: 'waiting' } }], kinds: onlyEscalations, expect: [] },
  ])('$name', (c) => {
    expect(run(c).items.sort()).toEqual([...c.expect].sort());
  });

  it('records the highest step with who was notified, and settles one key per step', () => {
    const { tick } = run({ name: '', at: '2026-03-09T10:00:00-05:00', edits: T3_BLOCKED, expect: [] });
    expect(tick.escalations).toEqual([
      {
        task: 'T3',
        since: '2026-03-04',
        blockedDays: 5,
        steps: [0, 1],
        recipients: [{ email: EMAIL.maya, step: 0 }, { email: EMAIL.raj, step: 1 }, { email: EMAIL.sam, step: 1 }],
        keys: ['escalation:T3:2026-03-04:1', 'escalation:T3:2026-03-04:2'],
        record: { since: '2026-03-04', step: 1, at: '2026-03-09T15:00:00.000Z', notified: [EMAIL.maya, EMAIL.raj, EMAIL.sam] },
      },
    ]);
  });

  it.each([
    { name: 'unblocked', edits: [{ op: 'set' as const, path: ['stages', 1, 'tasks', 0, 'status'], value: 'in_progress' }], resets: ['T3'] },
    { name: 'blocked again since another day, not yet at a step', edits: blocked('T3', 'waiting again', '2026-03-09'), resets: ['T3'] },
    { name: 'still the same blocker', edits: T3_BLOCKED, resets: [] },
  ])('a recorded escalation resets when the task is $name', ({ edits, resets }) => {
    const { tick, items } = run({ name: '', at: '2026-03-10T10:00:00-05:00', edits, records: (plan, now) => ({ ...invitesSent(plan, now), escalations: { T3: { since: '2026-03-04', step: 1, at: '2026-03-09T15:00:00.000Z' } } }), state: weeklySent('2026-03-09'), kinds: onlyEscalations, expect: [] });
    expect(tick.resets).toEqual(resets);
    expect(items).toEqual([]);
  });
});

describe('planTick: stage completion and check-ins', () => {
  const kickoffDone = [...done('T1', '2026-03-03'), ...done('T2', '2026-03-05')];
  const changes: TickItemKind[] = ['checkin', 'task'];

  it('a stage whose last task is done: recorded, its on-complete check-in planned, the next stage\'s owners emailed', () => {
    const { tick, items } = run({ name: '', at: '2026-03-05T15:00:00-06:00', edits: kickoffDone, kinds: changes, expect: [] });
    expect(tick.stages).toEqual([
      { stageId: 'kickoff', day: '2026-03-05', key: 'stage:kickoff:2026-03-05', completedAt: '2026-03-05T21:00:00.000Z', recorded: false, announce: true, taskEmails: [{ task: 'T3', to: EMAIL.dana }, { task: 'T4', to: EMAIL.sam }] },
    ]);
    expect(tick.records.stages.kickoff).toEqual({ completedAt: '2026-03-05T21:00:00.000Z' });
    expect(items).toEqual(['checkin raj', 'checkin ines', 'checkin sam', 'task dana T3', 'task sam T4']);
    expect(tick.invites.map((a) => [a.stageId, a.method, a.checkin?.start?.toISOString()])).toEqual(Array(3).fill(['kickoff', 'REQUEST', '2026-03-06T15:00:00.000Z']));
  });

  it.each<Case & { announce?: boolean }>([
    { name: 'a completion already handled sends nothing', at: '2026-03-05T16:00:00-06:00', edits: kickoffDone, state: ['stage:kickoff:2026-03-05'], records: (plan, now) => invitesSent(plan, now, { ...emptyRecords(), stages: { kickoff: { completedAt: '2026-03-05T21:00:00.000Z' } } }), kinds: changes, expect: [] },
    { name: 'a completion found the next day keeps its day: the check-in (Friday 09:00) is not pushed back, and is past', at: '2026-03-06T10:00:00-06:00', edits: kickoffDone, kinds: changes, expect: ['task dana T3', 'task sam T4'] },
    { name: `a completion older than ${STAGE_ANNOUNCE_DAYS} days is recorded quietly`, at: '2026-03-20T09:30:00-05:00', edits: kickoffDone, kinds: changes, expect: [], announce: false },
    { name: 'scope `changes` (after a reply) plans only stage completions and check-ins', at: '2026-03-09T10:00:00-05:00', edits: [...kickoffDone, ...T3_BLOCKED], records: () => emptyRecords(), scope: 'changes', expect: ['checkin raj', 'checkin dana', 'task dana T3', 'task sam T4'] },
  ])('$name', (c) => {
    const { tick, items } = run(c);
    expect(items.sort()).toEqual([...c.expect].sort());
    if (c.announce !== undefined) expect(tick.stages.map((s) => [s.stageId, s.announce, s.completedAt])).toEqual([['kickoff', c.announce, '2026-03-05T18:00:00.000Z']]);
  });

  it('the day a past completion is recorded on is the day its check-in is timed from', () => {
    const { tick } = run({ name: '', at: '2026-03-06T10:00:00-06:00', edits: kickoffDone, expect: [] });
    expect(tick.stages[0]).toMatchObject({ day: '2026-03-05', completedAt: '2026-03-05T18:00:00.000Z' });
    // The check-in is Friday 09:00 — past at 10:00 on Friday, so there is no invite to send.
    expect(tick.invites).toEqual([]);
  });
});

describe('planTick: the plan\'s start', () => {
  const onlyTasks: TickItemKind[] = ['task'];
  it.each<Case>([
    { name: 'before the start: nothing', at: '2026-02-27T10:00:00-06:00', started: false, kinds: onlyTasks, expect: [] },
    { name: 'the first tick in the window on the start day: the first stage\'s tasks to their owners', at: '2026-03-02T09:00:00-06:00', started: false, kinds: onlyTasks, expect: ['task raj T1', 'task maya T2'] },
    { name: 'the first tick days after the start (the worker was down): still due', at: '2026-03-04T10:00:00-06:00', started: false, kinds: onlyTasks, expect: ['task raj T1', 'task maya T2'] },
    { name: 'a done task is not emailed', at: '2026-03-02T10:00:00-06:00', edits: done('T1', '2026-03-02'), started: false, kinds: onlyTasks, expect: ['task maya T2'] },
    { name: 'a first stage already complete: no opening, its completion emails the next stage', at: '2026-03-02T10:00:00-06:00', edits: [...done('T1', '2026-03-02'), ...done('T2', '2026-03-02')], started: false, kinds: onlyTasks, expect: ['task dana T3', 'task sam T4'] },
    { name: 'the start day in quiet hours: nothing yet', at: '2026-03-02T07:30:00-06:00', started: false, kinds: onlyTasks, expect: [] },
    { name: 'the start day before working hours: nothing yet', at: '2026-03-02T08:59:00-06:00', started: false, kinds: onlyTasks, expect: [] },
    { name: 'the first tick after the start on a weekend: nothing, it waits', at: '2026-03-07T10:00:00-06:00', started: false, kinds: onlyTasks, expect: [] },
    { name: '… and goes out on the next working day', at: '2026-03-09T09:00:00-05:00', started: false, kinds: onlyTasks, expect: ['task raj T1', 'task maya T2'] },
    { name: 'the start already handled (its key settled): nothing again', at: '2026-03-02T10:00:00-06:00', state: [tickKeys.opening('kickoff')], started: false, kinds: onlyTasks, expect: [] },
    { name: 'scope `changes` (after a reply): the start is not a reply\'s doing, it waits for the interval', at: '2026-03-02T10:00:00-06:00', started: false, scope: 'changes', kinds: onlyTasks, expect: [] },
  ])('$name', (c) => {
    expect(run(c).items.sort()).toEqual([...c.expect].sort());
  });

  it('plans one opening of the first stage, settled by its key, listed as task emails', () => {
    const { tick } = run({ name: '', at: '2026-03-02T09:00:00-06:00', started: false, expect: [] });
    expect(tick.openings).toEqual([{ stageId: 'kickoff', key: 'opening:kickoff', taskEmails: [{ task: 'T1', to: EMAIL.raj }, { task: 'T2', to: EMAIL.maya }] }]);
    expect(tickItems(tick).filter((i) => i.kind === 'task')).toEqual([
      { kind: 'task', to: EMAIL.raj, plan: TICK_PLAN_SLUG, task: 'T1', step: null, detail: 'stage kickoff opens' },
      { kind: 'task', to: EMAIL.maya, plan: TICK_PLAN_SLUG, task: 'T2', step: null, detail: 'stage kickoff opens' },
    ]);
  });
});

describe('tick state', () => {
  it('settles keys once, keeping the first time, and forgets keys older than the retention', () => {
    const t1 = new Date('2026-03-02T15:00:00Z');
    const t2 = new Date('2026-03-03T15:00:00Z');
    const state = settle(settle(emptyTickState(), ['a', 'b'], t1), ['b', 'c'], t2);
    expect(state.sent).toEqual({ a: t1.toISOString(), b: t1.toISOString(), c: t2.toISOString() });
    const later = new Date(t1.getTime() + (TICK_STATE_RETENTION_DAYS + 0.5) * 86_400_000);
    expect(Object.keys(pruneTickState(state, later).sent)).toEqual(['c']);
  });
});

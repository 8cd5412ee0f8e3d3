/**
 * Plan health on a date: on track / at risk / stalled with reasons in words, and the escalation
 * step a blocker has reached. Plans are the valid fixture with one task changed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { escalationStepReached, planHealth, STALLED_OVERDUE_DAYS } from '../../../site/core/plan/plan-health.ts';
import { findTask } from '../../../site/core/plan/plan-model.ts';
import type { Plan, Task } from '../../../site/core/plan/plan-types.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';
import { VALID_PLAN } from '../../fixtures/plans/invalid-cases.ts';

function basePlan(): Plan {
  const result = loadPlanText(readFileSync(VALID_PLAN, 'utf8'));
  if (!result.ok) throw new Error('fixture invalid');
  return structuredClone(result.value.plan);
}

/** The fixture plan with nothing blocked, then `change` applied to it. */
function planWith(change: (plan: Plan, task: (id: string) => Task) => void): Plan {
  const plan = basePlan();
  const task = (id: string) => findTask(plan, id)!.task;
  const t3 = task('T3');
  t3.status = 'todo';
  delete t3.blocked;
  change(plan, task);
  return plan;
}

function block(t: Task, since: string, reason = 'waiting on IT security review'): void {
  t.status = 'blocked';
  t.blocked = { reason, since };
}

// Fixture dates: start 2026-12-07; T2 (Maya Chen) is due with its stage on 2026-12-14;
// T4 (Maya Chen) on 2027-01-04; the ladder is 3d → maya, 1w → dana and ken.
describe('planHealth', () => {
  it.each([
    { name: 'nothing overdue or blocked', today: '2026-12-10', change: () => {}, level: 'on_track', reasons: ['nothing overdue or blocked'] },
    { name: 'a task due today', today: '2026-12-14', change: () => {}, level: 'on_track', reasons: ['nothing overdue or blocked'] },
    { name: 'a task 1 day overdue', today: '2026-12-15', change: () => {}, level: 'at_risk', reasons: ['T2 (Maya Chen) 1 day overdue'] },
    { name: 'a task 6 days overdue', today: '2026-12-20', change: () => {}, level: 'at_risk', reasons: ['T2 (Maya Chen) 6 days overdue'] },
    { name: `a task ${STALLED_OVERDUE_DAYS} days overdue`, today: '2026-12-21', change: () => {}, level: 'stalled', reasons: ['T2 (Maya Chen) 7 days overdue'] },
    {
      name: 'done tasks, however late',
      today: '2026-12-30',
      change: (_p: Plan, t: (id: string) => Task) => {
        Object.assign(t('T2'), { status: 'done', done: '2026-12-29' });
      },
      level: 'on_track',
      reasons: ['nothing overdue or blocked'],
    },
    {
      name: 'a blocker younger than the first step',
      today: '2026-12-10',
      change: (_p: Plan, t: (id: string) => Task) => block(t('T4'), '2026-12-08'),
      level: 'on_track',
      reasons: ['nothing overdue; a blocker not yet escalated: T4 (waiting on IT security review)'],
    },
    {
      name: 'a blocker at the first step',
      today: '2026-12-11',
      change: (_p: Plan, t: (id: string) => Task) => block(t('T4'), '2026-12-08'),
      level: 'at_risk',
      reasons: ['T4 (Maya Chen) blocked 3 days (waiting on IT security review), past escalation step 1 of 2'],
    },
    {
      name: 'a blocker at the last step',
      today: '2026-12-13',
      change: (_p: Plan, t: (id: string) => Task) => block(t('T4'), '2026-12-06', 'waiting on legal'),
      level: 'stalled',
      reasons: ['T4 (Maya Chen) blocked 7 days (waiting on legal), past the last escalation step'],
    },
    {
      name: 'a blocker that is also overdue',
      today: '2026-12-16',
      change: (_p: Plan, t: (id: string) => Task) => block(t('T2'), '2026-12-12'),
      level: 'at_risk',
      reasons: ['T2 (Maya Chen) blocked 4 days (waiting on IT security review), past escalation step 1 of 2, 2 days overdue'],
    },
    {
      name: 'a plan with no escalation ladder and an old blocker',
      today: '2026-12-30',
      change: (p: Plan, t: (id: string) => Task) => {
        p.escalation = [];
        Object.assign(t('T2'), { status: 'done', done: '2026-12-14' });
        block(t('T4'), '2026-12-08');
      },
      level: 'on_track',
      reasons: ['nothing overdue; a blocker not yet escalated: T4 (waiting on IT security review)'],
    },
    {
      name: 'a one-step ladder (its first step is its last)',
      today: '2026-12-11',
      change: (p: Plan, t: (id: string) => Task) => {
        p.escalation = [{ after: '3d', notify: ['maya'] }];
        block(t('T4'), '2026-12-08');
      },
      level: 'stalled',
      reasons: ['T4 (Maya Chen) blocked 3 days (waiting on IT security review), past the last escalation step'],
    },
    {
      name: 'a blocker with no since date (it cannot age)',
      today: '2027-01-01',
      change: (p: Plan, t: (id: string) => Task) => {
        Object.assign(t('T2'), { status: 'done', done: '2026-12-14' });
        t('T4').status = 'blocked';
        t('T4').blocked = { reason: 'waiting on legal' };
      },
      level: 'on_track',
      reasons: ['nothing overdue; a blocker not yet escalated: T4 (waiting on legal)'],
    },
  ])('$name → $level', ({ today, change, level, reasons }) => {
    const plan = planWith(change);
    const health = planHealth(plan, today);
    expect(health.level).toBe(level);
    expect(health.reasons).toEqual(reasons);
  });

  it('names the worst task first, then the rest by age', () => {
    const plan = planWith((_p, t) => {
      block(t('T4'), '2026-12-01');
      block(t('T5'), '2026-12-17');
    });
    const health = planHealth(plan, '2026-12-20');
    expect(health.level).toBe('stalled');
    expect(health.signals.map((s) => [s.task, s.health])).toEqual([
      ['T4', 'stalled'],
      ['T2', 'at_risk'],
      ['T5', 'at_risk'],
    ]);
    expect(health.signals[0]).toMatchObject({ owner: 'maya', ownerName: 'Maya Chen', side: 'vendor', blockedDays: 19, escalationStep: 1, blockedReason: 'waiting on IT security review' });
  });
});

describe('escalationStepReached', () => {
  const ladder = [
    { after: '36h', notify: ['maya'] },
    { after: '3d', notify: ['raj'] },
    { after: '2w', notify: ['dana', 'ken'] },
  ];
  it.each([
    { name: 'blocked today', since: '2026-12-10', today: '2026-12-10', step: -1 },
    { name: 'one day (24h < 36h)', since: '2026-12-10', today: '2026-12-11', step: -1 },
    { name: 'two days (48h ≥ 36h)', since: '2026-12-10', today: '2026-12-12', step: 0 },
    { name: 'three days', since: '2026-12-10', today: '2026-12-13', step: 1 },
    { name: 'thirteen days', since: '2026-12-10', today: '2026-12-23', step: 1 },
    { name: 'two weeks', since: '2026-12-10', today: '2026-12-24', step: 2 },
    { name: 'a since date in the future', since: '2026-12-20', today: '2026-12-10', step: -1 },
    { name: 'across a DST change (calendar days, not hours)', since: '2027-03-12', today: '2027-03-15', step: 1 },
  ])('$name → step $step', ({ since, today, step }) => {
    const plan = basePlan();
    plan.escalation = ladder;
    const task = findTask(plan, 'T3')!.task;
    task.blocked = { reason: 'x', since };
    expect(escalationStepReached(plan, task, today)).toBe(step);
  });

  it('is -1 for a task that is not blocked, even with an old blocked map', () => {
    const plan = basePlan();
    const task = findTask(plan, 'T4')!.task;
    expect(escalationStepReached(plan, task, '2027-06-01')).toBe(-1);
    expect(escalationStepReached(plan, { ...findTask(plan, 'T3')!.task, status: 'todo' }, '2027-06-01')).toBe(-1);
  });
});

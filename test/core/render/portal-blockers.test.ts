/**
 * The portal's blockers show the escalation step the tick recorded as notified (who, and when),
 * and health counts it, the same way `twofold status` does: one planHealth, records passed in.
 */
import { describe, expect, it } from 'vitest';
import { planCheckins } from '../../../site/core/calendar/checkin-schedule.ts';
import { planHealth, recordedEscalation } from '../../../site/core/plan/plan-health.ts';
import { emptyRecords, type PlanRecords } from '../../../site/core/plan/plan-records.ts';
import type { Plan } from '../../../site/core/plan/plan-types.ts';
import { renderPortalHtml } from '../../../site/core/render/portal-html.ts';
import { blocked, EMAIL, tickPlan } from '../../mail-worker/tick/tick-fixture.ts';

const T3_BLOCKED = blocked('T3', 'waiting on IT security review', '2026-03-04');
const notified = (step: number, since = '2026-03-04', emails: string[] = [EMAIL.raj, EMAIL.sam]): PlanRecords => ({
  ...emptyRecords(),
  escalations: { T3: { since, step, at: '2026-03-09T15:00:00.000Z', notified: emails } },
});

function blockerLine(plan: Plan, records: PlanRecords, at: string): string {
  const now = new Date(at);
  const html = renderPortalHtml({ plan, records, activity: [], bodyHtml: '', checkins: planCheckins(plan, 'harbor', records, now), now });
  return /<p class="escalation-step [^"]*">([^<]*)<\/p>/.exec(html)?.[1] ?? '(no blocker)';
}

describe('the portal blocker\'s escalation line', () => {
  it.each([
    { name: 'the step recorded, with who and the day', records: notified(1), at: '2026-03-10T10:00:00-05:00', line: 'Escalated: step 2 of 3 — Raj Patel, Sam Ortiz notified on Mar 9' },
    { name: 'the step recorded, and the next one due but not yet sent', records: notified(1), at: '2026-03-16T10:00:00-05:00', line: 'Escalated: step 2 of 3 — Raj Patel, Sam Ortiz notified on Mar 9; step 3 due' },
    { name: 'a record of an earlier blocker does not count', records: notified(2, '2026-02-20'), at: '2026-03-05T10:00:00-06:00', line: 'Escalates after 2d blocked' },
    { name: 'nothing recorded, below the first step', records: emptyRecords(), at: '2026-03-05T10:00:00-06:00', line: 'Escalates after 2d blocked' },
    { name: 'nothing recorded yet past a step (the tick has not run)', records: emptyRecords(), at: '2026-03-09T10:00:00-05:00', line: 'Escalation step 2 of 3 due — Raj Patel, Sam Ortiz to be notified' },
    { name: 'a record without the notified list names the step\'s people', records: { ...emptyRecords(), escalations: { T3: { since: '2026-03-04', step: 0, at: '2026-03-06T16:00:00.000Z' } } }, at: '2026-03-06T11:00:00-06:00', line: 'Escalated: step 1 of 3 — Maya Lee notified on Mar 6' },
  ])('$name', ({ records, at, line }) => {
    expect(blockerLine(tickPlan(T3_BLOCKED), records, at)).toBe(line);
  });

  it('no ladder: says so', () => {
    const plan = tickPlan(T3_BLOCKED);
    plan.escalation = [];
    expect(blockerLine(plan, emptyRecords(), '2026-03-09T10:00:00-05:00')).toBe('No escalation ladder');
  });
});

describe('planHealth with the records', () => {
  const t3 = (plan: Plan, today: string, records?: PlanRecords) => planHealth(plan, today, records).signals.find((s) => s.task === 'T3');

  it('counts the step notified when it is higher than the step reached by age (the ladder was lengthened)', () => {
    const plan = tickPlan(T3_BLOCKED);
    plan.escalation = plan.escalation.map((s) => ({ ...s, after: s.after.replace(/^(\d+)d$/, (_, n) => `${Number(n) * 3}d`) })); // 6d, 15d, 30d
    expect(t3(plan, '2026-03-09')).toBeUndefined();
    expect(t3(plan, '2026-03-09', notified(2))).toMatchObject({
      health: 'stalled',
      escalationStep: 2,
      reason: 'T3 (Dana Kim) blocked 5 days (waiting on IT security review), past the last escalation step',
    });
    expect(planHealth(plan, '2026-03-09', notified(2)).level).toBe('stalled');
  });

  it('ignores a record of an earlier blocker', () => {
    const plan = tickPlan(T3_BLOCKED);
    expect(recordedEscalation(notified(2, '2026-02-20'), plan.stages[1]!.tasks[0]!)).toBeUndefined();
    expect(t3(plan, '2026-03-05', notified(2, '2026-02-20'))).toBeUndefined();
  });
});

/**
 * The reschedule across a daylight-saving change, shared by invite-cases.test.ts and the child
 * process it runs under other TZs: the kickoff milestone (10:00 America/Chicago) moves from
 * Fri 2026-03-06 (CST, UTC−6) to Tue 2026-03-10 (CDT, UTC−5; the US changed on 2026-03-08).
 */
import type { PlanChange } from '../../helpers/calendar-plan.ts';

export const DST_CASE = {
  now: new Date('2026-03-01T12:00:00Z'),
  change: { edits: [{ op: 'set', path: ['stages', 0, 'due'], value: '2026-03-10' }] } satisfies PlanChange,
  recipient: 'raj@acme.example',
  before: '2026-03-06T16:00:00.000Z',
  after: '2026-03-10T15:00:00.000Z',
};

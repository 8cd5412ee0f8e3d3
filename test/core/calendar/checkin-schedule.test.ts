import { describe, expect, it } from 'vitest';
import { checkinUid, nextCheckin, parseCheckinUid, planCheckins } from '../../../site/core/calendar/checkin-schedule.ts';
import { emptyRecords, type PlanRecords } from '../../../site/core/plan/plan-records.ts';
import { calendarPlan, tasksDone, type PlanChange } from '../../helpers/calendar-plan.ts';

const now = new Date('2026-03-01T12:00:00Z');

function checkin(stageId: string, change: PlanChange = {}, records: PlanRecords = emptyRecords(), at = now) {
  const found = planCheckins(calendarPlan(change), 'acme', records, at).find((c) => c.stageId === stageId);
  if (!found) throw new Error(`no check-in for ${stageId}`);
  return found;
}

describe('planCheckins', () => {
  it.each([
    { name: 'at its time on the due date (CST)', change: {}, start: '2026-03-06T16:00:00.000Z', end: '2026-03-06T16:30:00.000Z' },
    { name: 'after the spring-forward change (CDT)', change: { edits: [{ op: 'set' as const, path: ['stages', 0, 'due'], value: '2026-03-10' }] }, start: '2026-03-10T15:00:00.000Z', end: '2026-03-10T15:30:00.000Z' },
    { name: 'at the start of working hours without `at`', change: { replace: [['at: "10:00", ', '']] as [string, string][] }, start: '2026-03-06T15:00:00.000Z', end: '2026-03-06T15:30:00.000Z' },
    { name: 'at the start of custom working hours', change: { replace: [['at: "10:00", ', '']] as [string, string][], edits: [{ op: 'set' as const, path: ['schedule'], value: { working_hours: '08:30-16:30' } }] }, start: '2026-03-06T14:30:00.000Z', end: '2026-03-06T15:00:00.000Z' },
  ])('puts an at-due check-in $name', ({ change, start, end }) => {
    const c = checkin('kickoff', change);
    expect(c.status).toBe('scheduled');
    expect(c.start?.toISOString()).toBe(start);
    expect(c.end?.toISOString()).toBe(end);
  });

  it('makes an all-day check-in a date with an exclusive end date', () => {
    const c = checkin('golive');
    expect(c).toMatchObject({ allDay: true, date: '2026-04-24', endDate: '2026-04-25' });
    expect(c.start).toBeUndefined();
  });

  it.each<{ name: string; done: Record<string, string>; records: PlanRecords; start: string | undefined }>([
    { name: 'pending while tasks are open', done: { T3: '2026-03-12' }, records: emptyRecords(), start: undefined },
    { name: 'the next working day after a Thursday', done: { T3: '2026-03-11', T4: '2026-03-12' }, records: emptyRecords(), start: '2026-03-13T14:00:00.000Z' },
    { name: 'Monday after a Friday', done: { T3: '2026-03-13', T4: '2026-03-13' }, records: emptyRecords(), start: '2026-03-16T14:00:00.000Z' },
    { name: 'the later of done dates and the recorded completion', done: { T3: '2026-03-11', T4: '2026-03-12' }, records: { ...emptyRecords(), stages: { integrate: { completedAt: '2026-03-17T22:00:00Z' } } }, start: '2026-03-18T14:00:00.000Z' },
  ])('schedules an on-complete check-in: $name', ({ done, records, start }) => {
    const c = checkin('integrate', { edits: tasksDone(done) }, records);
    expect(c.status).toBe(start ? 'scheduled' : 'pending');
    expect(c.start?.toISOString()).toBe(start);
    if (start) expect(c.end!.getTime() - c.start!.getTime()).toBe(45 * 60_000);
  });

  it('counts working days from the plan, not Monday to Friday', () => {
    const weekendWorkers = calendarPlan({ edits: tasksDone({ T3: '2026-03-12', T4: '2026-03-12' }) });
    weekendWorkers.schedule.working_days = ['sunday', 'monday'];
    const sunday = planCheckins(weekendWorkers, 'acme', emptyRecords(), now).find((x) => x.stageId === 'integrate')!;
    expect(sunday.start?.toISOString()).toBe('2026-03-15T14:00:00.000Z');
  });

  it('uses today for a stage marked done without dates', () => {
    const plan = calendarPlan({ edits: tasksDone({ T3: '2026-03-12', T4: '2026-03-12' }) });
    for (const t of plan.stages[1]!.tasks) delete t.done;
    const c = planCheckins(plan, 'acme', emptyRecords(), new Date('2026-03-18T20:00:00Z')).find((x) => x.stageId === 'integrate')!;
    expect(c.start?.toISOString()).toBe('2026-03-19T14:00:00.000Z');
  });

  it('invites both sides, with the CSM as organizer and never as an attendee', () => {
    const c = checkin('golive'); // the plan lists maya (the CSM) among the attendees
    expect(c.organizer.email).toBe('maya@northwind.example');
    expect(c.attendees.map((p) => p.email)).toEqual(['raj@acme.example', 'ines@acme.example', 'sam@northwind.example']);
  });

  it('names the check-in by default and keeps a UID that no date goes into', () => {
    const c = checkin('kickoff');
    expect(c.title).toBe('Kickoff check-in — Acme Logistics × Northwind');
    expect(c.uid).toBe('checkin-kickoff.acme@northwind.example');
    const moved = checkin('kickoff', { edits: [{ op: 'set', path: ['stages', 0, 'due'], value: '2026-03-20' }] });
    expect(moved.uid).toBe(c.uid);
  });

  it('keeps the UID stored in the records', () => {
    const records = { ...emptyRecords(), checkins: { kickoff: { uid: 'checkin-kickoff.acme@old.example', sequence: 3, revision: 'x', attendees: [] } } };
    expect(checkin('kickoff', {}, records).uid).toBe('checkin-kickoff.acme@old.example');
  });
});

describe('check-in UIDs', () => {
  it.each([
    { name: 'a Twofold UID', uid: checkinUid('acme-logistics', 'go_live-2', 'Maya@Northwind.Example'), expected: { slug: 'acme-logistics', stageId: 'go_live-2' } },
    { name: 'a Google event', uid: '4hq0s1v2k3m4n5@google.com', expected: undefined },
    { name: 'a path-traversal slug', uid: 'checkin-kickoff.../etc@x', expected: undefined },
    { name: 'an empty string', uid: '', expected: undefined },
  ])('parseCheckinUid reads $name', ({ uid, expected }) => {
    expect(parseCheckinUid(uid)).toEqual(expected);
  });
});

describe('nextCheckin', () => {
  it.each([
    { name: 'the earliest upcoming check-in', at: now, stage: 'kickoff', status: 'scheduled' },
    { name: 'the next one once the first is over', at: new Date('2026-03-07T00:00:00Z'), stage: 'golive', status: 'scheduled' },
    { name: 'a pending one when nothing is scheduled ahead', at: new Date('2026-05-01T00:00:00Z'), stage: 'integrate', status: 'pending' },
  ])('returns $name', ({ at, stage, status }) => {
    const next = nextCheckin(calendarPlan(), 'acme', emptyRecords(), at);
    expect(next?.stageId).toBe(stage);
    expect(next?.status).toBe(status);
  });
});

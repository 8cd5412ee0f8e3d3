/**
 * The calendar tests' plan: `test/fixtures/calendar/acme-checkins.md` (America/Chicago, three
 * check-ins: at-due timed, on-complete, at-due all-day with a hostile title), changed the way a
 * CSM or an emailed reply changes a plan — surgical edits of the file text.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { editPlanText, type PlanEdit } from '../../site/core/plan/plan-file.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { loadPlanText } from '../../site/core/plan/plan-validate.ts';

export const CALENDAR_PLAN_FILE = fileURLToPath(new URL('../fixtures/calendar/acme-checkins.md', import.meta.url));
export const CALENDAR_PLAN_SLUG = 'acme';
export const CALENDAR_PLAN_TEXT = readFileSync(CALENDAR_PLAN_FILE, 'utf8');

export interface PlanChange {
  edits?: PlanEdit[];
  /** Literal text replacements, for changes the edit API does not express (list items). */
  replace?: [string, string][];
}

export function calendarPlanText(change: PlanChange = {}): string {
  let text = change.edits?.length ? editPlanText(CALENDAR_PLAN_TEXT, change.edits) : CALENDAR_PLAN_TEXT;
  for (const [from, to] of change.replace ?? []) {
    if (!text.includes(from)) throw new Error(`fixture has no "${from}"`);
    text = text.replace(from, to);
  }
  return text;
}

export function calendarPlan(change: PlanChange = {}): Plan {
  const loaded = loadPlanText(calendarPlanText(change), 'acme-checkins.md');
  if (!loaded.ok) throw new Error(`fixture plan is invalid: ${loaded.problems.map((p) => p.message).join('; ')}`);
  return loaded.value.plan;
}

/** Mark tasks done on a date (what a `done` reply writes). */
export function tasksDone(done: Record<string, string>): PlanEdit[] {
  const where: Record<string, [number, number]> = { T1: [0, 0], T2: [0, 1], T3: [1, 0], T4: [1, 1], T5: [2, 0] };
  return Object.entries(done).flatMap(([id, date]) => {
    const [s, t] = where[id]!;
    return [
      { op: 'set' as const, path: ['stages', s, 'tasks', t, 'status'], value: 'done' },
      { op: 'set' as const, path: ['stages', s, 'tasks', t, 'done'], value: date },
    ];
  });
}

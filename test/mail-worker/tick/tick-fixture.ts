/**
 * The tick tests' plan: `test/fixtures/tick/harbor-month.md` (America/Chicago, March 2026, a
 * three-step ladder: 2d → Maya, 5d → Raj and Sam, 10d → Raj and Maya), changed the way replies
 * and a CSM change it — surgical edits of the file text — plus the people's addresses.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { editPlanText, type PlanEdit } from '../../../site/core/plan/plan-file.ts';
import type { Plan } from '../../../site/core/plan/plan-types.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';

export const TICK_PLAN_FILE = fileURLToPath(new URL('../../fixtures/tick/harbor-month.md', import.meta.url));
export const TICK_PLAN_SLUG = 'harbor';
export const TICK_PLAN_TEXT = readFileSync(TICK_PLAN_FILE, 'utf8');

export const EMAIL = {
  maya: 'maya@northwind.example',
  sam: 'sam@northwind.example',
  raj: 'raj@harbor.example',
  ines: 'ines@harbor.example',
  dana: 'dana@harbor.example',
} as const;
export type Who = keyof typeof EMAIL;

const WHERE: Record<string, [stage: number, task: number]> = { T1: [0, 0], T2: [0, 1], T3: [1, 0], T4: [1, 1], T5: [2, 0], T6: [2, 1] };
const at = (id: string) => ['stages', WHERE[id]![0], 'tasks', WHERE[id]![1]];

/** What a `done` reply writes. */
export const done = (id: string, date: string): PlanEdit[] => [
  { op: 'set', path: [...at(id), 'status'], value: 'done' },
  { op: 'set', path: [...at(id), 'done'], value: date },
];
/** What a `done` reply writes for a blocked task (the blocker goes with it). */
export const doneWhileBlocked = (id: string, date: string): PlanEdit[] => [...done(id, date), { op: 'delete', path: [...at(id), 'blocked'] }];
/** What a `blocked: <reason>` reply writes on `since`. */
export const blocked = (id: string, reason: string, since: string): PlanEdit[] => [
  { op: 'set', path: [...at(id), 'status'], value: 'blocked' },
  { op: 'set', path: [...at(id), 'blocked'], value: { reason, since } },
];
/** What an `unblock` reply writes. */
export const unblocked = (id: string): PlanEdit[] => [
  { op: 'set', path: [...at(id), 'status'], value: 'in_progress' },
  { op: 'delete', path: [...at(id), 'blocked'] },
];
/** A due date moved (an emailed `due:` or the CSM). */
export const dueOn = (id: string, date: string): PlanEdit[] => [{ op: 'set', path: [...at(id), 'due'], value: date }];

export function tickPlanText(edits: PlanEdit[] = [], text = TICK_PLAN_TEXT): string {
  return edits.length ? editPlanText(text, edits) : text;
}

export function tickPlan(edits: PlanEdit[] = []): Plan {
  const loaded = loadPlanText(tickPlanText(edits), 'harbor-month.md');
  if (!loaded.ok) throw new Error(`fixture plan is invalid: ${loaded.problems.map((p) => p.message).join('; ')}`);
  return loaded.value.plan;
}

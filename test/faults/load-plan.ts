/**
 * The plan the load tests reply to: one plan with LOAD_TASKS tasks, so that every reply of a
 * burst changes its own task (`T17 done`) and a lost update shows as a task line that did not
 * change. Two client owners share the tasks; nothing else in the plan sends mail (no check-ins,
 * no ladder), so the only mail a burst causes is one confirmation per reply.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';

export const LOAD_SLUG = 'load-test-holdings';
export const LOAD_TASKS = 120;
/** Replies delivered at once to one worker (embedded SMTP, and again into Dovecot). */
export const BURST_REPLIES = 50;
/** Replies shared by two worker processes on one mailbox. */
export const TWO_WORKER_REPLIES = 100;

export const LOAD_OWNERS = [
  { id: 'ana', name: 'Ana Ferreira-Lund', email: 'ana@holdings.example' },
  { id: 'ben', name: 'Ben Okafor', email: 'ben@holdings.example' },
] as const;

const STAGES = 4;

export function loadTaskId(n: number): string {
  return `T${n}`;
}

/** The task's line as the plan file holds it before any reply. */
export function loadTaskLine(n: number): string {
  return `      - { id: ${loadTaskId(n)}, title: Load task number ${n}, owner: ${LOAD_OWNERS[n % 2]!.id}, due: +${20 + (n % 30)}d }`;
}

export function loadOwnerOf(n: number): string {
  return LOAD_OWNERS[n % 2]!.email;
}

export function loadTestPlanText(): string {
  const perStage = LOAD_TASKS / STAGES;
  const stages = Array.from({ length: STAGES }, (_, s) => {
    const tasks = Array.from({ length: perStage }, (_, i) => loadTaskLine(s * perStage + i + 1));
    return `  - id: s${s + 1}\n    name: Stage ${s + 1}\n    due: +${(s + 1) * 30}d\n    tasks:\n${tasks.join('\n')}`;
  });
  return `---
client: Load Test Holdings
vendor: Northwind Analytics
timezone: Europe/Lisbon
start: 2026-11-02
golive: +130d
people:
  - { id: vera, name: Vera Lindqvist, email: vera@northwind.example, side: vendor, csm: true, sponsor: true }
  - { id: cato, name: Cato Brennan, email: cato@holdings.example, side: client, sponsor: true }
${LOAD_OWNERS.map((o) => `  - { id: ${o.id}, name: ${o.name}, email: ${o.email}, side: client }`).join('\n')}
success:
  outcome: Every reply of a burst lands in the plan, none lost and none twice.
  criteria:
    - { metric: Replies lost, target: zero }
stages:
${stages.join('\n')}
---
A plan for load tests: ${LOAD_TASKS} tasks, each changed by its own reply.
`;
}

export async function writeLoadPlan(paths: ProjectPaths): Promise<string> {
  const file = path.join(paths.plansDir, `${LOAD_SLUG}.md`);
  await writeFile(file, loadTestPlanText());
  return file;
}

/** The `done` line a reply leaves (the date is the reply's day in the plan's zone). */
export const DONE_LINE = (n: number) => new RegExp(`^${escape(loadTaskLine(n).replace(/ \}$/, ''))}, status: done, done: \\d{4}-\\d{2}-\\d{2} \\}$`);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

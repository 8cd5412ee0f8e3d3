/**
 * The shipped example plans and their activity logs tell one consistent story: each plan is
 * valid with no warnings, each log line parses, and what the log says happened (tasks done,
 * blocked, escalated) matches the plan's dates and the escalation rules.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseActivityLog } from '../../../site/core/plan/activity.ts';
import { escalationStepReached, planHealth } from '../../../site/core/plan/plan-health.ts';
import { findTask } from '../../../site/core/plan/plan-model.ts';
import type { Task } from '../../../site/core/plan/plan-types.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';
import { dateInZone } from '../../../site/core/util/dates.ts';
import { REPO_ROOT } from '../../helpers/run-twofold.ts';

/** "Today" for the examples: the day they were written for. */
const TODAY = '2026-12-03';

const EXAMPLES = [
  { name: 'halvorsen-marine (just kicked off)', file: 'halvorsen-marine.md', slug: 'halvorsen-marine', level: 'on_track' },
  { name: 'tamarind-vale (mid-way, two blockers)', file: 'tamarind-vale.mdx', slug: 'tamarind-vale', level: 'stalled' },
  { name: 'ellery-brook (nearly live)', file: 'ellery-brook.md', slug: 'ellery-brook', level: 'on_track' },
];

function load(file: string, slug: string) {
  const text = readFileSync(path.join(REPO_ROOT, 'content', 'plans', file), 'utf8');
  const result = loadPlanText(text, file);
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  const logText = readFileSync(path.join(REPO_ROOT, 'content', 'activity', `${slug}.jsonl`), 'utf8');
  return { ...result.value, text, logText, log: parseActivityLog(logText) };
}

describe.each(EXAMPLES)('example plan $name', ({ file, slug, level }) => {
  const { plan, warnings, body, logText, log } = { ...load(file, slug), body: load(file, slug).source.body };
  const localDate = (at: string) => dateInZone(new Date(at), plan.timezone);

  it(`is valid with no warnings and is ${level} on ${TODAY}`, () => {
    expect(warnings).toEqual([]);
    expect(planHealth(plan, TODAY).level).toBe(level);
    expect(plan.stages).toHaveLength(4);
    for (const stage of plan.stages) expect(stage.tasks.length).toBeGreaterThanOrEqual(4);
    expect(plan.success.criteria.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps its narrative plain Markdown (no MDX expressions or JSX yet)', () => {
    expect(body.length).toBeGreaterThan(400);
    expect(body).not.toMatch(/[{}<]/);
  });

  it('has an activity log in which every line parses, in time order, by people of the plan', () => {
    expect(log).toHaveLength(logText.trimEnd().split('\n').length);
    const times = log.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const ids = new Set([...plan.people.map((p) => p.id), 'twofold']);
    for (const e of log) expect(ids.has(e.actor), e.actor).toBe(true);
    for (const e of log) if (e.task) expect(findTask(plan, e.task), e.task).toBeDefined();
    expect(log[0]).toMatchObject({ verb: 'created', via: 'cli' });
    expect(log.every((e) => Date.parse(e.at) <= Date.parse(`${TODAY}T23:59:59Z`) + 14 * 3_600_000)).toBe(true);
  });

  it('logs a done entry on the day of each done task, by its owner', () => {
    const doneTasks = plan.stages.flatMap((s) => s.tasks).filter((t) => t.status === 'done');
    for (const task of doneTasks) {
      const entry = log.filter((e) => e.verb === 'done' && e.task === task.id).at(-1);
      expect(entry, task.id).toBeDefined();
      expect(localDate(entry!.at), task.id).toBe(task.done);
      expect(entry!.actor).toBe(task.owner);
    }
    expect(log.filter((e) => e.verb === 'done')).toHaveLength(doneTasks.length);
  });

  it('logs each open blocker on its since date, with its reason', () => {
    for (const task of plan.stages.flatMap((s) => s.tasks).filter((t) => t.status === 'blocked')) {
      const entry = log.filter((e) => e.verb === 'blocked' && e.task === task.id).at(-1);
      expect(entry, task.id).toBeDefined();
      expect(localDate(entry!.at)).toBe(task.blocked!.since);
      expect(entry!.value).toBe(task.blocked!.reason);
    }
  });

  it('logs escalations at the step the ladder had reached that day', () => {
    for (const e of log.filter((x) => x.verb === 'escalated')) {
      const blockedAt = log.filter((x) => x.verb === 'blocked' && x.task === e.task && Date.parse(x.at) <= Date.parse(e.at)).at(-1);
      expect(blockedAt, `escalation of ${e.task} without a blocker`).toBeDefined();
      const task: Task = { ...findTask(plan, e.task!)!.task, status: 'blocked', blocked: { reason: blockedAt!.value!, since: localDate(blockedAt!.at) } };
      const step = escalationStepReached(plan, task, localDate(e.at));
      expect(e.value).toMatch(new RegExp(`^step ${step + 1} of ${plan.escalation.length}: `));
    }
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyCommands, type ApplyContext } from '../../../site/core/plan/plan-edits.ts';
import { editPlanText } from '../../../site/core/plan/plan-file.ts';
import { findTask, personById, taskDue } from '../../../site/core/plan/plan-model.ts';
import type { Plan, Task } from '../../../site/core/plan/plan-types.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';
import { addDays } from '../../../site/core/util/dates.ts';
import type { ReplyCommand } from '../../../site/core/reply/reply-command.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/plans/reply-edits-acme.md', import.meta.url));
const TEXT = readFileSync(FIXTURE, 'utf8');
const BODY = TEXT.slice(TEXT.indexOf('\n---\n') + 5);

function load(text: string): Plan {
  const result = loadPlanText(text, 'reply-edits-acme.md');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return result.value.plan;
}
const PLAN = load(TEXT);
/** 2026-12-15 05:30 UTC is still 2026-12-14 in Chicago (the plan's zone): today is the 14th. */
const NOW = new Date('2026-12-15T05:30:00Z');
const TODAY = '2026-12-14';
const CTX: ApplyContext = { actor: personById(PLAN, 'raj')!, now: NOW, via: 'email', messageId: '<reply-1@acme.example>' };

/** Removed and added lines, in order (an LCS line diff). */
function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) added.push(b[j++]!);
    else removed.push(a[i++]!);
  }
  return { removed, added };
}

function apply(commands: ReplyCommand[], ctx: Partial<ApplyContext> = {}) {
  const result = applyCommands(PLAN, commands, { ...CTX, ...ctx });
  const next = editPlanText(TEXT, result.edits);
  return { result, next, ...lineDiff(TEXT, next) };
}

describe('applyCommands: each command changes exactly the expected lines of a real plan file', () => {
  it.each([
    {
      name: 'done on a to-do task (flow map) adds status and the done date in the plan zone',
      commands: [{ task: 'T1', verb: 'done' }],
      removed: ['      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: +3d }'],
      added: [`      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: +3d, status: done, done: ${TODAY} }`],
      summaries: ['T1: to do → done'],
    },
    {
      name: 'done on a blocked task removes the blocker',
      commands: [{ task: 'T2', verb: 'done' }],
      removed: ['      - { id: T2, title: Send SSO metadata, owner: raj, status: blocked, blocked: { reason: waiting on IT security review, since: 2026-12-08 } }'],
      added: [`      - { id: T2, title: Send SSO metadata, owner: raj, status: done, done: ${TODAY} }`],
      summaries: ['T2: blocked → done'],
    },
    { name: 'done on a done task changes nothing', commands: [{ task: 'T3', verb: 'done' }], removed: [], added: [], summaries: ['T3 was already done'] },
    {
      name: 'blocked on an in-progress task (block map)',
      commands: [{ task: 'T4', verb: 'blocked', value: 'waiting on T2' }],
      removed: ['        status: in_progress'],
      added: ['        status: blocked', `        blocked: { reason: waiting on T2, since: ${TODAY} }`],
      summaries: ['T4: in progress → blocked (waiting on T2)'],
    },
    {
      name: 'blocked on a blocked task keeps since and changes only the reason',
      commands: [{ task: 'T5', verb: 'blocked', value: 'the export job needs a bigger timeout' }],
      removed: ['          reason: "export job fails: timeout"'],
      added: ['          reason: the export job needs a bigger timeout'],
      summaries: ['T5: blocker is now "the export job needs a bigger timeout" (was "export job fails: timeout")'],
    },
    {
      name: 'blocked with the same reason changes nothing',
      commands: [{ task: 'T2', verb: 'blocked', value: 'waiting on IT security review' }],
      removed: [],
      added: [],
      summaries: ['T2 was already blocked: waiting on IT security review'],
    },
    {
      name: 'blocked on a task without status inserts both fields, quoting a hostile reason',
      commands: [{ task: 'T6', verb: 'blocked', value: 'IT: "security", #2' }],
      removed: [],
      added: ['        status: blocked', `        blocked: { reason: "IT: \\"security\\", #2", since: ${TODAY} }`],
      summaries: ['T6: to do → blocked (IT: "security", #2)'],
    },
    {
      name: 'unblock removes a multi-line blocked map and sets todo',
      commands: [{ task: 'T5', verb: 'unblock' }],
      removed: ['        status: blocked', '        blocked:', '          reason: "export job fails: timeout"', '          since: 2026-12-10'],
      added: ['        status: todo'],
      summaries: ['T5: blocked → to do'],
    },
    { name: 'unblock on a task that is not blocked changes nothing', commands: [{ task: 'T1', verb: 'unblock' }], removed: [], added: [], summaries: ['T1 was not blocked'] },
    {
      name: 'reopen a done task (flow map)',
      commands: [{ task: 'T3', verb: 'reopen' }],
      removed: ['      - { id: T3, title: Book the kickoff call, owner: maya, status: done, done: 2026-12-08 }'],
      added: ['      - { id: T3, title: Book the kickoff call, owner: maya, status: todo }'],
      summaries: ['T3: done → to do'],
    },
    {
      name: 'reopen a done task (block map, id without a digit)',
      commands: [{ task: 'REVIEW', verb: 'reopen' }],
      removed: ['        done: 2026-12-09', '        status: done'],
      added: ['        status: todo'],
      summaries: ['review: done → to do'],
    },
    { name: 'reopen a task that is not done changes nothing', commands: [{ task: 'T4', verb: 'reopen' }], removed: [], added: [], summaries: ['T4 is not done, so there is nothing to reopen'] },
    {
      name: 'in progress on a blocked task removes the blocker',
      commands: [{ task: 'T2', verb: 'in_progress' }],
      removed: ['      - { id: T2, title: Send SSO metadata, owner: raj, status: blocked, blocked: { reason: waiting on IT security review, since: 2026-12-08 } }'],
      added: ['      - { id: T2, title: Send SSO metadata, owner: raj, status: in_progress }'],
      summaries: ['T2: blocked → in progress'],
    },
    {
      name: 'in progress on a done task removes the done date',
      commands: [{ task: 't3', verb: 'in_progress' }],
      removed: ['      - { id: T3, title: Book the kickoff call, owner: maya, status: done, done: 2026-12-08 }'],
      added: ['      - { id: T3, title: Book the kickoff call, owner: maya, status: in_progress }'],
      summaries: ['T3: done → in progress'],
    },
    { name: 'in progress on an in-progress task changes nothing', commands: [{ task: 'T4', verb: 'in_progress' }], removed: [], added: [], summaries: ['T4 was already in progress'] },
    {
      name: 'due replaces a relative date',
      commands: [{ task: 'T1', verb: 'due', value: '2026-12-20' }],
      removed: ['    due: +7d   # the first milestone', '      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: +3d }'],
      added: ['    due: 2026-12-20   # the first milestone', '      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: 2026-12-20 }'],
      summaries: ['T1: due 2026-12-10 → 2026-12-20; the "Kickoff" milestone moves to 2026-12-20 with it'],
    },
    {
      name: 'due on a task that inherits the stage date adds its own',
      commands: [{ task: 'T6', verb: 'due', value: '2026-12-30' }],
      removed: ['    due: 2026-12-28'],
      added: ['    due: 2026-12-30', '        due: 2026-12-30'],
      summaries: ['T6: due 2026-12-28 → 2026-12-30; the "Technical setup" milestone moves to 2026-12-30 with it'],
    },
    { name: 'due on the date it already has changes nothing', commands: [{ task: 'T6', verb: 'due', value: '2026-12-28' }], removed: [], added: [], summaries: ['T6 was already due 2026-12-28'] },
    { name: 'due on the start date is allowed', commands: [{ task: 'T5', verb: 'due', value: '2026-12-07' }], removed: ['        due: 2026-12-21'], added: ['        due: 2026-12-07'], summaries: ['T5: due 2026-12-21 → 2026-12-07'] },
    { name: 'a note edits nothing', commands: [{ task: 'T4', verb: 'note', value: 'SSO call moved to Monday' }], removed: [], added: [], summaries: ['T4: note added — "SSO call moved to Monday"'] },
    {
      name: 'commands on one task apply in order (blocked, then done)',
      commands: [{ task: 'T1', verb: 'blocked', value: 'waiting on sites list' }, { task: 'T1', verb: 'done' }],
      removed: ['      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: +3d }'],
      added: [`      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: +3d, status: done, done: ${TODAY} }`],
      summaries: ['T1: to do → blocked (waiting on sites list)', 'T1: blocked → done'],
    },
    {
      name: 'done then reopen cancels out in the file',
      commands: [{ task: 'T7', verb: 'done' }, { task: 'T7', verb: 'reopen' }],
      removed: [],
      added: [],
      summaries: ['T7: to do → done', 'T7: done → to do'],
    },
    {
      name: 'a digest reply touching three tasks',
      commands: [{ task: 'T1', verb: 'done' }, { task: 'T5', verb: 'unblock' }, { task: 'T6', verb: 'due', value: '2027-01-04' }],
      removed: [
        '      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: +3d }',
        '    due: 2026-12-28',
        '        status: blocked',
        '        blocked:',
        '          reason: "export job fails: timeout"',
        '          since: 2026-12-10',
      ],
      added: [`      - { id: T1, title: Share the list of dispatch sites, owner: raj, due: +3d, status: done, done: ${TODAY} }`, '    due: 2027-01-04', '        status: todo', '        due: 2027-01-04'],
      summaries: ['T1: to do → done', 'T5: blocked → to do', 'T6: due 2026-12-28 → 2027-01-04; the "Technical setup" milestone moves to 2027-01-04 with it'],
    },
    {
      name: 'commands without an id apply to the email\'s task',
      commands: [{ verb: 'done' }],
      ctx: { defaultTask: 'T7' },
      removed: ['      - { id: T7, title: Train the dispatchers, owner: dev, status: todo }'],
      added: [`      - { id: T7, title: Train the dispatchers, owner: dev, status: done, done: ${TODAY} }`],
      summaries: ['T7: to do → done'],
    },
  ] as { name: string; commands: ReplyCommand[]; ctx?: Partial<ApplyContext>; removed: string[]; added: string[]; summaries: string[] }[])('$name', ({ commands, ctx, removed, added, summaries }) => {
    const { result, next, ...diff } = apply(commands, ctx);
    expect(result.problems).toEqual([]);
    expect(diff).toEqual({ removed, added });
    expect(result.changes.map((c) => c.summary)).toEqual(summaries);
    expect(next.endsWith(BODY)).toBe(true);
    expect(loadPlanText(next).ok).toBe(true);
  });

  it('records one activity entry per change and per note, none for a no-op', () => {
    const { result } = apply([
      { task: 'T2', verb: 'blocked', value: 'waiting on IT security review' },
      { task: 'T1', verb: 'done' },
      { task: 'T1', verb: 'note', value: 'Sites list is in the shared drive' },
      { task: 'T6', verb: 'due', value: '2027-01-04' },
    ]);
    expect(result.activity).toEqual([
      { at: NOW.toISOString(), actor: 'raj', verb: 'done', task: 'T1', via: 'email', message: '<reply-1@acme.example>' },
      { at: NOW.toISOString(), actor: 'raj', verb: 'note', task: 'T1', value: 'Sites list is in the shared drive', via: 'email', message: '<reply-1@acme.example>' },
      { at: NOW.toISOString(), actor: 'raj', verb: 'due', task: 'T6', value: '2027-01-04', via: 'email', message: '<reply-1@acme.example>' },
    ]);
    expect(result.changes.map((c) => c.changed)).toEqual([false, true, false, true]);
  });

  it('reports statuses and titles for the confirmation', () => {
    const { result } = apply([{ task: 'T2', verb: 'done' }]);
    expect(result.changes).toEqual([{ task: 'T2', title: 'Send SSO metadata', verb: 'done', changed: true, from: 'blocked', to: 'done', summary: 'T2: blocked → done' }]);
  });
});

describe('applyCommands: a reply with any problem applies nothing', () => {
  it.each([
    { name: 'an unknown task', commands: [{ task: 'T1', verb: 'done' }, { task: 'T99', verb: 'done' }], code: 'REPLY_TASK_UNKNOWN', message: 'T99 is not a task in Acme Logistics onboarding — its tasks are T1, T2, T3, T4, T5, T6, T7, review' },
    { name: 'a task of another plan', commands: [{ task: 'T1', verb: 'done' }, { task: 'BETA7', verb: 'blocked', value: 'x' }], code: 'REPLY_TASK_UNKNOWN', message: 'BETA7 is not a task in Acme Logistics onboarding — its tasks are T1, T2, T3, T4, T5, T6, T7, review' },
    { name: 'a due date before the plan start', commands: [{ task: 'T1', verb: 'done' }, { task: 'T6', verb: 'due', value: '2026-12-06' }], code: 'REPLY_DATE_BEFORE_START', message: "T6: 2026-12-06 is before the plan's start (2026-12-07)" },
    { name: 'no task and no default task (a digest line)', commands: [{ verb: 'done' }], code: 'REPLY_TASK_REQUIRED', message: '`done` does not say which task it is about' },
    { name: 'blocked without a reason', commands: [{ task: 'T1', verb: 'blocked', value: '  ' }], code: 'REPLY_BLOCKED_NEEDS_REASON', message: 'a blocked task needs a reason: say what it is waiting on' },
    { name: 'a due value that is not a date', commands: [{ task: 'T1', verb: 'due', value: 'next friday' }], code: 'REPLY_BAD_DATE', message: '"next friday" is not a calendar date' },
    { name: 'a reason longer than a plan line', commands: [{ task: 'T1', verb: 'blocked', value: 'x'.repeat(301) }], code: 'REPLY_TOO_LONG', message: 'the blocker reason is 301 characters; the limit is 300' },
    { name: 'an empty note', commands: [{ task: 'T1', verb: 'done' }, { task: 'T1', verb: 'note', value: '' }], code: 'REPLY_NOTE_EMPTY', message: 'the note is empty' },
  ] as { name: string; commands: ReplyCommand[]; code: string; message: string }[])('$name → $code', ({ commands, code, message }) => {
    const result = applyCommands(PLAN, commands, CTX);
    expect(result.edits).toEqual([]);
    expect(result.changes).toEqual([]);
    expect(result.activity).toEqual([]);
    expect(result.problems.map((p) => [p.code, p.message])).toEqual([[code, message]]);
  });

  it('an unknown default task (removed since the email went out) is a problem', () => {
    const result = applyCommands(PLAN, [{ verb: 'done' }], { ...CTX, defaultTask: 'T42' });
    expect(result.problems.map((p) => p.code)).toEqual(['REPLY_TASK_UNKNOWN']);
  });
});

describe('applyCommands: property — edits re-validate and change exactly the commanded fields', () => {
  /** Each run parses the plan once per command (about 0.1 s a run on a shared CI core). */
  const RUNS = 80;
  const TASK_IDS = ['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'review'];
  const REASONS = ['waiting on IT', 'IT: "security", #2', "O'Brien's team", 'yes', '123', 'null', '- a dash', '{ braces }', 'waiting \u2014 on legal', '@vendor: sign-off', 'ends with a colon:', '  spaced  out  ', '\u00FCber-approval', 'x'.repeat(300)];
  const VERBS = ['done', 'blocked', 'unblock', 'reopen', 'in_progress', 'due', 'note'] as const;

  function rng(seed: number) {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
  }

  function randomCommands(rand: () => number): ReplyCommand[] {
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    return Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
      const id = pick(TASK_IDS);
      const task = rand() < 0.3 ? id.toLowerCase() : id;
      const verb = pick(VERBS);
      if (verb === 'blocked') return { task, verb, value: pick(REASONS) };
      if (verb === 'due') return { task, verb, value: addDays(PLAN.start, Math.floor(rand() * 120)) };
      if (verb === 'note') return { task, verb, value: pick(REASONS) };
      return { task, verb };
    });
  }

  const taskOf = (plan: Plan, id: string): Task => findTask(plan, id)!.task;
  const withoutCommandedFields = ({ status: _s, blocked: _b, done: _d, due: _u, ...rest }: Task) => rest;

  it('for 80 random replies: re-validates, changes nothing else, equals applying one command at a time, and ends in the commanded state', () => {
    const rand = rng(20261207);
    for (let run = 0; run < RUNS; run++) {
      const commands = randomCommands(rand);
      const label = JSON.stringify(commands);
      const result = applyCommands(PLAN, commands, CTX);
      expect(result.problems, label).toEqual([]);
      const next = editPlanText(TEXT, result.edits);
      const after = load(next);
      expect(next.endsWith(BODY), label).toBe(true);

      // Nothing outside the commanded fields of the commanded tasks changed.
      const touched = new Set(commands.map((c) => c.task!.toLowerCase()));
      // A due date past its stage's milestone moves the milestone (the stage's `due`) with it.
      const strip = (plan: Plan) => ({ ...plan, stages: plan.stages.map(({ due: _due, ...s }) => ({ ...s, tasks: s.tasks.map((t) => (touched.has(t.id.toLowerCase()) ? withoutCommandedFields(t) : t)) })) });
      expect(strip(after), label).toEqual(strip(PLAN));

      // One command at a time, re-reading the file each time, ends in the same plan.
      let text = TEXT;
      for (const command of commands) {
        const step = applyCommands(load(text), [command], CTX);
        expect(step.problems, label).toEqual([]);
        text = editPlanText(text, step.edits);
      }
      expect(load(text), label).toEqual(after);

      // Each task ends in the state its last status command asks for.
      for (const id of touched) {
        const mine = commands.filter((c) => c.task!.toLowerCase() === id);
        const before = taskOf(PLAN, id);
        const task = taskOf(after, id);
        const last = [...mine].reverse().find((c) => c.verb !== 'note' && c.verb !== 'due');
        if (!last) expect({ status: task.status, blocked: task.blocked, done: task.done }, label).toEqual({ status: before.status, blocked: before.blocked, done: before.done });
        else if (last.verb === 'done') {
          expect(task.status, label).toBe('done');
          expect(task.blocked, label).toBeUndefined();
          expect([before.done, TODAY], label).toContain(task.done);
        } else if (last.verb === 'blocked') {
          expect(task.status, label).toBe('blocked');
          expect(task.blocked?.reason, label).toBe(last.value!.replace(/\s+/g, ' ').trim());
          expect([before.blocked?.since, TODAY], label).toContain(task.blocked?.since);
          expect(task.done, label).toBeUndefined();
        } else if (last.verb === 'in_progress') {
          expect({ status: task.status, blocked: task.blocked, done: task.done }, label).toEqual({ status: 'in_progress', blocked: undefined, done: undefined });
        } else if (last.verb === 'unblock') {
          expect(task.status, label).not.toBe('blocked');
          expect(task.blocked, label).toBeUndefined();
        } else if (last.verb === 'reopen') {
          expect(task.status, label).not.toBe('done');
          expect(task.done, label).toBeUndefined();
        }
        const lastDue = [...mine].reverse().find((c) => c.verb === 'due');
        const stage = findTask(after, id)!.stage;
        // Without a due command a task keeps its own date, or follows its stage's milestone (which another task's due may have moved).
        const expectedDue = lastDue ? lastDue.value : before.due ? taskDue(PLAN, findTask(PLAN, id)!.stage, before) : taskDue(after, stage, { ...task, due: undefined });
        expect(taskDue(after, stage, task), label).toBe(expectedDue);
      }
    }
  });
});

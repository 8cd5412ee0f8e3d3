/**
 * Apply reply commands to a plan: pure, all-or-nothing. The result is the surgical edits for
 * `editPlanText` (plan-file.ts), one human-readable change per command for the confirmation,
 * activity entries for the log, and problems. When any command has a problem nothing is
 * applied: a reply either changes the plan as a whole or not at all, so a sender never has to
 * work out which half of their reply took effect.
 *
 * Commands run in order against a working copy of each task, and the edits are the difference
 * between the final copy and the plan, so `done` then `reopen` on one task edits nothing.
 *
 * Semantics (today = `ctx.now` as a calendar date in the plan's time zone):
 * - done:        status done, `done: today`, blocker removed.
 * - blocked:     status blocked, `blocked: { reason, since: today }`; a task that is already
 *                blocked keeps its `since` (its escalation clock) and only gets the new reason.
 * - unblock:     status todo, blocker removed (a blocked task's earlier progress is unknown, and
 *                `todo` is what the schema defaults to). Not blocked: nothing changes.
 * - reopen:      a done task goes back to todo, `done:` removed. Not done: nothing changes.
 * - in_progress: status in_progress, blocker and `done:` removed.
 * - due:         `due: YYYY-MM-DD`; refused before the plan's start (REPLY_DATE_BEFORE_START).
 * - note:        no plan edit, an activity entry only.
 *
 * Who may act is not decided here: the processor checks the sender before calling this.
 */
import { commandValueProblem, cleanNoteText, cleanReplyValue, replyProblem, type ReplyCommand, type ReplyProblem, type ReplyVerb } from '../reply/reply-command.ts';
import { compareIso, dateInZone, resolveDate } from '../util/dates.ts';
import type { ActivityEntry } from './activity.ts';
import type { PlanEdit } from './plan-file.ts';
import { findTask, planTitle, taskDue } from './plan-model.ts';
import type { Person, Plan, Stage, Task, TaskStatus } from './plan-types.ts';

export interface ApplyContext {
  /** Who sent the commands (already authorised by the caller). */
  actor: Person;
  /** The task the answered email was about; commands without a task id apply to it. */
  defaultTask?: string;
  now: Date;
  via: 'email' | 'cli';
  /** Message-ID of the reply, recorded in each activity entry (dedupe and crash recovery). */
  messageId?: string;
}

export interface Change {
  /** Task id as the plan spells it. */
  task: string;
  title: string;
  verb: ReplyVerb;
  /** False when the command found the task already in that state. */
  changed: boolean;
  from?: TaskStatus;
  to?: TaskStatus;
  /** One line for the confirmation email: `T2: blocked → done`, `T1 was already done`. */
  summary: string;
}

export interface ApplyResult {
  /** For `editPlanText`; empty when there are problems or nothing changed. */
  edits: PlanEdit[];
  changes: Change[];
  activity: ActivityEntry[];
  problems: ReplyProblem[];
}

interface TaskState {
  status: TaskStatus;
  blocked?: { reason: string; since?: string };
  done?: string;
  /** As written in the plan (`+14d` or YYYY-MM-DD). */
  due?: string;
}

interface Working {
  task: Task;
  stage: Stage;
  path: (string | number)[];
  original: TaskState;
  state: TaskState;
  /** The latest due date any command of this reply gave the task (a milestone only moves later). */
  pushedDue?: string;
}

/** How many task ids a problem message lists before "…". */
const MAX_LISTED_IDS = 12;
const NOTE_PREVIEW_CHARS = 60;

const STATUS_LABEL: Record<TaskStatus, string> = { todo: 'to do', in_progress: 'in progress', done: 'done', blocked: 'blocked' };

export function applyCommands(plan: Plan, commands: readonly ReplyCommand[], ctx: ApplyContext): ApplyResult {
  const today = dateInZone(ctx.now, plan.timezone);
  const problems: ReplyProblem[] = [];
  const changes: Change[] = [];
  const activity: ActivityEntry[] = [];
  const working = new Map<string, Working>();

  const resolve = (command: ReplyCommand): Working | undefined => {
    const id = command.task ?? ctx.defaultTask;
    if (id === undefined) {
      problems.push(replyProblem('REPLY_TASK_REQUIRED', `\`${describe(command)}\` does not say which task it is about`, { hint: 'Start the line with the task id, e.g. `T3 done`.' }));
      return undefined;
    }
    const found = findTask(plan, id);
    if (!found) {
      problems.push(replyProblem('REPLY_TASK_UNKNOWN', `${cleanReplyValue(id).slice(0, 40)} is not a task in ${planTitle(plan)}${listIds(plan)}`, { task: id }));
      return undefined;
    }
    const key = found.task.id.toLowerCase();
    let w = working.get(key);
    if (!w) {
      const t = found.task;
      const original: TaskState = {
        status: t.status,
        ...(t.blocked ? { blocked: { ...t.blocked } } : {}),
        ...(t.done ? { done: t.done } : {}),
        ...(t.due ? { due: t.due } : {}),
      };
      w = { task: t, stage: found.stage, path: ['stages', found.stageIndex, 'tasks', found.taskIndex], original, state: structuredClone(original) };
      working.set(key, w);
    }
    return w;
  };

  for (const command of commands) {
    const w = resolve(command);
    if (!w) continue;
    const invalid = commandValueProblem({ ...command, task: w.task.id });
    if (invalid) {
      problems.push(invalid);
      continue;
    }
    if (command.verb === 'due' && compareIso(command.value!, plan.start) < 0) {
      problems.push(replyProblem('REPLY_DATE_BEFORE_START', `${w.task.id}: ${command.value} is before the plan's start (${plan.start})`, { task: w.task.id }));
      continue;
    }
    const step = applyOne(plan, w, command, today);
    changes.push(step.change);
    if (step.change.changed || command.verb === 'note') {
      activity.push({
        at: ctx.now.toISOString(),
        actor: ctx.actor.id,
        verb: command.verb,
        task: w.task.id,
        ...(step.value !== undefined ? { value: step.value } : {}),
        via: ctx.via,
        ...(ctx.messageId ? { message: ctx.messageId } : {}),
      });
    }
  }

  if (problems.length > 0) return { edits: [], changes: [], activity: [], problems };
  const edits = [...working.values()].flatMap(editsFor);
  edits.push(...milestoneMoves(plan, [...working.values()], changes));
  return { edits, changes, activity, problems };
}

/**
 * A milestone cannot be reached before its tasks are: a `due:` past its stage's due date moves
 * the stage's milestone (and so its at-due check-in, whose invite the scheduler then updates).
 */
function milestoneMoves(plan: Plan, worked: Working[], changes: Change[]): PlanEdit[] {
  const latest = new Map<number, { date: string; task: string }>();
  for (const w of worked) {
    if (w.pushedDue === undefined) continue;
    const stageIndex = w.path[1] as number;
    const stageDue = resolveDate(plan.stages[stageIndex]!.due, plan.start);
    const date = w.pushedDue;
    if (compareIso(date, stageDue) > 0 && compareIso(date, latest.get(stageIndex)?.date ?? stageDue) > 0) latest.set(stageIndex, { date, task: w.task.id });
  }
  const edits: PlanEdit[] = [];
  for (const [stageIndex, move] of latest) {
    const stage = plan.stages[stageIndex]!;
    edits.push({ op: 'set', path: ['stages', stageIndex, 'due'], value: move.date });
    const change = [...changes].reverse().find((c) => c.task === move.task && c.verb === 'due');
    if (change) change.summary += `; the "${stage.name}" milestone moves to ${move.date} with it`;
  }
  return edits;
}

function applyOne(plan: Plan, w: Working, command: ReplyCommand, today: string): { change: Change; value?: string } {
  const s = w.state;
  const id = w.task.id;
  const from = s.status;
  const base = { task: id, title: w.task.title, verb: command.verb };
  const moved = (to: TaskStatus, extra = ''): Change => ({ ...base, changed: true, from, to, summary: `${id}: ${STATUS_LABEL[from]} → ${STATUS_LABEL[to]}${extra}` });
  const same = (summary: string): Change => ({ ...base, changed: false, from, to: from, summary });

  switch (command.verb) {
    case 'done':
      if (s.status === 'done') return { change: same(`${id} was already done`) };
      s.status = 'done';
      s.done = today;
      delete s.blocked;
      return { change: moved('done') };
    case 'blocked': {
      const reason = cleanReplyValue(command.value!);
      if (s.status === 'blocked' && s.blocked) {
        if (s.blocked.reason === reason) return { change: same(`${id} was already blocked: ${reason}`), value: reason };
        const was = s.blocked.reason;
        // Already blocked: the escalation clock keeps running from the original date.
        s.blocked = { reason, since: s.blocked.since ?? today };
        return { change: { ...base, changed: true, from, to: 'blocked', summary: `${id}: blocker is now "${reason}" (was "${was}")` }, value: reason };
      }
      s.status = 'blocked';
      s.blocked = { reason, since: today };
      delete s.done;
      return { change: moved('blocked', ` (${reason})`), value: reason };
    }
    case 'unblock':
      if (s.status !== 'blocked') return { change: same(`${id} was not blocked`) };
      s.status = 'todo';
      delete s.blocked;
      return { change: moved('todo') };
    case 'reopen':
      if (s.status !== 'done') return { change: same(`${id} is not done, so there is nothing to reopen`) };
      s.status = 'todo';
      delete s.done;
      return { change: moved('todo') };
    case 'in_progress':
      if (s.status === 'in_progress') return { change: same(`${id} was already in progress`) };
      s.status = 'in_progress';
      delete s.blocked;
      delete s.done;
      return { change: moved('in_progress') };
    case 'due': {
      const date = command.value!;
      const current = taskDue(plan, w.stage, { ...w.task, due: s.due });
      if (current === date) return { change: same(`${id} was already due ${date}`), value: date };
      s.due = date;
      if (w.pushedDue === undefined || compareIso(date, w.pushedDue) > 0) w.pushedDue = date;
      return { change: { ...base, changed: true, from, to: from, summary: `${id}: due ${current} → ${date}` }, value: date };
    }
    case 'note': {
      const text = cleanNoteText(command.value!);
      const preview = text.length > NOTE_PREVIEW_CHARS ? `${text.slice(0, NOTE_PREVIEW_CHARS - 1).replace(/\s+/g, ' ')}…` : text.replace(/\s+/g, ' ');
      return { change: { ...base, changed: false, from, to: from, summary: `${id}: note added — "${preview}"` }, value: text };
    }
  }
}

/** The plan edits that turn a task's original fields into its final working state. */
function editsFor(w: Working): PlanEdit[] {
  const { original: o, state: s, path } = w;
  const edits: PlanEdit[] = [];
  if (s.status !== o.status) edits.push({ op: 'set', path: [...path, 'status'], value: s.status });
  if (o.blocked && !s.blocked) edits.push({ op: 'delete', path: [...path, 'blocked'] });
  else if (!o.blocked && s.blocked) edits.push({ op: 'set', path: [...path, 'blocked'], value: blockedValue(s.blocked) });
  else if (o.blocked && s.blocked) {
    if (s.blocked.reason !== o.blocked.reason) edits.push({ op: 'set', path: [...path, 'blocked', 'reason'], value: s.blocked.reason });
    if (s.blocked.since !== o.blocked.since && s.blocked.since !== undefined) edits.push({ op: 'set', path: [...path, 'blocked', 'since'], value: s.blocked.since });
  }
  if (o.done !== s.done) edits.push(s.done === undefined ? { op: 'delete', path: [...path, 'done'] } : { op: 'set', path: [...path, 'done'], value: s.done });
  if (o.due !== s.due && s.due !== undefined) edits.push({ op: 'set', path: [...path, 'due'], value: s.due });
  return edits;
}

function blockedValue(b: { reason: string; since?: string }): Record<string, string> {
  return b.since === undefined ? { reason: b.reason } : { reason: b.reason, since: b.since };
}

function describe(command: ReplyCommand): string {
  const label = command.verb === 'in_progress' ? 'in progress' : command.verb;
  return command.value ? `${label}: ${cleanReplyValue(command.value).slice(0, 40)}` : label;
}

function listIds(plan: Plan): string {
  const ids = plan.stages.flatMap((s) => s.tasks.map((t) => t.id));
  if (ids.length === 0) return '';
  const shown = ids.slice(0, MAX_LISTED_IDS).join(', ');
  return ` — its tasks are ${shown}${ids.length > MAX_LISTED_IDS ? ', …' : ''}`;
}

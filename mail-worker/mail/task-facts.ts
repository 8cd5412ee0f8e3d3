/**
 * What an email says about a task's timing and state, in one place, so the task email, the
 * digest, reminders and confirmations describe a task the same way: "due Mon, Dec 7, 2026",
 * "2 days overdue", "due in 2 days", "blocked 9 days: waiting on IT".
 */
import type { TaskView } from '../../site/core/plan/plan-model.ts';
import type { Plan, TaskStatus } from '../../site/core/plan/plan-types.ts';
import { daysBetween, spanToDuration } from '../../site/core/util/dates.ts';
import { formatDay, plural } from '../../site/core/util/format.ts';
import type { EmailTask } from './email-layout.ts';

export const STATUS_WORDS: Record<TaskStatus, string> = { todo: 'to do', in_progress: 'in progress', done: 'done', blocked: 'blocked' };

export type DueState = 'done' | 'overdue' | 'due-today' | 'due-soon' | 'later';

/** How many whole days before a due date count as "due soon": the plan's `remind_before`, rounded up. */
export function dueSoonDays(plan: Plan): number {
  return Math.max(1, Math.ceil(spanToDuration(plan.schedule.remind_before).as('hours') / 24));
}

export function dueState(plan: Plan, view: TaskView, today: string): DueState {
  if (view.task.status === 'done') return 'done';
  const days = daysBetween(today, view.due);
  if (days < 0) return 'overdue';
  if (days === 0) return 'due-today';
  return days <= dueSoonDays(plan) ? 'due-soon' : 'later';
}

/** "2 days overdue", "due today", "due in 2 days", or '' for later and done tasks. */
export function dueWords(plan: Plan, view: TaskView, today: string): string {
  switch (dueState(plan, view, today)) {
    case 'overdue':
      return `${plural(view.overdueDays, 'day')} overdue`;
    case 'due-today':
      return 'due today';
    case 'due-soon':
      return `due in ${plural(daysBetween(today, view.due), 'day')}`;
    default:
      return '';
  }
}

/** "to do", "in progress", "done on Mon, Dec 1, 2026", "blocked since Mon, Nov 16, 2026 (17 days)". */
export function statusWords(view: TaskView): string {
  const { task } = view;
  if (task.status === 'done') return task.done ? `done on ${formatDay(task.done)}` : 'done';
  if (task.status === 'blocked' && task.blocked?.since) {
    const days = view.blockedDays ?? 0;
    return `blocked since ${formatDay(task.blocked.since)}${days > 0 ? ` (${plural(days, 'day')})` : ''}`;
  }
  return STATUS_WORDS[task.status];
}

/** "blocked 9 days: waiting on IT", or undefined when the task is not blocked. */
export function blockerWords(view: TaskView): string | undefined {
  if (view.task.status !== 'blocked') return undefined;
  const reason = view.task.blocked?.reason ?? 'no reason given';
  return view.blockedDays !== undefined && view.blockedDays > 0 ? `blocked ${plural(view.blockedDays, 'day')}: ${reason}` : `blocked: ${reason}`;
}

/** "Mon, Dec 13" for a date in today's year, else "Mon, Jan 4, 2027" (formatDay without the year). */
export function shortDay(date: string, today: string): string {
  const full = formatDay(date);
  return date.slice(0, 4) === today.slice(0, 4) ? full.replace(/, \d{4}$/, '') : full;
}

/** A task as a line of a task list: id, title, due date and what needs attention. */
export function emailTask(plan: Plan, view: TaskView, today: string, options: { owner?: boolean } = {}): EmailTask {
  const state = dueState(plan, view, today);
  const facts = [`due ${formatDay(view.due)}`];
  const when = dueWords(plan, view, today);
  if (when) facts.push(when);
  const blocker = blockerWords(view);
  if (blocker) facts.push(blocker);
  else if (view.task.status !== 'todo') facts.push(statusWords(view));
  if (options.owner) facts.push(`owner: ${view.owner.name}`);
  const flag = view.task.status === 'blocked' ? 'blocked' : state === 'overdue' ? 'overdue' : state === 'due-soon' || state === 'due-today' ? 'due-soon' : undefined;
  return { id: view.task.id, title: view.task.title, facts, ...(flag ? { flag } : {}) };
}

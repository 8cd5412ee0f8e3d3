/**
 * Derived facts about a valid plan: absolute dates, progress, open work per side, the current
 * stage. Pure functions of the plan and "today" (a calendar date in the plan's time zone).
 */
import { resolveDate, compareIso, daysBetween } from '../util/dates.ts';
import type { Person, Plan, Side, Stage, Task } from './plan-types.ts';

export interface TaskView {
  task: Task;
  stage: Stage;
  stageIndex: number;
  taskIndex: number;
  owner: Person;
  /** Absolute due date: the task's, else the stage's. */
  due: string;
  /** Days past due (0 when not overdue or done). */
  overdueDays: number;
  /** Days blocked, when blocked with a `since` date. */
  blockedDays?: number;
}

export interface StageView {
  stage: Stage;
  index: number;
  due: string;
  total: number;
  done: number;
  complete: boolean;
  /** Date the last task was done, when complete and the dates are known. */
  completedOn?: string;
}

export function personById(plan: Plan, id: string): Person | undefined {
  return plan.people.find((p) => p.id === id);
}

export function personByEmail(plan: Plan, email: string): Person | undefined {
  const e = email.trim().toLowerCase();
  return plan.people.find((p) => p.email === e);
}

export function csmOf(plan: Plan): Person {
  return plan.people.find((p) => p.csm) ?? plan.people.find((p) => p.side === 'vendor')!;
}

export function sponsorsOf(plan: Plan): Person[] {
  return plan.people.filter((p) => p.sponsor);
}

export function planTitle(plan: Plan): string {
  return plan.title ?? `${plan.client} onboarding`;
}

export function golive(plan: Plan): string {
  return resolveDate(plan.golive, plan.start);
}

export function stageDue(plan: Plan, stage: Stage): string {
  return resolveDate(stage.due, plan.start);
}

export function taskDue(plan: Plan, stage: Stage, task: Task): string {
  return resolveDate(task.due ?? stage.due, plan.start);
}

/** Find a task by id, case-insensitively. */
export function findTask(plan: Plan, id: string): { stage: Stage; stageIndex: number; task: Task; taskIndex: number } | undefined {
  const key = id.trim().toLowerCase();
  for (const [stageIndex, stage] of plan.stages.entries()) {
    const taskIndex = stage.tasks.findIndex((t) => t.id.toLowerCase() === key);
    if (taskIndex >= 0) return { stage, stageIndex, task: stage.tasks[taskIndex]!, taskIndex };
  }
  return undefined;
}

export function allTasks(plan: Plan, today: string): TaskView[] {
  const out: TaskView[] = [];
  plan.stages.forEach((stage, stageIndex) =>
    stage.tasks.forEach((task, taskIndex) => {
      const due = taskDue(plan, stage, task);
      const open = task.status !== 'done';
      const overdueDays = open ? Math.max(0, daysBetween(due, today)) : 0;
      const view: TaskView = { task, stage, stageIndex, taskIndex, owner: personById(plan, task.owner)!, due, overdueDays };
      if (task.status === 'blocked' && task.blocked?.since) view.blockedDays = Math.max(0, daysBetween(task.blocked.since, today));
      out.push(view);
    }),
  );
  return out;
}

export function openTasks(plan: Plan, today: string, side?: Side): TaskView[] {
  return allTasks(plan, today).filter((t) => t.task.status !== 'done' && (side === undefined || t.owner.side === side));
}

export function stageViews(plan: Plan): StageView[] {
  return plan.stages.map((stage, index) => {
    const total = stage.tasks.length;
    const done = stage.tasks.filter((t) => t.status === 'done').length;
    const complete = total > 0 && done === total;
    const view: StageView = { stage, index, due: stageDue(plan, stage), total, done, complete };
    if (complete) {
      const dates = stage.tasks.map((t) => t.done).filter((d): d is string => Boolean(d)).sort(compareIso);
      if (dates.length === total) view.completedOn = dates[dates.length - 1]!;
    }
    return view;
  });
}

export interface Progress {
  done: number;
  total: number;
  percent: number;
}

export function progressOf(plan: Plan): Progress {
  const tasks = plan.stages.flatMap((s) => s.tasks);
  const done = tasks.filter((t) => t.status === 'done').length;
  return { done, total: tasks.length, percent: tasks.length ? Math.round((done / tasks.length) * 100) : 0 };
}

/** The first stage that is not complete (the last stage when all are). */
export function currentStage(plan: Plan): StageView {
  const views = stageViews(plan);
  return views.find((v) => !v.complete) ?? views[views.length - 1]!;
}

/**
 * Whose move it is: the side owning the oldest-due open task of the current stage (ties go to
 * the client, whose silence is the usual risk). Undefined when nothing is open.
 */
export function whoseMove(plan: Plan, today: string): Side | undefined {
  const stage = currentStage(plan);
  const open = openTasks(plan, today).filter((t) => t.stageIndex === stage.index);
  if (open.length === 0) return undefined;
  open.sort((a, b) => compareIso(a.due, b.due) || (a.owner.side === 'client' ? -1 : 1));
  return open[0]!.owner.side;
}

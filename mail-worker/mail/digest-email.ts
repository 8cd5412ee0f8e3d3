/**
 * The digest: one person's open tasks in one plan, with their ids, grouped by stage (overdue
 * first in each stage, "due soon" marked). Its Reply-To carries a digest token, so one reply
 * can update several tasks with `T3 done` lines.
 *
 * The scheduler (`twofold tick`) sends at most one email per person per day: reminders for
 * tasks due soon or overdue are merged into that day's digest (`kind: 'reminder'` with
 * `reminders`), and the weekly digest is `kind: 'weekly'`. `twofold mail send` uses
 * `kind: 'request'`.
 *
 * Message-ID: stable for (plan, person, kind, today, what the digest lists), so the same run
 * twice is the same message; every digest to a person references their digest thread root.
 */
import { allTasks, csmOf, planTitle, stageDue, type TaskView } from '../../site/core/plan/plan-model.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { DIGEST_TASK } from '../../site/core/reply/reply-token.ts';
import { compareIso } from '../../site/core/util/dates.ts';
import { formatDay, plural } from '../../site/core/util/format.ts';
import { REPLY_INTROS, renderEmail, type EmailBlock } from './email-layout.ts';
import {
  fromFor,
  generatedHeaders,
  memberOf,
  messageIdFor,
  planSubject,
  recipient,
  replyAddressFor,
  threadRootId,
  todayFor,
  unlockLinkFor,
  type ComposedEmail,
  type MailContext,
  type NewLink,
} from './mail-context.ts';
import { dueState, dueWords, emailTask, shortDay } from './task-facts.ts';
import { unknownTask } from './task-email.ts';

export type DigestKind = 'weekly' | 'reminder' | 'request';

export interface DigestEmailInput {
  slug: string;
  plan: Plan;
  /** The recipient's email; must be a person of the plan. */
  to: string;
  kind: DigestKind;
  /** Ids of the tasks whose reminder (due soon, due today, overdue) triggered this email: listed first. */
  reminders?: readonly string[];
  /** Short paragraphs shown after the summary (e.g. "T8 was escalated to both sponsors."). */
  notes?: readonly string[];
}

export interface ComposedDigest extends ComposedEmail {
  /** Ids of the open tasks the digest lists, in order. */
  listed: string[];
}

export async function composeDigestEmail(ctx: MailContext, input: DigestEmailInput): Promise<ComposedDigest> {
  const { slug, plan, kind } = input;
  const person = memberOf(plan, slug, input.to);
  const today = todayFor(ctx, plan);
  const open = allTasks(plan, today).filter((v) => v.task.status !== 'done' && v.owner.email === person.email);
  const reminders = (input.reminders ?? []).map((id) => {
    const view = allTasks(plan, today).find((v) => v.task.id.toLowerCase() === id.trim().toLowerCase());
    if (!view) throw unknownTask(plan, slug, id);
    return view;
  });
  const newLinks: NewLink[] = [];
  const replyTo = await replyAddressFor(ctx, slug, DIGEST_TASK, person.email);
  const link = await unlockLinkFor(ctx, slug, person.email, newLinks);
  const csm = csmOf(plan);
  const counts = countsOf(plan, open, today);

  const reminded = new Set(reminders.map((v) => v.task));
  const groups = byStage(plan, open)
    .map((g) => ({ ...g, tasks: g.tasks.filter((v) => !reminded.has(v.task)) }))
    .filter((g) => g.tasks.length > 0);
  const listed = [...reminders, ...groups.flatMap((g) => g.tasks)];

  const blocks: EmailBlock[] = [{ kind: 'heading', text: headingFor(kind, reminders.length) }, { kind: 'paragraph', text: summaryOf(open.length, counts, planTitle(plan)) }];
  for (const note of input.notes ?? []) blocks.push({ kind: 'paragraph', text: note });
  if (listed.length > 0) blocks.push({ kind: 'commands', intro: REPLY_INTROS.digest, lines: exampleLines(listed) });
  if (reminders.length > 0) {
    blocks.push({ kind: 'tasks', title: 'Needs you now', tasks: reminders.map((v) => emailTask(plan, v, today, { owner: v.owner.email !== person.email })) });
  }
  for (const group of groups) {
    blocks.push({ kind: 'tasks', title: `${group.name} (milestone ${formatDay(group.due)})`, tasks: group.tasks.map((v) => emailTask(plan, v, today)) });
  }
  if (link) blocks.push({ kind: 'button', label: 'Open the plan', url: link, note: 'This link is yours: it opens the plan without the password. Please do not forward it.' });
  blocks.push({
    kind: 'footer',
    lines: [`Reply "help" for dates and every command.`, `Sent by Twofold for ${csm.name}, ${plan.vendor}, to ${person.email}.`],
  });

  const subject = planSubject(plan, subjectFor(kind, open.length, counts, reminders, plan, today));
  const { text, html } = renderEmail(blocks, { title: subject });
  const fingerprint = [...reminders, ...open].map((v) => `${v.task.id}:${v.task.status}:${v.due}`).join(',');
  return {
    kind: 'digest',
    plan: slug,
    task: DIGEST_TASK,
    to: person.email,
    tag: `digest-${kind}`,
    newLinks,
    listed: listed.map((v) => v.task.id),
    message: {
      messageId: messageIdFor(ctx.identity, ['digest', slug, person.email, kind, today, fingerprint, (input.notes ?? []).join('\n')]),
      date: ctx.now,
      from: fromFor(ctx.identity, plan),
      to: recipient(person.email, person.name),
      replyTo,
      subject,
      references: [threadRootId(ctx.identity, slug, DIGEST_TASK, person.email)],
      headers: generatedHeaders('scheduled'),
      text,
      html,
    },
  };
}

interface Counts {
  overdue: number;
  soon: number;
  blocked: number;
}

function countsOf(plan: Plan, open: TaskView[], today: string): Counts {
  const counts: Counts = { overdue: 0, soon: 0, blocked: 0 };
  for (const v of open) {
    const state = dueState(plan, v, today);
    if (state === 'overdue') counts.overdue++;
    else if (state === 'due-soon' || state === 'due-today') counts.soon++;
    if (v.task.status === 'blocked') counts.blocked++;
  }
  return counts;
}

function headingFor(kind: DigestKind, reminders: number): string {
  if (kind === 'reminder' && reminders > 0) return reminders === 1 ? 'A task needs you' : `${reminders} tasks need you`;
  return kind === 'weekly' ? 'Your open tasks this week' : 'Your open tasks';
}

function summaryOf(open: number, counts: Counts, title: string): string {
  if (open === 0) return `Nothing is open for you in ${title} right now.`;
  const parts = [counts.overdue && `${counts.overdue} overdue`, counts.soon && `${counts.soon} due soon`, counts.blocked && `${counts.blocked} blocked`].filter(Boolean);
  return `${plural(open, 'open task')} for you in ${title}${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}

function subjectFor(kind: DigestKind, open: number, counts: Counts, reminders: TaskView[], plan: Plan, today: string): string {
  if (kind === 'reminder' && reminders.length === 1) {
    const v = reminders[0]!;
    const words = dueWords(plan, v, today);
    return `Reminder: ${v.task.id} ${words && words !== 'due today' && !words.startsWith('due in') ? `is ${words}` : `due ${shortDay(v.due, today)}`}`;
  }
  if (kind === 'reminder' && reminders.length > 1) return `Reminder: ${reminders.length} tasks due soon or overdue`;
  const extra = counts.overdue ? ` (${counts.overdue} overdue)` : '';
  return `${kind === 'weekly' ? 'Your tasks this week' : 'Your open tasks'}: ${open}${extra}`;
}

/** Stages in plan order; in each, overdue tasks first (most overdue first), then by due date. */
function byStage(plan: Plan, open: TaskView[]): Array<{ name: string; due: string; tasks: TaskView[] }> {
  const groups = new Map<number, { name: string; due: string; tasks: TaskView[] }>();
  for (const v of open) {
    const g = groups.get(v.stageIndex) ?? { name: v.stage.name, due: stageDue(plan, v.stage), tasks: [] };
    g.tasks.push(v);
    groups.set(v.stageIndex, g);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, g]) => {
      g.tasks.sort((a, b) => b.overdueDays - a.overdueDays || compareIso(a.due, b.due) || a.taskIndex - b.taskIndex);
      return g;
    });
}

/** `T3 done`, `T4 blocked: <what it is waiting on>`, `T5 due: <date>` with the reader's own ids. */
function exampleLines(listed: TaskView[]): string[] {
  const ids = listed.map((v) => v.task.id);
  const forms = ['done', 'blocked: <what it is waiting on>', 'due: <date>'];
  return forms.map((form, i) => `${ids[Math.min(i, ids.length - 1)]} ${form}`);
}

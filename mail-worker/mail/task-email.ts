/**
 * The task email: one task, for its owner (or another person of the plan on request). Its
 * Reply-To carries a signed token for (plan, task, recipient), so a reply of `done` is all it
 * takes. The text part puts the task id, the due date and the reply commands first, for a
 * reader on a phone.
 *
 * Message-ID: stable for (plan, task, recipient, title, due). Sending the same task again is
 * the same message; a changed title or due date is a new message in the same thread (it
 * references the task's thread root, mail-context.ts).
 */
import { allTasks, csmOf, findTask, planTitle, stageDue } from '../../site/core/plan/plan-model.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { formatDay } from '../../site/core/util/format.ts';
import { REPLY_COMMAND_LINES, REPLY_INTROS, renderEmail, type EmailBlock } from './email-layout.ts';
import {
  fromFor,
  generatedHeaders,
  headerSafe,
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
import { dueWords, shortDay, statusWords } from './task-facts.ts';

export interface TaskEmailInput {
  slug: string;
  plan: Plan;
  /** Task id (matched case-insensitively). */
  task: string;
  /** Recipient's email (default: the task's owner); must be a person of the plan. */
  to?: string;
}

export async function composeTaskEmail(ctx: MailContext, input: TaskEmailInput): Promise<ComposedEmail> {
  const { slug, plan } = input;
  const found = findTask(plan, input.task);
  if (!found) throw unknownTask(plan, slug, input.task);
  const today = todayFor(ctx, plan);
  const view = allTasks(plan, today).find((v) => v.task === found.task)!;
  const { task, stage } = view;
  const person = input.to ? memberOf(plan, slug, input.to) : view.owner;
  const newLinks: NewLink[] = [];
  const replyTo = await replyAddressFor(ctx, slug, task.id, person.email);
  const link = await unlockLinkFor(ctx, slug, person.email, newLinks);
  const csm = csmOf(plan);

  const when = dueWords(plan, view, today);
  const fields = [
    { label: 'Due', value: `${formatDay(view.due)}${when ? ` (${when})` : ''}` },
    { label: 'Status', value: statusWords(view) },
  ];
  if (task.status === 'blocked') fields.push({ label: 'Reason', value: task.blocked?.reason ?? 'no reason given' });
  if (person.email !== view.owner.email) fields.push({ label: 'Owner', value: view.owner.name });

  const blocks: EmailBlock[] = [
    { kind: 'heading', text: `${task.id}: ${task.title}` },
    { kind: 'fields', fields },
    { kind: 'commands', intro: REPLY_INTROS.task, lines: REPLY_COMMAND_LINES },
  ];
  if (task.details) blocks.push({ kind: 'paragraph', text: task.details });
  if (task.link) blocks.push({ kind: 'button', label: 'Link for this task', url: task.link });
  blocks.push({
    kind: 'fields',
    fields: [
      { label: 'Stage', value: `${stage.name} (milestone ${formatDay(stageDue(plan, stage))})` },
      { label: 'Plan', value: planTitle(plan) },
    ],
  });
  if (link) blocks.push({ kind: 'button', label: 'Open the plan', url: link, note: 'This link is yours: it opens the plan without the password. Please do not forward it.' });
  blocks.push({
    kind: 'footer',
    lines: [
      `Sent by Twofold for ${csm.name}, ${plan.vendor}.`,
      `Replies from ${person.email} update ${task.id}. Reply "help" for dates and every command.`,
    ],
  });

  const tail = task.status === 'done' ? '— done' : `— due ${shortDay(view.due, today)}`;
  const subject = planSubject(plan, `${task.id}: ${task.title}`, tail);
  const root = threadRootId(ctx.identity, slug, task.id, person.email);
  const { text, html } = renderEmail(blocks, { title: subject });
  return {
    kind: 'task',
    plan: slug,
    task: task.id,
    to: person.email,
    tag: `task-${task.id}`,
    newLinks,
    message: {
      messageId: messageIdFor(ctx.identity, ['task', slug, task.id.toLowerCase(), person.email, task.title, view.due]),
      date: ctx.now,
      from: fromFor(ctx.identity, plan),
      to: recipient(person.email, person.name),
      replyTo,
      subject,
      references: [root],
      headers: generatedHeaders('scheduled'),
      text,
      html,
    },
  };
}

export function unknownTask(plan: Plan, slug: string, task: string): TwofoldError {
  const ids = plan.stages.flatMap((s) => s.tasks.map((t) => t.id));
  return new TwofoldError('MAIL_TASK_UNKNOWN', `the plan "${slug}" has no task "${headerSafe(task, 40)}"`, {
    hint: `Tasks of this plan: ${ids.slice(0, 40).join(', ')}${ids.length > 40 ? ', …' : ''}.`,
  });
}

/**
 * The confirmation: the threaded answer to a reply that was applied. It lists what changed
 * (the `summary` of each plan-edits `Change`), the notes recorded, where the affected tasks
 * stand now, the sender's portal link, and carries a fresh Reply-To token for the same task
 * (or digest), so the sender can keep replying in the same thread.
 *
 * It answers a person, so it is `Auto-Submitted: auto-replied`; its Message-ID is stable for
 * the received message, so a crash-and-retry of the same reply sends the same confirmation.
 */
import type { Change } from '../../site/core/plan/plan-edits.ts';
import { allTasks, csmOf, findTask, openTasks, planTitle } from '../../site/core/plan/plan-model.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { DIGEST_TASK } from '../../site/core/reply/reply-token.ts';
import { REPLY_COMMAND_LINES, REPLY_INTROS, renderEmail, type EmailBlock } from './email-layout.ts';
import {
  answerThreading,
  fromFor,
  generatedHeaders,
  memberOf,
  messageIdFor,
  planSubject,
  recipient,
  replyAddressFor,
  replySubject,
  threadRootId,
  todayFor,
  unlockLinkFor,
  type ComposedEmail,
  type MailContext,
  type NewLink,
  type ReceivedMessage,
} from './mail-context.ts';
import { emailTask } from './task-facts.ts';

export interface ConfirmationEmailInput {
  slug: string;
  /** The plan after the reply was applied. */
  plan: Plan;
  /** The reply being answered; its sender (a person of the plan) gets the confirmation. */
  received: ReceivedMessage;
  /** The task the answered email was about, or DIGEST_TASK. */
  task: string;
  changes: readonly Change[];
  /** Notes recorded, in full (a note's change summary carries only a preview). */
  notes?: ReadonlyArray<{ task: string; text: string }>;
}

export async function composeConfirmationEmail(ctx: MailContext, input: ConfirmationEmailInput): Promise<ComposedEmail> {
  const { slug, plan, received, changes } = input;
  const sender = memberOf(plan, slug, received.from);
  const today = todayFor(ctx, plan);
  const digest = input.task === DIGEST_TASK;
  const taskId = digest ? DIGEST_TASK : (findTask(plan, input.task)?.task.id ?? input.task);
  const newLinks: NewLink[] = [];
  const replyTo = await replyAddressFor(ctx, slug, taskId, sender.email);
  const link = await unlockLinkFor(ctx, slug, sender.email, newLinks);

  const edits = changes.filter((c) => c.verb !== 'note');
  const noteChanges = changes.filter((c) => c.verb === 'note');
  const changed = edits.some((c) => c.changed) || noteChanges.length > 0;
  const blocks: EmailBlock[] = [
    { kind: 'heading', text: changed ? 'Thanks, the plan is updated' : 'Thanks, nothing needed changing' },
  ];
  if (edits.length > 0) blocks.push({ kind: 'list', items: edits.map((c) => c.summary) });
  const fullNotes = input.notes ?? [];
  if (fullNotes.length > 0) for (const note of fullNotes) blocks.push({ kind: 'quote', label: `Note added to ${note.task}:`, text: note.text });
  else if (noteChanges.length > 0) blocks.push({ kind: 'list', items: noteChanges.map((c) => c.summary) });

  const touched = [...new Set(changes.map((c) => c.task.toLowerCase()))];
  const views = allTasks(plan, today).filter((v) => touched.includes(v.task.id.toLowerCase()));
  if (views.length > 0) blocks.push({ kind: 'tasks', title: 'Where it stands now', tasks: views.map((v) => emailTask(plan, v, today, { owner: v.owner.email !== sender.email })) });
  if (!digest) blocks.push({ kind: 'commands', intro: REPLY_INTROS.confirmation, lines: REPLY_COMMAND_LINES });
  else {
    const example = views[0]?.task.id ?? openTasks(plan, today).find((v) => v.owner.email === sender.email)?.task.id;
    if (example) blocks.push({ kind: 'commands', intro: REPLY_INTROS.confirmationDigest, lines: [`${example} done`] });
  }
  if (link) blocks.push({ kind: 'button', label: 'Open the plan', url: link });
  blocks.push({ kind: 'footer', lines: [`Sent by Twofold for ${csmOf(plan).name}, ${plan.vendor}.`, `${planTitle(plan)}`] });

  const fallbackTask = digest ? undefined : findTask(plan, taskId)?.task;
  const subject = replySubject(received.subject, planSubject(plan, fallbackTask ? `${fallbackTask.id}: ${fallbackTask.title}` : 'your open tasks'));
  const { text, html } = renderEmail(blocks, { title: subject });
  return {
    kind: 'confirmation',
    plan: slug,
    task: taskId,
    to: sender.email,
    tag: `confirm-${digest ? 'digest' : taskId}`,
    newLinks,
    message: {
      messageId: messageIdFor(ctx.identity, ['confirmation', slug, received.key, sender.email]),
      date: ctx.now,
      from: fromFor(ctx.identity, plan),
      to: recipient(sender.email, sender.name),
      replyTo,
      subject,
      ...answerThreading(received, threadRootId(ctx.identity, slug, taskId, sender.email)),
      headers: generatedHeaders('reply'),
      text,
      html,
    },
  };
}

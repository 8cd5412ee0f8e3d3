/**
 * The answer to a reply that could not apply (an unknown task, an unreadable or too-early date,
 * `blocked` without a reason, a task the sender may not update, an expired token), and the
 * answer to `help`. Threaded like a confirmation, `Auto-Submitted: auto-replied`, and it quotes
 * each offending line with what was wrong and how to write it.
 *
 * Reply-To: when the plan is known and the sender is one of its people, a fresh signed address
 * for the same task (or their digest), so "reply again" works even when the old token expired.
 * A sender outside the plan gets no token: Reply-To is the plan's CSM, a person who can help.
 *
 * The caller rate-limits these (reply-rate-limit-fs.ts) before sending.
 */
import type { ReplyProblem } from '../../site/core/reply/reply-command.ts';
import { csmOf, findTask, personByEmail } from '../../site/core/plan/plan-model.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { DIGEST_TASK } from '../../site/core/reply/reply-token.ts';
import { GRAMMAR_HELP_TEXT, renderEmail, sentence, type EmailBlock } from './email-layout.ts';
import {
  answerThreading,
  fromFor,
  generatedHeaders,
  messageIdFor,
  planSubject,
  recipient,
  replyAddressFor,
  replySubject,
  threadRootId,
  unlockLinkFor,
  type ComposedEmail,
  type MailContext,
  type NewLink,
  type ReceivedMessage,
} from './mail-context.ts';

/** A problem as the answer shows it: a catalog code, what was wrong, how to fix it, the line. */
export type AnsweredProblem = Pick<ReplyProblem, 'code' | 'message'> & Partial<Pick<ReplyProblem, 'hint' | 'quote' | 'line' | 'task'>>;

export interface ReplyProblemEmailInput {
  received: ReceivedMessage;
  /** The plan the reply was about, when its token named one. */
  slug?: string;
  plan?: Plan;
  /** The token's task id, or DIGEST_TASK, when known. */
  task?: string;
  /** What could not apply (empty with `help`). */
  problems: readonly AnsweredProblem[];
  /** The sender asked for the commands: the answer is the grammar help. */
  help?: boolean;
}

export async function composeReplyProblemEmail(ctx: MailContext, input: ReplyProblemEmailInput): Promise<ComposedEmail> {
  const { received, plan, slug } = input;
  const member = plan ? personByEmail(plan, received.from) : undefined;
  const known = plan && slug ? { plan, slug } : undefined;
  const taskId = !known || !input.task || input.task === DIGEST_TASK ? DIGEST_TASK : (findTask(known.plan, input.task)?.task.id ?? DIGEST_TASK);
  const newLinks: NewLink[] = [];
  const replyTo = known && member ? await replyAddressFor(ctx, known.slug, taskId, member.email) : known ? csmOf(known.plan).email : undefined;
  const link = known && member ? await unlockLinkFor(ctx, known.slug, member.email, newLinks) : undefined;

  const blocks: EmailBlock[] = [];
  if (input.help) {
    blocks.push({ kind: 'heading', text: 'How to reply' }, { kind: 'commands', lines: GRAMMAR_HELP_TEXT.split('\n') });
  } else {
    blocks.push(
      { kind: 'heading', text: 'Nothing was changed' },
      { kind: 'paragraph', text: input.problems.length === 1 ? 'Twofold could not apply your reply, so the plan stays as it was:' : 'Twofold could not apply your reply, so the plan stays as it was. Each problem:' },
    );
    for (const p of input.problems) {
      if (p.quote) blocks.push({ kind: 'quote', label: p.line ? `Line ${p.line} of your reply:` : 'You wrote:', text: p.quote });
      blocks.push({ kind: 'paragraph', text: `${sentence(p.message)}${p.hint ? ` ${p.hint}` : ''}` });
    }
  }
  if (known && member) blocks.push({ kind: 'paragraph', text: input.help ? 'Reply to this email with your update.' : 'Reply to this email to try again: it carries a fresh reply address for you.' });
  else if (known) blocks.push({ kind: 'paragraph', text: `Only the people of this plan can update it by email. Replying to this email reaches ${csmOf(known.plan).name}.` });
  if (link) blocks.push({ kind: 'button', label: 'Open the plan', url: link });
  blocks.push({ kind: 'footer', lines: [known ? `Sent by Twofold for ${csmOf(known.plan).name}, ${known.plan.vendor}.` : 'Sent by Twofold.', 'This is an automatic answer to your email.'] });

  const fallback = known ? planSubject(known.plan, taskId === DIGEST_TASK ? 'your open tasks' : taskId) : 'your email to Twofold';
  const subject = replySubject(received.subject, fallback);
  const { text, html } = renderEmail(blocks, { title: subject });
  const root = known && member ? threadRootId(ctx.identity, known.slug, taskId, member.email) : undefined;
  return {
    kind: 'reply-problem',
    ...(known ? { plan: known.slug } : {}),
    ...(known ? { task: taskId } : {}),
    to: received.from,
    tag: input.help ? 'reply-help' : 'reply-problem',
    newLinks,
    message: {
      messageId: messageIdFor(ctx.identity, ['reply-problem', received.key, received.from.toLowerCase()]),
      date: ctx.now,
      from: fromFor(ctx.identity, known?.plan),
      to: recipient(received.from, member?.name ?? received.fromName),
      ...(replyTo ? { replyTo } : {}),
      subject,
      ...answerThreading(received, root),
      headers: generatedHeaders('reply'),
      text,
      html,
    },
  };
}

/**
 * The escalation email: a blocked task has aged past a step of the plan's escalation ladder, and
 * that step's people are asked to help. It says what is blocked, for how long, who owns it, what
 * it waits on (what is needed), where the ladder stands, and links to the portal.
 *
 * Reply-To is the CSM, not a reply token: the people on a ladder are sponsors and managers who
 * answer with a conversation ("I'll call their CISO"), not with task commands they may not be
 * allowed to give (only the owner, people acting for the owner and the CSM update a task).
 *
 * Threading: the email references the task's thread root for the recipient (mail-context.ts), so
 * every escalation of one task to one person lands in one conversation. Message-ID: stable for
 * (plan, task, blocker, step, recipient); the scheduler passes its own stable id in its place.
 */
import { allTasks, csmOf, findTask, planTitle, stageDue } from '../../site/core/plan/plan-model.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { formatDay, plural } from '../../site/core/util/format.ts';
import { renderEmail, type EmailBlock } from './email-layout.ts';
import {
  fromFor,
  generatedHeaders,
  memberOf,
  messageIdFor,
  planSubject,
  recipient,
  threadRootId,
  todayFor,
  unlockLinkFor,
  type ComposedEmail,
  type MailContext,
  type NewLink,
} from './mail-context.ts';
import { dueWords } from './task-facts.ts';
import { unknownTask } from './task-email.ts';

export interface EscalationEmailInput {
  slug: string;
  plan: Plan;
  /** The blocked task's id (matched case-insensitively). */
  task: string;
  /** The recipient's email; must be a person of the plan. */
  to: string;
  /** Index in `plan.escalation` of the step this email is for (the highest step the recipient belongs to). */
  step: number;
}

export async function composeEscalationEmail(ctx: MailContext, input: EscalationEmailInput): Promise<ComposedEmail> {
  const { slug, plan, step } = input;
  const found = findTask(plan, input.task);
  if (!found) throw unknownTask(plan, slug, input.task);
  const person = memberOf(plan, slug, input.to);
  const today = todayFor(ctx, plan);
  const view = allTasks(plan, today).find((v) => v.task === found.task)!;
  const { task, owner, stage } = view;
  const csm = csmOf(plan);
  const ladder = plan.escalation;
  const rung = ladder[step];
  const newLinks: NewLink[] = [];
  const link = await unlockLinkFor(ctx, slug, person.email, newLinks);

  const reason = task.blocked?.reason ?? 'no reason given';
  const since = task.blocked?.since;
  const age = view.blockedDays !== undefined ? plural(view.blockedDays, 'day') : 'some time';
  const stepWords = `step ${step + 1} of ${ladder.length}`;
  const ownerWords = `${owner.name}${owner.role ? `, ${owner.role}` : ''} (${owner.side === 'client' ? plan.client : plan.vendor})`;
  const due = dueWords(plan, view, today);

  const blocks: EmailBlock[] = [
    { kind: 'heading', text: `${task.id} has been blocked for ${age}` },
    {
      kind: 'paragraph',
      text: `${task.id}: ${task.title} — owned by ${ownerWords} — is waiting on: ${reason}. The plan's escalation ladder brings this to you now (${stepWords}${rung ? `, after ${rung.after} blocked` : ''}).`,
    },
    {
      kind: 'fields',
      fields: [
        { label: 'Blocked task', value: `${task.id}: ${task.title}` },
        { label: 'What is needed', value: reason },
        { label: 'Blocked since', value: since ? `${formatDay(since)} (${age})` : 'unknown' },
        { label: 'Owner', value: `${owner.name} <${owner.email}>` },
        { label: 'Due', value: `${formatDay(view.due)}${due ? ` (${due})` : ''}` },
        { label: 'Stage', value: `${stage.name} (milestone ${formatDay(stageDue(plan, stage))})` },
        { label: 'Escalation', value: ladderWords(plan, step) },
      ],
    },
    {
      kind: 'paragraph',
      text: `Please help clear it, or tell ${csm.name} who can: reply to this email to reach ${csm.name}. When the blocker is gone, ${owner.name} replies "unblock" or "done" to the task email and the escalation stops.`,
    },
  ];
  if (link) blocks.push({ kind: 'button', label: 'Open the plan', url: link, note: 'This link is yours: it opens the plan without the password. Please do not forward it.' });
  blocks.push({
    kind: 'footer',
    lines: [
      `Sent by Twofold for ${csm.name}, ${plan.vendor}, to ${person.email}, because the plan ${planTitle(plan)} names you at ${stepWords} of its escalation ladder.`,
      'Both sides see this escalation in the plan.',
    ],
  });

  const subject = planSubject(plan, `Escalation: ${task.id} blocked ${age} — ${reason}`, `(${stepWords})`);
  const { text, html } = renderEmail(blocks, { title: subject });
  return {
    kind: 'escalation',
    plan: slug,
    task: task.id,
    to: person.email,
    tag: `escalation-${task.id}`,
    newLinks,
    message: {
      messageId: messageIdFor(ctx.identity, ['escalation', slug, task.id.toLowerCase(), since ?? '', step, person.email]),
      date: ctx.now,
      from: fromFor(ctx.identity, plan),
      to: recipient(person.email, person.name),
      replyTo: recipient(csm.email, csm.name),
      subject,
      references: [threadRootId(ctx.identity, slug, task.id, person.email)],
      headers: generatedHeaders('scheduled'),
      text,
      html,
    },
  };
}

/** "step 2 of 3 (after 1w: Ines Ortega, Sam Reed); next: after 2w" */
function ladderWords(plan: Plan, step: number): string {
  const ladder = plan.escalation;
  const rung = ladder[step];
  const names = (rung?.notify ?? []).map((id) => plan.people.find((p) => p.id === id)?.name ?? id).join(', ');
  const next = ladder[step + 1];
  return `step ${step + 1} of ${ladder.length}${rung ? ` (after ${rung.after}: ${names})` : ''}${next ? `; next step after ${next.after} blocked` : '; the last step'}`;
}

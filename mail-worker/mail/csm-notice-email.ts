/**
 * The notice to a plan's CSM that a message was rejected or failed (a forged sender, a token
 * used by someone else, a malformed message kept in the Failed folder, a portal build that
 * failed after a change): the catalog code, what happened, the message's headers as received,
 * and what to do (the caller's advice, else the catalog's hint for the code).
 *
 * Everything about the message is quoted as data: its From and Subject may be forged or
 * hostile, so they are cleaned for the subject line and escaped in the HTML part.
 * `Auto-Submitted: auto-generated`; the caller rate-limits these per plan (reply-rate-limit-fs.ts).
 */
import { errorCatalog, type ErrorCode } from '../../site/core/errors/error-catalog.ts';
import { csmOf, planTitle } from '../../site/core/plan/plan-model.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { formatInstant } from '../../site/core/util/format.ts';
import { renderEmail, sentence, type EmailBlock } from './email-layout.ts';
import {
  fromFor,
  generatedHeaders,
  headerSafe,
  messageIdFor,
  planSubject,
  recipient,
  unlockLinkFor,
  type ComposedEmail,
  type MailContext,
  type NewLink,
  type ReceivedMessage,
} from './mail-context.ts';

export interface CsmNoticeInput {
  slug: string;
  plan: Plan;
  /** Why: the catalog code of the rejection or failure. */
  code: ErrorCode;
  /** What happened, in words (the processor's message for the code). */
  detail: string;
  /** The message concerned, when there is one. */
  received?: ReceivedMessage;
  /** Where the message is kept, when it was kept ("the Failed folder"). */
  keptIn?: string;
  /** What the CSM should do, when the catalog's hint for the code is not the whole answer. */
  action?: string;
}

export async function composeCsmNotice(ctx: MailContext, input: CsmNoticeInput): Promise<ComposedEmail> {
  const { slug, plan, code, received } = input;
  const csm = csmOf(plan);
  const spec = errorCatalog[code];
  const newLinks: NewLink[] = [];
  const link = await unlockLinkFor(ctx, slug, csm.email, newLinks);

  const blocks: EmailBlock[] = [
    { kind: 'heading', text: received ? 'A message was not applied' : 'Twofold needs your attention' },
    { kind: 'paragraph', text: sentence(input.detail) },
    { kind: 'fields', fields: [{ label: 'Reason', value: `${code}: ${spec.summary}` }] },
  ];
  if (received) {
    const fields = [{ label: 'From', value: received.fromName ? `${received.fromName} <${received.from}>` : received.from }];
    if (received.subject) fields.push({ label: 'Subject', value: received.subject });
    if (received.date) fields.push({ label: 'Date', value: formatInstant(received.date, plan.timezone) });
    if (received.messageId) fields.push({ label: 'Message-ID', value: received.messageId });
    if (input.keptIn) fields.push({ label: 'Kept in', value: input.keptIn });
    blocks.push({ kind: 'fields', fields });
  } else if (input.keptIn) {
    blocks.push({ kind: 'fields', fields: [{ label: 'Kept in', value: input.keptIn }] });
  }
  const todo = input.action ?? ('hint' in spec ? spec.hint : undefined);
  if (todo) blocks.push({ kind: 'paragraph', text: `What to do: ${todo}` });
  if (received) blocks.push({ kind: 'paragraph', text: 'Nothing in the plan changed because of this message.' });
  if (link) blocks.push({ kind: 'button', label: 'Open the plan', url: link });
  blocks.push({ kind: 'footer', lines: [`Sent by Twofold to ${csm.name}, the CSM of ${planTitle(plan)}.`] });

  const what = received ? `Message from ${headerSafe(received.from, 80)} not applied` : spec.summary.replace(/\.$/, '');
  const subject = planSubject(plan, what, `[${code}]`);
  const { text, html } = renderEmail(blocks, { title: subject });
  return {
    kind: 'csm-notice',
    plan: slug,
    to: csm.email,
    tag: `notice-${code.toLowerCase()}`,
    newLinks,
    message: {
      // About a message: one notice per message. About anything else (a failed build): one per day, so a recurrence is told again.
      messageId: messageIdFor(ctx.identity, ['csm-notice', slug, code, received?.key ?? `${input.detail}\u0000${ctx.now.toISOString().slice(0, 10)}`, csm.email]),
      date: ctx.now,
      from: fromFor(ctx.identity),
      to: recipient(csm.email, csm.name),
      subject,
      headers: generatedHeaders('scheduled'),
      text,
      html,
    },
  };
}

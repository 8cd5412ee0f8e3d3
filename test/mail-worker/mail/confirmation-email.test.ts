/**
 * Confirmations, end to end: a person replies to a real task email or digest, the worker's
 * pipeline evaluates the reply, the edits are applied to the plan text, and the confirmation
 * answers in the same thread with what changed and a fresh reply address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeConfirmationEmail } from '../../../mail-worker/mail/confirmation-email.ts';
import { composeDigestEmail } from '../../../mail-worker/mail/digest-email.ts';
import { receivedFrom, threadRootId } from '../../../mail-worker/mail/mail-context.ts';
import { composeTaskEmail } from '../../../mail-worker/mail/task-email.ts';
import type { Evaluation } from '../../../mail-worker/pipeline/evaluate-message.ts';
import { editPlanText } from '../../../site/core/plan/plan-file.ts';
import type { Plan } from '../../../site/core/plan/plan-types.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';
import { DIGEST_TASK } from '../../../site/core/reply/reply-token.ts';
import { readPlan } from '../../../site/lib/plan-store-fs.ts';
import { evaluate, expectWellFormed, exampleProject, flat, IDENTITY, readComposed, replyTo, unlockLinks, verifyReplyTo, type Project, type ReadMail } from './outgoing-mail-kit.ts';

const SENT = new Date('2026-12-03T09:00:00Z');
const REPLIED = new Date('2026-12-03T10:00:00Z');
const HAMISH = { name: 'Hamish Ferreira-Quaid', address: 'hamish.fq@tamarindvale.example' };
const ANOUK = { name: 'Anouk Dessaline', address: 'anouk.dessaline@kestrelbyte.example' };
let project: Project;
let taskMail: ReadMail;
let digestMail: ReadMail;

beforeAll(async () => {
  project = await exampleProject();
  const plan = await project.plan('tamarind-vale');
  taskMail = await readComposed(await composeTaskEmail(project.ctx(SENT), { slug: 'tamarind-vale', plan, task: 'T8' }));
  digestMail = await readComposed(await composeDigestEmail(project.ctx(SENT), { slug: 'tamarind-vale', plan, to: ANOUK.address, kind: 'weekly' }));
});
afterAll(async () => {
  await project.remove();
});

/** The plan after the evaluation's edits, as the worker would write it. */
async function applied(evaluation: Evaluation): Promise<Plan> {
  const stored = await readPlan(project.paths, 'tamarind-vale');
  const loaded = loadPlanText(editPlanText(stored.text, evaluation.edits));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('; '));
  return loaded.value.plan;
}

async function confirm(raw: Buffer) {
  const evaluation = await evaluate(project, raw, REPLIED);
  expect(evaluation.verdict, evaluation.detail).toBe('apply');
  const composed = await composeConfirmationEmail(project.ctx(REPLIED), {
    slug: 'tamarind-vale',
    plan: await applied(evaluation),
    received: receivedFrom(evaluation.message!),
    task: evaluation.task!,
    changes: evaluation.changes,
  });
  return { evaluation, composed, mail: await readComposed(composed) };
}

describe('a confirmation', () => {
  it('answers a "done" reply to a task email in its thread, with the change and a fresh reply address', async () => {
    const raw = await replyTo(taskMail, HAMISH, 'done', REPLIED, '<done.1@tamarindvale.example>');
    const { composed, mail } = await confirm(raw);
    expectWellFormed(mail, 'auto-replied');
    expect(composed).toMatchObject({ kind: 'confirmation', plan: 'tamarind-vale', task: 'T8', to: HAMISH.address });
    expect(mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.value : []).toEqual([{ name: HAMISH.name, address: HAMISH.address }]);
    expect(mail.parsed.subject).toBe(`Re: ${taskMail.parsed.subject}`);
    expect(mail.parsed.inReplyTo).toBe('<done.1@tamarindvale.example>');
    expect(mail.parsed.references).toEqual([threadRootId(IDENTITY, 'tamarind-vale', 'T8', HAMISH.address), taskMail.parsed.messageId, '<done.1@tamarindvale.example>']);
    expect(flat(mail.text)).toContain('Thanks, the plan is updated - T8: blocked → done');
    expect(flat(mail.text)).toContain('Where it stands now T8: Approve the security review due Mon, Nov 16, 2026 · done on Thu, Dec 3, 2026 Reply to this email');
    expect(await verifyReplyTo(project, mail, REPLIED)).toMatchObject({ ok: true, plan: 'tamarind-vale', task: 'T8', email: HAMISH.address });
    expect(unlockLinks(mail.text)).toHaveLength(1);
  });

  it('is never read as a reply when it comes back to the worker', async () => {
    const raw = await replyTo(taskMail, HAMISH, 'in progress', REPLIED);
    const { composed } = await confirm(raw);
    const echoed = await evaluate(project, Buffer.from((await readComposed(composed)).raw), REPLIED);
    expect(echoed).toMatchObject({ verdict: 'ignore', reason: 'MAIL_OWN_MESSAGE' });
  });

  it('keeps its Message-ID for the same received reply (a retry after a crash sends the same confirmation)', async () => {
    const raw = await replyTo(taskMail, HAMISH, 'due: Dec 18', REPLIED, '<due.1@tamarindvale.example>');
    const first = await confirm(raw);
    const second = await confirm(raw);
    expect(second.composed.message.messageId).toBe(first.composed.message.messageId);
    expect(flat(first.mail.text)).toContain('T8: due 2026-11-16 → 2026-12-18');
  });

  it('answers a digest reply: every change listed, the notes quoted, a digest reply address', async () => {
    const raw = await replyTo(digestMail, ANOUK, 'T12 done\nT14 note: the admin course is booked for Dec 15', REPLIED);
    const evaluation = await evaluate(project, raw, REPLIED);
    expect(evaluation.verdict, evaluation.detail).toBe('apply');
    const composed = await composeConfirmationEmail(project.ctx(REPLIED), {
      slug: 'tamarind-vale',
      plan: await applied(evaluation),
      received: receivedFrom(evaluation.message!),
      task: evaluation.task!,
      changes: evaluation.changes,
      notes: [{ task: 'T14', text: 'the admin course is booked for Dec 15' }],
    });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-replied');
    expect(composed.task).toBe(DIGEST_TASK);
    expect(flat(mail.text)).toContain('- T12: in progress → done');
    expect(flat(mail.text)).toContain('Note added to T14: > the admin course is booked for Dec 15');
    expect(mail.parsed.references).toContain(threadRootId(IDENTITY, 'tamarind-vale', DIGEST_TASK, ANOUK.address));
    expect(await verifyReplyTo(project, mail, REPLIED)).toMatchObject({ ok: true, task: DIGEST_TASK, digest: true, email: ANOUK.address });
  });

  it('says nothing needed changing when the task was already in that state', async () => {
    const raw = await replyTo(digestMail, ANOUK, 'T7 done', REPLIED);
    const { mail } = await confirm(raw);
    expect(mail.text.split('\n')[0]).toBe('Thanks, nothing needed changing');
    expect(flat(mail.text)).toContain('T7 was already done');
  });

  it.each([
    { name: 'an "RE:" subject is not prefixed again', subject: 'RE: [x] T8', expected: 'RE: [x] T8' },
    { name: 'an empty subject gets the task as subject', subject: '', expected: 'Re: [Tamarind Vale Pharmacies onboarding] T8: Approve the security review' },
    { name: 'CR/LF and a Bcc line in the subject stay in one header', subject: 'Re: ok\r\nBcc: x@evil.example', expected: 'Re: ok Bcc: x@evil.example' },
  ])('$name', async ({ subject, expected }) => {
    const plan = await project.plan('tamarind-vale');
    const mail = await readComposed(
      await composeConfirmationEmail(project.ctx(REPLIED), {
        slug: 'tamarind-vale',
        plan,
        received: { key: `<s.${expected.length}@x.example>`, messageId: `<s.${expected.length}@x.example>`, subject, from: HAMISH.address, references: ['<bogus', 'not an id', '<a@b.example> <c@d.example>'] },
        task: 'T8',
        changes: [],
      }),
    );
    expect(mail.parsed.subject).toBe(expected);
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.parsed.references).toEqual([threadRootId(IDENTITY, 'tamarind-vale', 'T8', HAMISH.address), '<a@b.example>', '<c@d.example>', `<s.${expected.length}@x.example>`]);
  });

  it('refuses to confirm to someone outside the plan', async () => {
    const plan = await project.plan('tamarind-vale');
    await expect(composeConfirmationEmail(project.ctx(REPLIED), { slug: 'tamarind-vale', plan, received: { key: 'k', from: 'eve@evil.example' }, task: 'T8', changes: [] })).rejects.toMatchObject({ code: 'MAIL_PERSON_UNKNOWN' });
  });
});

/**
 * Answers to replies that could not apply, and to `help`: real replies to a real task email,
 * evaluated by the worker's pipeline, answered in the same thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAMMAR_HELP_TEXT } from '../../../mail-worker/mail/email-layout.ts';
import { receivedFrom, threadRootId } from '../../../mail-worker/mail/mail-context.ts';
import { composeReplyProblemEmail } from '../../../mail-worker/mail/reply-problem-email.ts';
import { composeTaskEmail } from '../../../mail-worker/mail/task-email.ts';
import { REPLY_GRAMMAR_HELP } from '../../../site/core/reply/reply-grammar.ts';
import { DIGEST_TASK } from '../../../site/core/reply/reply-token.ts';
import { evaluate, expectWellFormed, exampleProject, flat, IDENTITY, readComposed, replyTo, verifyReplyTo, type Project, type ReadMail } from './outgoing-mail-kit.ts';

const SENT = new Date('2026-12-03T09:00:00Z');
const REPLIED = new Date('2026-12-03T10:00:00Z');
const HAMISH = { name: 'Hamish Ferreira-Quaid', address: 'hamish.fq@tamarindvale.example' };
let project: Project;
let taskMail: ReadMail;

beforeAll(async () => {
  project = await exampleProject();
  const plan = await project.plan('tamarind-vale');
  taskMail = await readComposed(await composeTaskEmail(project.ctx(SENT), { slug: 'tamarind-vale', plan, task: 'T8' }));
});
afterAll(async () => {
  await project.remove();
});

async function answer(body: string) {
  const raw = await replyTo(taskMail, HAMISH, body, REPLIED, `<problem.${body.length}@tamarindvale.example>`);
  const evaluation = await evaluate(project, raw, REPLIED);
  const plan = await project.plan('tamarind-vale');
  const composed = await composeReplyProblemEmail(project.ctx(REPLIED), {
    received: receivedFrom(evaluation.message!),
    slug: evaluation.plan!,
    plan,
    task: evaluation.task!,
    problems: evaluation.problems,
    help: evaluation.wantsHelp && evaluation.commands.length === 0,
  });
  return { evaluation, composed, mail: await readComposed(composed) };
}

describe('an answer to a reply that could not apply', () => {
  it.each([
    { name: '`blocked` without a reason', body: 'blocked', code: 'REPLY_BLOCKED_NEEDS_REASON', quote: 'blocked', says: 'needs a reason: what is the task waiting on? Reply `blocked: <reason>`' },
    { name: 'an unknown task', body: 'T99 done', code: 'REPLY_TASK_UNKNOWN', quote: undefined, says: 'T99 is not a task in Tamarind Vale Pharmacies onboarding — its tasks are T1, T2,' },
    { name: 'a date written with numbers only', body: 'due: 3/4', code: 'REPLY_DATE_AMBIGUOUS', quote: 'due: 3/4', says: 'Write the month as a word' },
  ])('$name: quotes the line, says what was wrong and how to write it, in the thread', async ({ body, code, quote, says }) => {
    const { evaluation, mail, composed } = await answer(body);
    expect(evaluation.verdict).toBe('reject');
    expect(evaluation.problems.map((p) => p.code)).toContain(code);
    expectWellFormed(mail, 'auto-replied');
    expect(composed).toMatchObject({ kind: 'reply-problem', plan: 'tamarind-vale', task: 'T8', to: HAMISH.address });
    expect(mail.text.split('\n')[0]).toBe('Nothing was changed');
    if (quote) expect(mail.text).toContain(`> ${quote}`);
    expect(flat(mail.text)).toContain(says);
    expect(mail.parsed.subject).toBe(`Re: ${taskMail.parsed.subject}`);
    expect(mail.parsed.inReplyTo).toBe(evaluation.message!.messageId);
    expect([mail.parsed.references].flat()).toEqual([threadRootId(IDENTITY, 'tamarind-vale', 'T8', HAMISH.address), taskMail.parsed.messageId, evaluation.message!.messageId]);
    expect(await verifyReplyTo(project, mail, REPLIED)).toMatchObject({ ok: true, task: 'T8', email: HAMISH.address });
  });

  it('answers `help` with the reply grammar, word for word', async () => {
    const { evaluation, mail, composed } = await answer('help');
    expect(evaluation).toMatchObject({ reason: 'REPLY_HELP', wantsHelp: true });
    expectWellFormed(mail, 'auto-replied');
    expect(composed.tag).toBe('reply-help');
    expect(GRAMMAR_HELP_TEXT).toBe(REPLY_GRAMMAR_HELP);
    expect(mail.text).toContain(REPLY_GRAMMAR_HELP);
    expect(mail.html).toContain('blocked: &lt;what it is waiting on&gt;');
    expect(mail.text).not.toContain('Nothing was changed');
  });

  it('gives a plan member whose token expired a fresh reply address', async () => {
    const plan = await project.plan('tamarind-vale');
    const mail = await readComposed(
      await composeReplyProblemEmail(project.ctx(REPLIED), {
        received: { key: '<old@tamarindvale.example>', messageId: '<old@tamarindvale.example>', subject: 'Re: an old task email', from: HAMISH.address },
        slug: 'tamarind-vale',
        plan,
        task: 'T8',
        problems: [{ code: 'REPLY_TOKEN_EXPIRED', message: 'the token expired on 2026-08-01', hint: 'Reply to a more recent Twofold email.' }],
      }),
    );
    expect(flat(mail.text)).toContain('The token expired on 2026-08-01. Reply to a more recent Twofold email.');
    expect(flat(mail.text)).toContain('it carries a fresh reply address for you');
    expect(await verifyReplyTo(project, mail, REPLIED)).toMatchObject({ ok: true, task: 'T8', email: HAMISH.address });
  });

  it('gives someone outside the plan no reply token: Reply-To is the CSM', async () => {
    const plan = await project.plan('tamarind-vale');
    const composed = await composeReplyProblemEmail(project.ctx(REPLIED), {
      received: { key: '<x@other.example>', messageId: '<x@other.example>', subject: 'Re: T8', from: 'someone@other.example', fromName: 'Some One' },
      slug: 'tamarind-vale',
      plan,
      task: 'T8',
      problems: [{ code: 'REPLY_SENDER_MISMATCH', message: 'the reply address belongs to someone else' }],
    });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-replied');
    expect(mail.parsed.replyTo?.value.map((a) => a.address)).toEqual(['wrenna.castellanos@kestrelbyte.example']);
    expect(composed.newLinks).toEqual([]);
    expect(mail.text).not.toMatch(/#u=/);
    expect(flat(mail.text)).toContain('Only the people of this plan can update it by email.');
  });

  it('without a known plan: no Reply-To, a plain subject, Twofold as sender', async () => {
    const mail = await readComposed(
      await composeReplyProblemEmail(project.ctx(REPLIED), {
        received: { key: 'digest:abc', from: 'someone@other.example' },
        problems: [{ code: 'REPLY_TOKEN_EXPIRED', message: 'the token expired on 2026-08-01' }],
      }),
    );
    expectWellFormed(mail, 'auto-replied');
    expect(mail.parsed.replyTo).toBeUndefined();
    expect(mail.parsed.subject).toBe('Re: your email to Twofold');
    expect(mail.parsed.from?.value).toEqual([{ name: 'Twofold', address: 'plans@kestrelbyte.example' }]);
    expect(mail.parsed.inReplyTo).toBeUndefined();
  });

  it('keeps hostile sender names and subjects out of the headers', async () => {
    const mail = await readComposed(
      await composeReplyProblemEmail(project.ctx(REPLIED), {
        received: { key: 'k', from: 'someone@other.example', fromName: 'Eve\r\nBcc: x@evil.example', subject: 'Hi\r\nBcc: y@evil.example\r\nX-Injected: 1' },
        problems: [{ code: 'REPLY_NO_COMMAND', message: '<script>alert(1)</script>', quote: 'x\r\nBcc: z@evil.example' }],
        task: DIGEST_TASK,
      }),
    );
    expectWellFormed(mail, 'auto-replied');
    expect(mail.headerNames).not.toContain('x-injected');
    expect(mail.parsed.bcc).toBeUndefined();
    const to = mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.value[0] : undefined;
    expect(to?.name).toBe('Eve Bcc: x@evil.example');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

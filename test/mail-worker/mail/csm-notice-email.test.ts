/**
 * Notices to the CSM about rejected and failed messages: a forged reply evaluated by the real
 * pipeline, a malformed message kept in Failed, a build failure. The message's own headers are
 * hostile data and must stay data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeCsmNotice } from '../../../mail-worker/mail/csm-notice-email.ts';
import { MAX_SUBJECT_CHARS, receivedFrom } from '../../../mail-worker/mail/mail-context.ts';
import { composeTaskEmail } from '../../../mail-worker/mail/task-email.ts';
import { errorCatalog } from '../../../site/core/errors/error-catalog.ts';
import { evaluate, expectWellFormed, exampleProject, flat, readComposed, replyTo, type Project } from './outgoing-mail-kit.ts';

const SENT = new Date('2026-12-03T09:00:00Z');
const REPLIED = new Date('2026-12-03T10:00:00Z');
const CSM = 'wrenna.castellanos@kestrelbyte.example';
let project: Project;

beforeAll(async () => {
  project = await exampleProject();
});
afterAll(async () => {
  await project.remove();
});

describe('a notice to the CSM', () => {
  it('reports a reply from someone the token was not issued to, with the code and what to do', async () => {
    const plan = await project.plan('tamarind-vale');
    const taskMail = await readComposed(await composeTaskEmail(project.ctx(SENT), { slug: 'tamarind-vale', plan, task: 'T8' }));
    const forged = await replyTo(taskMail, { name: 'Eve Mallory', address: 'eve@evil.example' }, 'done', REPLIED, '<forged.1@evil.example>');
    const evaluation = await evaluate(project, forged, REPLIED);
    expect(evaluation).toMatchObject({ verdict: 'reject', reason: 'REPLY_SENDER_MISMATCH' });

    const composed = await composeCsmNotice(project.ctx(REPLIED), { slug: 'tamarind-vale', plan, code: evaluation.reason, detail: evaluation.detail, received: receivedFrom(evaluation.message!) });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-generated');
    expect(composed).toMatchObject({ kind: 'csm-notice', plan: 'tamarind-vale', to: CSM });
    expect(mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.value : []).toEqual([{ name: 'Wrenna Castellanos', address: CSM }]);
    expect(mail.parsed.from?.value).toEqual([{ name: 'Twofold', address: 'plans@kestrelbyte.example' }]);
    expect(mail.parsed.replyTo).toBeUndefined();
    expect(mail.parsed.subject).toBe('[Tamarind Vale Pharmacies onboarding] Message from eve@evil.example not applied [REPLY_SENDER_MISMATCH]');
    const text = flat(mail.text);
    expect(text).toContain('The reply address belongs to hamish.fq@tamarindvale.example, but the message is from eve@evil.example, who is not in this plan.');
    expect(text).toContain(`Reason: REPLY_SENDER_MISMATCH: ${errorCatalog.REPLY_SENDER_MISMATCH.summary}`);
    expect(text).toContain('From: Eve Mallory <eve@evil.example>');
    expect(text).toContain('Message-ID: <forged.1@evil.example>');
    expect(text).toContain(`What to do: ${errorCatalog.REPLY_SENDER_MISMATCH.hint}`);
    expect(text).toContain('Nothing in the plan changed because of this message.');
  });

  it('reports a malformed message kept in the Failed folder, with the caller\'s advice', async () => {
    const plan = await project.plan('ellery-brook');
    const mail = await readComposed(
      await composeCsmNotice(project.ctx(REPLIED), {
        slug: 'ellery-brook',
        plan,
        code: 'MAIL_MALFORMED',
        detail: 'the message has no header fields',
        received: { key: 'digest:0123abcd', from: 'gparrish@ellerybrook.example', date: REPLIED },
        keptIn: 'the Failed folder',
        action: 'Open it in a mail client and ask Gwilym to send it again.',
      }),
    );
    expectWellFormed(mail, 'auto-generated');
    const text = flat(mail.text);
    expect(text).toContain('Kept in: the Failed folder');
    expect(text).toContain('Date: Thu, Dec 3, 2026, 5:00 AM EST');
    expect(text).toContain('What to do: Open it in a mail client and ask Gwilym to send it again.');
    expect(mail.parsed.subject).toMatch(/\[MAIL_MALFORMED\]$/);
  });

  it('reports a failed build without a message, its subject bounded', async () => {
    const plan = await project.plan('halvorsen-marine');
    const composed = await composeCsmNotice(project.ctx(REPLIED), { slug: 'halvorsen-marine', plan, code: 'BUILD_ASTRO_FAILED', detail: 'astro build exited with code 1 after the change to T3.' });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-generated');
    expect(mail.text.split('\n')[0]).toBe('Twofold needs your attention');
    expect(flat(mail.text)).toContain('Astro build exited with code 1 after the change to T3.');
    expect([...(mail.parsed.subject ?? '')].length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
    expect(mail.parsed.subject).toMatch(/^\[Halvorsen Marine Supply onboarding\] Astro failed while building the portals.* \[BUILD_ASTRO_FAILED\]$/);
    // The CSM's own personal link, so the notice opens the plan in one tap.
    expect(mail.text).toMatch(/#u=/);
  });

  it('keeps a hostile message\'s From name, subject and id as data', async () => {
    const plan = await project.plan('tamarind-vale');
    const mail = await readComposed(
      await composeCsmNotice(project.ctx(REPLIED), {
        slug: 'tamarind-vale',
        plan,
        code: 'REPLY_TOKEN_FORGED',
        detail: 'the token does not verify',
        received: {
          key: '<h@evil.example>',
          from: 'eve@evil.example',
          fromName: 'Eve\r\nBcc: x@evil.example',
          subject: '<script>alert(1)</script>\r\nX-Injected: 1',
          messageId: '<h@evil.example>',
        },
      }),
    );
    expectWellFormed(mail, 'auto-generated');
    expect(mail.headerNames).not.toContain('x-injected');
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(flat(mail.text)).toContain('From: Eve Bcc: x@evil.example <eve@evil.example>');
  });
});

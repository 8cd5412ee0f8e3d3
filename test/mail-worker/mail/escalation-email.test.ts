/**
 * The escalation email: a blocked task brought to a ladder step's people — the blocker, its age,
 * the owner, what is needed, where the ladder stands, a personal portal link; Reply-To the CSM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeEscalationEmail } from '../../../mail-worker/mail/escalation-email.ts';
import { threadRootId } from '../../../mail-worker/mail/mail-context.ts';
import { expectWellFormed, exampleProject, flat, IDENTITY, readComposed, unlockLinks, type Project } from './outgoing-mail-kit.ts';

const NOW = new Date('2026-12-03T09:00:00Z');
const DELPHINE = 'delphine.okonjo-marsh@tamarindvale.example';
const WRENNA = 'wrenna.castellanos@kestrelbyte.example';
let project: Project;

beforeAll(async () => {
  project = await exampleProject();
});
afterAll(async () => {
  await project.remove();
});

describe('an escalation email', () => {
  it('says what is blocked, for how long, by whom, what is needed and where the ladder stands', async () => {
    const plan = await project.plan('tamarind-vale');
    const composed = await composeEscalationEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task: 't8', to: DELPHINE, step: 2 });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-generated');
    expect(composed).toMatchObject({ kind: 'escalation', plan: 'tamarind-vale', task: 'T8', to: DELPHINE });
    expect(mail.parsed.subject).toBe('[Tamarind Vale Pharmacies onboarding] Escalation: T8 blocked 17 days — waiting on the external penetration-test report the ri… (step 3 of 3)');
    const text = flat(mail.text);
    expect(mail.text.split('\n')[0]).toBe('T8 has been blocked for 17 days');
    expect(text).toContain('T8: Approve the security review — owned by Hamish Ferreira-Quaid, Head of IT (Tamarind Vale Pharmacies) — is waiting on: waiting on the external penetration-test report the risk committee asked for.');
    expect(text).toContain('Blocked since: Mon, Nov 16, 2026 (17 days)');
    expect(text).toContain('Owner: Hamish Ferreira-Quaid <hamish.fq@tamarindvale.example>');
    expect(text).toContain('Escalation: step 3 of 3 (after 10d: Delphine Okonjo-Marsh, Idris Vantongeren); the last step');
    expect(text).toContain('reply to this email to reach Wrenna Castellanos');
    expect(mail.parsed.replyTo?.value[0]?.address).toBe(WRENNA);
    expect(mail.parsed.references).toBe(threadRootId(IDENTITY, 'tamarind-vale', 'T8', DELPHINE));
    expect(unlockLinks(mail.text).map((l) => l.link)).toEqual([expect.objectContaining({ linkId: expect.any(String) })]);
  });

  it('at an earlier step names the next one', async () => {
    const plan = await project.plan('tamarind-vale');
    const mail = await readComposed(await composeEscalationEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task: 'T10', to: WRENNA, step: 0 }));
    expect(flat(mail.text)).toContain('Escalation: step 1 of 3 (after 2d: Wrenna Castellanos); next step after 5d blocked');
    expect(mail.parsed.subject).toMatch(/^\[Tamarind Vale Pharmacies onboarding\] Escalation: T10 blocked 3 days — .*\(step 1 of 3\)$/);
  });

  it('keeps a hostile blocker reason out of the headers and the HTML', async () => {
    const plan = await project.plan('tamarind-vale');
    const t8 = plan.stages[1]!.tasks.find((t) => t.id === 'T8')!;
    t8.blocked = { reason: 'IT\r\nBcc: all@evil.example <script>alert(1)</script>', since: '2026-11-16' };
    const mail = await readComposed(await composeEscalationEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task: 'T8', to: DELPHINE, step: 1 }));
    expect(mail.headerNames).not.toContain('bcc');
    expect(mail.parsed.subject).not.toMatch(/[\r\n]/);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;');
  });

  it.each([
    { name: 'a task the plan does not have', task: 'T99', to: DELPHINE, code: 'MAIL_TASK_UNKNOWN' },
    { name: 'someone outside the plan', task: 'T8', to: 'eve@evil.example', code: 'MAIL_PERSON_UNKNOWN' },
  ])('refuses $name with $code', async ({ task, to, code }) => {
    const plan = await project.plan('tamarind-vale');
    await expect(composeEscalationEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task, to, step: 0 })).rejects.toMatchObject({ code });
  });
});

/**
 * Digests: a person's open tasks with ids, by stage, overdue first, "due soon" marked, with the
 * reminders and notes the scheduler passes in, and a digest reply token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeDigestEmail, type DigestKind } from '../../../mail-worker/mail/digest-email.ts';
import { threadRootId } from '../../../mail-worker/mail/mail-context.ts';
import { DIGEST_TASK } from '../../../site/core/reply/reply-token.ts';
import { expectWellFormed, exampleProject, flat, IDENTITY, readComposed, unlockLinks, verifyReplyTo, type Project } from './outgoing-mail-kit.ts';

const NOW = new Date('2026-12-03T09:00:00Z');
const ANOUK = 'anouk.dessaline@kestrelbyte.example';
let project: Project;

beforeAll(async () => {
  project = await exampleProject();
});
afterAll(async () => {
  await project.remove();
});

/** Task ids in the order the text part lists them (lines `T3: title`). */
function listedIds(text: string): string[] {
  return [...text.matchAll(/^([A-Za-z][\w-]*): /gm)].map((m) => m[1]!);
}

describe('a digest', () => {
  it('lists every open task of the person by stage, overdue first, with a digest Reply-To and a personal link', async () => {
    const plan = await project.plan('tamarind-vale');
    const composed = await composeDigestEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, to: ANOUK, kind: 'request' });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-generated');
    expect(composed).toMatchObject({ kind: 'digest', plan: 'tamarind-vale', task: DIGEST_TASK, to: ANOUK, listed: ['T10', 'T12', 'T14'] });
    // T10 (setup, 3 days overdue and blocked), T12 (setup, due Dec 14), T14 (adoption).
    expect(listedIds(mail.text)).toEqual(['T10', 'T12', 'T14']);
    expect(flat(mail.text)).toContain('Technical setup (milestone Mon, Dec 14, 2026) T10: Connect the Corvina Rx dispensing feed so alerts open urgent tickets due Mon, Nov 30, 2026 · 3 days overdue · blocked 3 days: waiting on API credentials');
    expect(flat(mail.text)).toContain('Training and adoption (milestone Mon, Jan 4, 2027) T14:');
    expect(flat(mail.text)).toContain('3 open tasks for you in Tamarind Vale Pharmacies onboarding: 1 overdue, 1 blocked.');
    expect(mail.parsed.subject).toBe('[Tamarind Vale Pharmacies onboarding] Your open tasks: 3 (1 overdue)');
    expect(mail.parsed.references).toBe(threadRootId(IDENTITY, 'tamarind-vale', DIGEST_TASK, ANOUK));
    expect(await verifyReplyTo(project, mail, NOW)).toMatchObject({ ok: true, plan: 'tamarind-vale', task: DIGEST_TASK, digest: true, email: ANOUK });
    expect(unlockLinks(mail.text).map((l) => l.link)).toEqual([expect.objectContaining({ linkId: expect.any(String) })]);
    // The reply form with the reader's own ids, near the top.
    const lines = mail.text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Reply with lines like these'));
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(10);
    expect(lines.slice(at + 2, at + 5)).toEqual(['T10 done', 'T12 blocked: <what it is waiting on>', 'T14 due: <date>']);
    // Flags drawn in the HTML part: overdue/blocked and due soon differ from plain tasks.
    expect(mail.html).toMatch(/border-left-color:#6a1b9a;"><span[^>]*>T10</);
  });

  it('marks tasks due within the plan\'s remind_before as due soon', async () => {
    const plan = await project.plan('ellery-brook');
    const mail = await readComposed(await composeDigestEmail(project.ctx(NOW), { slug: 'ellery-brook', plan, to: 'cmarchetti@ellerybrook.example', kind: 'weekly' }));
    expect(flat(mail.text)).toContain('T19: Publish the member notice about the new chat and email channels due Fri, Dec 4, 2026 · due in 1 day · in progress');
    expect(flat(mail.text)).toContain('1 open task for you in Ellery Brook member support onboarding: 1 due soon.');
    expect(mail.html).toMatch(/border-left-color:#b26a00;"><span[^>]*>T19</);
    expect(mail.parsed.subject).toBe('[Ellery Brook member support onboarding] Your tasks this week: 1');
    expect(mail.text.split('\n')[0]).toBe('Your open tasks this week');
  });

  it.each<{ name: string; kind: DigestKind; reminders: string[]; subject: string; heading: string; first: string[] }>([
    { name: 'one overdue reminder', kind: 'reminder', reminders: ['T10'], subject: 'Reminder: T10 is 3 days overdue', heading: 'A task needs you', first: ['T10', 'T12', 'T14'] },
    { name: 'one reminder for a task due soon', kind: 'reminder', reminders: ['t12'], subject: 'Reminder: T12 due Mon, Dec 14', heading: 'A task needs you', first: ['T12', 'T10', 'T14'] },
    { name: 'two reminders', kind: 'reminder', reminders: ['T14', 'T10'], subject: 'Reminder: 2 tasks due soon or overdue', heading: '2 tasks need you', first: ['T14', 'T10', 'T12'] },
    { name: 'a weekly digest with a reminder merged in', kind: 'weekly', reminders: ['T12'], subject: 'Your tasks this week: 3 (1 overdue)', heading: 'Your open tasks this week', first: ['T12', 'T10', 'T14'] },
  ])('$name: reminders first under "Needs you now", each task listed once', async ({ kind, reminders, subject, heading, first }) => {
    const plan = await project.plan('tamarind-vale');
    const composed = await composeDigestEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, to: ANOUK, kind, reminders, notes: ['T8 was escalated to both sponsors.'] });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-generated');
    expect(mail.parsed.subject).toBe(`[Tamarind Vale Pharmacies onboarding] ${subject}`);
    expect(mail.text.split('\n')[0]).toBe(heading);
    expect(listedIds(mail.text)).toEqual(first);
    expect(composed.listed).toEqual(first);
    expect(mail.text).toContain('Needs you now');
    expect(mail.text).toContain('T8 was escalated to both sponsors.');
  });

  it('says so when nothing is open for the person', async () => {
    const plan = await project.plan('ellery-brook');
    const mail = await readComposed(await composeDigestEmail(project.ctx(NOW), { slug: 'ellery-brook', plan, to: 'wrenna.castellanos@kestrelbyte.example', kind: 'request' }));
    expect(flat(mail.text)).toContain('Nothing is open for you in Ellery Brook member support onboarding right now.');
    expect(listedIds(mail.text)).toEqual([]);
  });

  it('keeps its Message-ID for the same day and content, and changes it with the day, the kind or a task', async () => {
    const plan = await project.plan('tamarind-vale');
    const id = async (now: Date, kind: DigestKind, p = plan) => (await composeDigestEmail(project.ctx(now), { slug: 'tamarind-vale', plan: p, to: ANOUK, kind })).message.messageId;
    const base = await id(NOW, 'weekly');
    expect(await id(new Date('2026-12-03T05:00:00Z'), 'weekly')).toBe(base); // same day in Sydney
    expect(await id(new Date('2026-12-03T14:00:00Z'), 'weekly')).not.toBe(base); // Dec 4 in Sydney
    expect(await id(NOW, 'request')).not.toBe(base);
    const changed = structuredClone(plan);
    changed.stages[1]!.tasks.find((t) => t.id === 'T12')!.status = 'todo';
    expect(await id(NOW, 'weekly', changed)).not.toBe(base);
  });

  it('uses the fixed date of --now YYYY-MM-DD as today', async () => {
    const plan = await project.plan('tamarind-vale');
    const mail = await readComposed(await composeDigestEmail(project.ctx(new Date('2026-12-10T12:00:00Z'), { today: '2026-12-03' }), { slug: 'tamarind-vale', plan, to: ANOUK, kind: 'request' }));
    expect(flat(mail.text)).toContain('3 days overdue');
  });

  it.each([
    { name: 'a reminder for a task the plan does not have', input: { to: ANOUK, reminders: ['T99'] }, code: 'MAIL_TASK_UNKNOWN' },
    { name: 'a recipient outside the plan', input: { to: 'eve@evil.example' }, code: 'MAIL_PERSON_UNKNOWN' },
  ])('refuses $name', async ({ input, code }) => {
    const plan = await project.plan('tamarind-vale');
    await expect(composeDigestEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, kind: 'reminder', ...input })).rejects.toMatchObject({ code });
  });

  it('keeps a hostile note and task titles out of the headers and escaped in HTML', async () => {
    const plan = structuredClone(await project.plan('tamarind-vale'));
    plan.stages[1]!.tasks.find((t) => t.id === 'T10')!.title = 'Connect\r\nBcc: x@evil.example <b>feed</b>';
    const mail = await readComposed(await composeDigestEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, to: ANOUK, kind: 'reminder', reminders: ['T10'], notes: ['<script>x()</script>\r\nBcc: y@evil.example'] }));
    expectWellFormed(mail, 'auto-generated');
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.html).toContain('&lt;b&gt;feed&lt;/b&gt;');
    expect(mail.html).toContain('&lt;script&gt;x()&lt;/script&gt;');
  });
});

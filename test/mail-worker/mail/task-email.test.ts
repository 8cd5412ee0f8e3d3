/**
 * Task emails, read the way a recipient's mail client reads them: the exact bytes through
 * mailparser. Built from the example plans with a real secret store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeTaskEmail } from '../../../mail-worker/mail/task-email.ts';
import { MAX_SUBJECT_CHARS, threadRootId } from '../../../mail-worker/mail/mail-context.ts';
import { REPLY_COMMAND_LINES, REPLY_INTROS } from '../../../mail-worker/mail/email-layout.ts';
import { extractFromPlainText } from '../../../mail-worker/pipeline/extract-reply-text.ts';
import { openTasks, planTitle } from '../../../site/core/plan/plan-model.ts';
import type { Plan } from '../../../site/core/plan/plan-types.ts';
import { expectWellFormed, exampleProject, flat, IDENTITY, readComposed, unlockLinks, verifyReplyTo, type Project } from './outgoing-mail-kit.ts';

const NOW = new Date('2026-12-03T09:00:00Z');
let project: Project;

beforeAll(async () => {
  project = await exampleProject();
});
afterAll(async () => {
  await project.remove();
});

describe('a task email', () => {
  it.each([
    { name: 'a blocked, overdue task (tamarind-vale T8)', slug: 'tamarind-vale', task: 'T8', owner: 'hamish.fq@tamarindvale.example', due: 'Mon, Nov 16', facts: [/Status: blocked since Mon, Nov 16, 2026 \(17 days\)/, /Reason: waiting on the external penetration-test report/, /17 days overdue/] },
    { name: 'a task in progress due tomorrow (ellery-brook T19)', slug: 'ellery-brook', task: 't19', owner: 'cmarchetti@ellerybrook.example', due: 'Fri, Dec 4', facts: [/Status: in progress/, /due in 1 day/] },
    { name: 'a task due next week (halvorsen-marine T3)', slug: 'halvorsen-marine', task: 'T3', owner: 'sigrun', due: 'Tue, Dec 8', facts: [/Status: to do/] },
  ])('$name: headers, both parts, a verifying Reply-To and a personal link', async ({ slug, task, owner, due, facts }) => {
    const plan = await project.plan(slug);
    const composed = await composeTaskEmail(project.ctx(NOW), { slug, plan, task });
    const mail = await readComposed(composed);
    expectWellFormed(mail, 'auto-generated');
    const ownerEmail = owner.includes('@') ? owner : plan.people.find((p) => p.id === owner)!.email;
    const taskId = task.toUpperCase();

    expect(composed).toMatchObject({ kind: 'task', plan: slug, task: taskId, to: ownerEmail });
    expect(mail.parsed.from?.value).toEqual([{ name: 'Wrenna Castellanos via Twofold', address: 'plans@kestrelbyte.example' }]);
    expect(mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.value.map((a) => a.address) : []).toEqual([ownerEmail]);
    expect(mail.parsed.subject).toMatch(new RegExp(`^\\[${planTitle(plan)}\\] ${taskId}: .+ — due ${due}$`));
    expect(mail.parsed.references).toBe(threadRootId(IDENTITY, slug, taskId, ownerEmail));

    const token = await verifyReplyTo(project, mail, NOW);
    expect(token).toMatchObject({ ok: true, plan: slug, task: taskId, digest: false, email: ownerEmail });

    // Written for a phone: the task id first, the reply commands right after the facts.
    const lines = mail.text.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${taskId}: `));
    const commandsAt = lines.indexOf('Reply to this email with one line:');
    expect(commandsAt).toBeGreaterThan(0);
    expect(commandsAt).toBeLessThan(12);
    expect(lines.slice(commandsAt + 1, commandsAt + 1 + REPLY_COMMAND_LINES.length)).toEqual([...REPLY_COMMAND_LINES]);
    expect(REPLY_COMMAND_LINES).toEqual(expect.arrayContaining(['done', 'blocked: <what it is waiting on>', 'due: <date>', 'note: <text>', 'help']));
    for (const fact of facts) expect(flat(mail.text)).toMatch(fact);

    // The same personal link in both parts, in the form the portal page reads.
    const inText = unlockLinks(mail.text);
    const inHtml = unlockLinks(mail.html);
    expect(inText).toHaveLength(1);
    expect(inText[0]!.link).toBeDefined();
    expect(inText[0]!.url.origin).toBe('https://plans.kestrelbyte.example');
    expect(inHtml.map((l) => l.url.href)).toEqual([inText[0]!.url.href]);
    const portal = await project.store.getPortal(slug);
    expect(inText[0]!.url.pathname).toBe(`/p/${portal!.portalId}/`);
    expect(portal!.links.find((l) => l.person === ownerEmail)?.id).toBe(inText[0]!.link!.linkId);
  });

  it('reports a personal link it created, once: the caller re-seals the portal before sending', async () => {
    const plan = await project.plan('halvorsen-marine');
    const first = await composeTaskEmail(project.ctx(NOW), { slug: 'halvorsen-marine', plan, task: 'T9' });
    const second = await composeTaskEmail(project.ctx(NOW), { slug: 'halvorsen-marine', plan, task: 'T9' });
    const eirik = plan.people.find((p) => p.id === 'eirik')!.email;
    expect(first.newLinks).toEqual([{ plan: 'halvorsen-marine', email: eirik }]);
    expect(second.newLinks).toEqual([]);
  });

  it('keeps its Message-ID for the same task, and starts a new message in the same thread when the title or due date changes', async () => {
    const plan = await project.plan('tamarind-vale');
    const idOf = async (p: Plan) => (await composeTaskEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan: p, task: 'T9' })).message;
    const base = await idOf(plan);
    const again = await idOf(plan);
    const later = await composeTaskEmail(project.ctx(new Date('2026-12-05T09:00:00Z')), { slug: 'tamarind-vale', plan, task: 'T9' });
    const retitled = structuredClone(plan);
    retitled.stages[1]!.tasks.find((t) => t.id === 'T9')!.title = 'Configure Okta single sign-on';
    const moved = structuredClone(plan);
    moved.stages[1]!.tasks.find((t) => t.id === 'T9')!.due = '2026-12-18';
    const statusOnly = structuredClone(plan);
    statusOnly.stages[1]!.tasks.find((t) => t.id === 'T9')!.status = 'in_progress';

    expect(again.messageId).toBe(base.messageId);
    expect(later.message.messageId).toBe(base.messageId);
    expect((await idOf(statusOnly)).messageId).toBe(base.messageId);
    const changed = [await idOf(retitled), await idOf(moved)];
    for (const m of changed) {
      expect(m.messageId).not.toBe(base.messageId);
      expect(m.references).toEqual(base.references);
    }
    expect(changed[0]!.messageId).not.toBe(changed[1]!.messageId);
  });

  it('goes to another person of the plan with --to: their own token and link, the owner named', async () => {
    const plan = await project.plan('tamarind-vale');
    const composed = await composeTaskEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task: 'T8', to: 'Delphine.Okonjo-Marsh@tamarindvale.example' });
    const mail = await readComposed(composed);
    expect(composed.to).toBe('delphine.okonjo-marsh@tamarindvale.example');
    expect(await verifyReplyTo(project, mail, NOW)).toMatchObject({ ok: true, task: 'T8', email: 'delphine.okonjo-marsh@tamarindvale.example' });
    expect(mail.text).toContain('Owner: Hamish Ferreira-Quaid');
    expect(mail.parsed.references).toBe(threadRootId(IDENTITY, 'tamarind-vale', 'T8', 'delphine.okonjo-marsh@tamarindvale.example'));
  });

  it.each([
    { name: 'a task the plan does not have', input: { task: 'T99' }, code: 'MAIL_TASK_UNKNOWN' },
    { name: 'a recipient outside the plan', input: { task: 'T8', to: 'eve@evil.example' }, code: 'MAIL_PERSON_UNKNOWN' },
  ])('refuses $name', async ({ input, code }) => {
    const plan = await project.plan('tamarind-vale');
    await expect(composeTaskEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, ...input })).rejects.toMatchObject({ code });
  });
});

describe('hostile plan text in a task email', () => {
  const TWO_KB = 'Share the SSO metadata file and then some more words '.repeat(40).slice(0, 2048);
  type Mutate = (plan: Plan) => void;
  const t8 = (plan: Plan) => plan.stages[1]!.tasks.find((t) => t.id === 'T8')!;
  const person = (plan: Plan, id: string) => plan.people.find((p) => p.id === id)!;

  it.each<{ name: string; mutate: Mutate }>([
    { name: 'an owner named "Eve\\r\\nBcc: x@evil.example"', mutate: (p) => (person(p, 'hamish').name = 'Eve\r\nBcc: x@evil.example') },
    { name: 'a CSM named with CR/LF and a Bcc line', mutate: (p) => (person(p, 'wrenna').name = 'Wrenna\r\nBcc: x@evil.example\r\nX-Injected: 1') },
    { name: 'a task title with CR/LF and a Bcc line', mutate: (p) => (t8(p).title = 'Approve\r\nBcc: y@evil.example\r\nX-Injected: yes') },
    { name: 'a task title with a bare LF and a bare CR', mutate: (p) => (t8(p).title = 'Approve\nBcc: y@evil.example\rX-Injected: yes') },
    { name: 'a plan title with CR/LF', mutate: (p) => (p.title = 'Tamarind\r\nBcc: z@evil.example') },
    { name: 'a 2 KB task title', mutate: (p) => (t8(p).title = TWO_KB) },
    { name: 'a 2 KB plan title and a 2 KB owner name', mutate: (p) => ((p.title = TWO_KB), (person(p, 'hamish').name = TWO_KB)) },
    { name: 'encoded-word look-alikes in a title', mutate: (p) => (t8(p).title = '=?UTF-8?Q?=0D=0ABcc=3A_x=40evil=2Eexample?=') },
  ])('$name adds no header and keeps the subject bounded', async ({ mutate }) => {
    const plan = structuredClone(await project.plan('tamarind-vale'));
    mutate(plan);
    const mail = await readComposed(await composeTaskEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task: 'T8' }));
    expectWellFormed(mail, 'auto-generated');
    expect(mail.headerNames).not.toContain('x-injected');
    expect(mail.headerNames.filter((n) => n === 'to' || n === 'from' || n === 'subject' || n === 'reply-to')).toEqual(['from', 'to', 'reply-to', 'subject']);
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.parsed.cc).toBeUndefined();
    const subject = mail.parsed.subject ?? '';
    expect([...subject].length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
    expect(subject).toMatch(/ — due Mon, Nov 16$/);
    expect(subject).not.toMatch(/[\r\n]/);
    const to = mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.value : [];
    expect(to.map((a) => a.address)).toEqual(['hamish.fq@tamarindvale.example']);
    for (const a of [...to, ...(mail.parsed.from?.value ?? [])]) {
      expect(a.name).not.toMatch(/[\r\n]/);
      expect([...a.name].length).toBeLessThanOrEqual(80);
    }
    expect(mail.parsed.from?.value[0]?.address).toBe('plans@kestrelbyte.example');
  });

  it('escapes HTML and refuses script links in the HTML part', async () => {
    const plan = structuredClone(await project.plan('tamarind-vale'));
    t8(plan).title = '<script>alert(1)</script> & <img src=x onerror=alert(2)>';
    t8(plan).details = 'Click <a href="https://evil.example">here</a>\u0000\u202Eevil';
    t8(plan).link = 'javascript:alert(3)';
    const mail = await readComposed(await composeTaskEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task: 'T8' }));
    expectWellFormed(mail, 'auto-generated');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;');
    expect(mail.html).not.toMatch(/href="javascript:/i);
    expect(mail.html).not.toContain('href="https://evil.example"');
    expect(mail.html).toContain('javascript:alert(3)');
    expect(mail.text).toContain('javascript:alert(3)');
    expect(mail.text + mail.html).not.toMatch(/[\u0000\u202E]/);
  });
});

describe('a task email pasted back without `>` quotes', () => {
  // Gmail in Japanese and Chinese writes these attributions; some clients quote by indenting or
  // not at all. Either way, the email's own commands block and due date must not become the reply.
  it.each([
    { name: 'under a Gmail attribution in Japanese', header: '2026年12月3日(木) 9:00 Wrenna Castellanos via Twofold <plans@kestrelbyte.example>:' },
    { name: 'under a Gmail attribution in Chinese', header: 'Wrenna Castellanos via Twofold <plans@kestrelbyte.example> 于2026年12月3日周四 09:00写道：' },
    { name: 'with no attribution at all', header: '' },
    { name: 'with its blank lines gone (as HTML-to-text and some clients make it)', header: '', squeeze: true },
  ])('$name: only the new text is the reply', async ({ header, squeeze }) => {
    const plan = await project.plan('tamarind-vale');
    const mail = await readComposed(await composeTaskEmail(project.ctx(NOW), { slug: 'tamarind-vale', plan, task: 'T13' }));
    expect(mail.text).toMatch(/^Due: /m);
    const pasted = squeeze ? mail.text.replace(/\n{2,}/g, '\n') : mail.text;
    const body = `note: thanks, will do\n${squeeze ? '' : '\n'}${header ? `${header}\n\n` : ''}${pasted}`;
    expect(extractFromPlainText(body).text).toBe('note: thanks, will do');
  });

  it('keeps the new text when the pasted email has no heading or fields above its commands', () => {
    expect(extractFromPlainText(`T13 done\nT14 done\n\n${REPLY_INTROS.digest}\nT13 done\nT15 blocked: waiting on IT`).text).toBe('T13 done\nT14 done');
  });
});

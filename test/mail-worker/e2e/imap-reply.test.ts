/**
 * The main job end to end against real servers: a reply "blocked: waiting on IT" from a task's
 * owner is delivered into a real Dovecot mailbox (or handed to the worker's embedded SMTP inbox
 * by a real SMTP client), and the running worker — IMAP IDLE, processor, publisher, mailer —
 * changes only the affected line of the plan file, logs the change with the reply's
 * Message-ID, re-seals the portal (decrypted here with the plan's real content key), moves the
 * message to Processed, and sends a threaded confirmation through a real SMTP server.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseMessageId } from '../../../mail-worker/pipeline/normalise-message-id.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';
import { startDovecot, type Dovecot } from '../../helpers/dovecot.ts';
import { freePort } from '../../helpers/free-port.ts';
import { REPLY_FIXTURES_DIR, replyAs, replyFixture } from '../../helpers/reply-builder.ts';
import { startSmtpCapture, type CapturedMessage, type SmtpCapture } from '../../helpers/smtp-capture.ts';
import { waitUntil } from '../../helpers/wait-until.ts';
import { lineDiff, workerConfig, workerProject, type StartedWorker, type WorkerProject } from '../../helpers/worker-project.ts';

/** "Within seconds" on a loaded two-core machine. */
const APPLY_WITHIN_MS = 20_000;
const MAILBOX = { user: 'replies', password: 'imap-secret-7' };

let project: WorkerProject;
let dovecot: Dovecot;
let smtp: SmtpCapture;
let worker: StartedWorker;
let inboundPort: number;

beforeAll(async () => {
  [project, dovecot, smtp, inboundPort] = await Promise.all([
    workerProject({ build: true }),
    startDovecot({ users: [MAILBOX] }),
    startSmtpCapture(),
    freePort(),
  ]);
  const config = workerConfig({
    smtp: { host: smtp.host, port: smtp.port },
    inbound_smtp: { enabled: true, host: '127.0.0.1', port: inboundPort },
    imap: { host: dovecot.host, port: dovecot.port, secure: false, user: MAILBOX.user, pass: MAILBOX.password },
  });
  worker = await project.start({ config });
  await waitUntil(() => worker.imap?.status().idling, 'the worker to be idling on the Dovecot INBOX', APPLY_WITHIN_MS);
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.all([dovecot?.stop(), smtp?.stop()]);
  await project?.remove();
});

/** The plan's calendar date now, read in its zone (what a blocker's `since` records). */
function todayIn(timezone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

interface Case {
  slug: string;
  task: string;
  owner: string;
  actor: string;
  timezone: string;
  /** The task's line before and its expected new line (`{since}` = today in the plan's zone). */
  line: string;
  after: string;
  deliver(raw: Buffer, to: string, from: string): Promise<void>;
}

const cases: Array<Case & { name: string; viaImap: boolean }> = [
  {
    name: 'delivered into the Dovecot mailbox the worker watches with IMAP IDLE',
    viaImap: true,
    slug: 'tamarind-vale',
    task: 'T9',
    owner: 'hamish.fq@tamarindvale.example',
    actor: 'hamish',
    timezone: 'Australia/Sydney',
    line: '      - { id: T9, title: Configure single sign-on in Okta and send the app metadata, owner: hamish, due: +8w }',
    after: '      - { id: T9, title: Configure single sign-on in Okta and send the app metadata, owner: hamish, due: +8w, status: blocked, blocked: { reason: waiting on IT, since: {since} } }',
    async deliver(raw) {
      await dovecot.deliver(MAILBOX.user, raw);
    },
  },
  {
    name: "handed to the worker's embedded SMTP inbox by an SMTP client",
    viaImap: false,
    slug: 'halvorsen-marine',
    task: 'T9',
    owner: 'eirik.tvedtnes@halvorsen-marine.example',
    actor: 'eirik',
    timezone: 'Europe/Oslo',
    line: '      - { id: T9, title: Configure single sign-on in Entra ID and send the federation metadata, owner: eirik, due: +24d }',
    after: '      - { id: T9, title: Configure single sign-on in Entra ID and send the federation metadata, owner: eirik, due: +24d, status: blocked, blocked: { reason: waiting on IT, since: {since} } }',
    async deliver(raw, to, from) {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true });
      try {
        const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
        expect(info.response).toMatch(/^250 /);
      } finally {
        transport.close();
      }
    },
  },
];

describe('a reply "blocked: waiting on IT" from the task owner', () => {
  it.each(cases)('$name: changes only that line, logs it, re-seals the portal, and confirms in the thread', async (c) => {
    const sentAt = new Date();
    const { raw, to, messageId } = await replyAs({ paths: project.paths, store: project.store, identity: worker.core.identity }, { slug: c.slug, task: c.task, text: 'blocked: waiting on IT', date: sentAt });
    const id = normaliseMessageId(messageId)!;
    const before = await project.planText(c.slug);
    expect(before.split('\n')).toContain(c.line);
    const otherPlans = new Map([...(await project.planBytes())].filter(([file]) => !file.startsWith(c.slug)));
    const portalBefore = await project.portal(c.slug);
    expect(portalBefore.html).not.toContain('waiting on IT<');

    await c.deliver(raw, to, c.owner);

    // The confirmation arrives over SMTP, threaded under the reply and addressed to its sender.
    const confirmation: CapturedMessage = await smtp.waitFor((m) => m.parsed.inReplyTo === id, APPLY_WITHIN_MS);
    expect(confirmation.envelope.to).toEqual([c.owner]);
    expect(confirmation.parsed.subject).toMatch(/^Re: /);
    expect([confirmation.parsed.references ?? []].flat()).toContain(id);
    expect(confirmation.parsed.text?.replace(/\s+/g, ' ')).toContain(`${c.task}: to do → blocked (waiting on IT)`);

    // The plan file: that one line, nothing else, and still a valid plan.
    const after = await project.planText(c.slug);
    const diff = lineDiff(before, after);
    const line = before.split('\n').indexOf(c.line) + 1;
    expect(diff).toEqual({
      removed: [{ line, text: c.line }],
      added: [{ line, text: c.after.replace('{since}', todayIn(c.timezone, sentAt)) }],
    });
    expect(loadPlanText(after, c.slug).ok).toBe(true);
    expect(new Map([...(await project.planBytes())].filter(([file]) => !file.startsWith(c.slug)))).toEqual(otherPlans);

    // The activity log: the change, by the owner, with the reply's Message-ID.
    expect((await project.activity(c.slug)).filter((e) => e.message === id)).toEqual([
      { at: expect.any(String), actor: c.actor, verb: 'blocked', task: c.task, value: 'waiting on IT', via: 'email', message: id },
    ]);

    // The portal: sealed anew, and the blocker is in it once decrypted.
    const portal = await project.portal(c.slug);
    expect(portal.envelope).not.toBe(portalBefore.envelope);
    const blocker = new RegExp(`<li class="blocker"[^>]*data-task="${c.task}"[^>]*>[\\s\\S]*?<p class="blocker-reason">Waiting on: waiting on IT</p>`);
    expect(portal.html).toMatch(blocker);

    if (c.viaImap) {
      // Moved to Processed only after its outcome was recorded; nothing left in the INBOX.
      await waitUntil(async () => (await dovecot.list(MAILBOX.user, 'Processed')).some((m) => m.messageId === messageId), 'the reply to be moved to Processed', APPLY_WITHIN_MS);
      expect(await dovecot.list(MAILBOX.user, 'INBOX')).toEqual([]);
      expect(await dovecot.list(MAILBOX.user, 'Failed')).toEqual([]);
    }
    // No explanation, notice or second confirmation went out for this reply.
    expect(smtp.messages.filter((m) => m.parsed.inReplyTo === id)).toHaveLength(1);
  });

  it('ignores the same reply delivered into the mailbox again: the plan stays as it is, no second confirmation', async () => {
    const c = cases[0]!;
    const { raw, messageId } = await replyAs({ paths: project.paths, store: project.store, identity: worker.core.identity }, { slug: c.slug, task: 'T13', text: 'in progress', date: new Date() });
    const id = normaliseMessageId(messageId)!;
    await dovecot.deliver(MAILBOX.user, raw);
    await smtp.waitFor((m) => m.parsed.inReplyTo === id, APPLY_WITHIN_MS);
    const once = await project.planText(c.slug);
    await dovecot.deliver(MAILBOX.user, raw);
    await waitUntil(async () => (await dovecot.list(MAILBOX.user, 'Processed')).filter((m) => m.messageId === messageId).length === 2, 'the second copy to be moved to Processed', APPLY_WITHIN_MS);
    expect(await project.planText(c.slug)).toBe(once);
    expect((await project.activity(c.slug)).filter((e) => e.message === id)).toHaveLength(1);
    expect(smtp.messages.filter((m) => m.parsed.inReplyTo === id)).toHaveLength(1);
    expect(worker.events.some((e) => e.event === 'message.duplicate' && e.key === id)).toBe(true);
  });

  it('applies a reply carrying a 10 MB attachment, fetched whole from the mailbox; the attachment is ignored', async () => {
    const { raw, messageId } = await replyAs(
      { paths: project.paths, store: project.store, identity: worker.core.identity },
      { slug: 'tamarind-vale', task: 'T16', text: 'in progress, the call log export is attached', date: new Date(), attachments: [{ filename: 'call-log-september.csv', content: Buffer.alloc(10 * 1024 * 1024, 'a'), contentType: 'text/csv' }] },
    );
    expect(raw.length).toBeGreaterThan(10 * 1024 * 1024);
    const id = normaliseMessageId(messageId)!;
    await dovecot.deliver(MAILBOX.user, raw);
    await smtp.waitFor((m) => m.parsed.inReplyTo === id, APPLY_WITHIN_MS * 2);
    expect((await project.activity('tamarind-vale')).filter((e) => e.message === id).map((e) => [e.verb, e.value])).toEqual([
      ['in_progress', undefined],
      ['note', 'the call log export is attached'],
    ]);
    expect((await project.planText('tamarind-vale')).split('\n')).toContain('      - { id: T16, title: Run two weeks of pilot support and log every question that fell through, owner: kirra, due: +12w, status: in_progress }');
    await waitUntil(async () => (await dovecot.list(MAILBOX.user, 'Processed')).some((m) => m.messageId === messageId), 'the reply to be moved to Processed', APPLY_WITHIN_MS);
  });

  it('moves a message it cannot read to Failed and an out-of-office to Processed, changing no plan and sending nothing', async () => {
    // The earlier replies' follow-up tick (check-in invites, when not in quiet hours) is theirs, not this test's.
    await worker.core.tick.settle();
    const before = await project.planBytes();
    const sentBefore = smtp.messages.length;
    const failedBefore = (await dovecot.list(MAILBOX.user, 'Failed')).length;
    const processedBefore = (await dovecot.list(MAILBOX.user, 'Processed')).length;
    const { to } = await replyAs({ paths: project.paths, store: project.store, identity: worker.core.identity }, { slug: 'tamarind-vale', task: 'T9', text: '' });
    const ooo = replyFixture('ooo-german-exchange-headers.eml', { from: 'Hamish Ferreira-Quaid <hamish.fq@tamarindvale.example>', replyAddress: to, date: new Date(), thread: '<thread@twofold.localhost>' });
    const junk = await readFile(path.join(REPLY_FIXTURES_DIR, 'malformed-no-header.eml'));
    await dovecot.deliver(MAILBOX.user, ooo);
    await dovecot.deliver(MAILBOX.user, junk);
    await waitUntil(async () => (await dovecot.list(MAILBOX.user, 'INBOX')).length === 0, 'the INBOX to be emptied', APPLY_WITHIN_MS);
    expect((await dovecot.list(MAILBOX.user, 'Failed')).length).toBe(failedBefore + 1);
    expect((await dovecot.list(MAILBOX.user, 'Processed')).map((m) => m.messageId)).toContain('<ooo-de.7f3a9c@tamarindvale.example>');
    expect((await dovecot.list(MAILBOX.user, 'Processed')).length).toBe(processedBefore + 1);
    expect(await project.planBytes()).toEqual(before);
    expect(smtp.messages.slice(sentBefore).map((m) => `${m.envelope.to.join(',')}: ${m.parsed.subject}`)).toEqual([]);
    expect(await project.failedMessages()).toHaveLength(1);
  });
});

/**
 * Faults a running worker must survive, injected into real `twofold worker` subprocesses that
 * watch a real Dovecot mailbox over IMAP and send through a real SMTP server (the capture):
 *
 *   - the process is SIGKILLed between writing a plan and recording the message as done
 *     (TWOFOLD_FAULT=kill-after-plan-write): the restarted worker applies the reply exactly once
 *     and confirms it once;
 *   - the disk is full when the plan is written (TWOFOLD_FAULT=enospc-on-plan-write): nothing is
 *     half written, the message is kept for a retry, the log says PLAN_WRITE_FAILED;
 *   - SMTP is down when the confirmation is due: spooled, retried with growing delays, delivered
 *     exactly once when SMTP returns, across two restarts;
 *   - Dovecot restarts while the worker idles: a reply delivered after the restart is applied.
 *
 * Every wait is for an event of the worker's JSON log, a message at the capture or a folder
 * of the mailbox, never a fixed sleep.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normaliseMessageId } from '../../mail-worker/pipeline/normalise-message-id.ts';
import { openMessageJournal } from '../../mail-worker/stores/message-journal-fs.ts';
import type { SourceEvent } from '../../mail-worker/sources/message-handler.ts';
import { loadPlanText } from '../../site/core/plan/plan-validate.ts';
import { startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { replyAs } from '../helpers/reply-builder.ts';
import { runTwofold } from '../helpers/run-twofold.ts';
import { startSmtpCapture, type SmtpCapture } from '../helpers/smtp-capture.ts';
import { waitUntil } from '../helpers/wait-until.ts';
import { identityFor, lineDiff, workerProject, type WorkerProject } from '../helpers/worker-project.ts';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const PASSWORD = 'fault-secret-3';
const USERS = ['crash', 'diskfull', 'smtpdown'] as const;
const SLUG = 'tamarind-vale';
const T9 = '      - { id: T9, title: Configure single sign-on in Okta and send the app metadata, owner: hamish, due: +8w }';
const T9_DONE = /^ {6}- \{ id: T9, title: Configure single sign-on in Okta and send the app metadata, owner: hamish, due: \+8w, status: done, done: \d{4}-\d{2}-\d{2} \}$/;
/** Generous for a loaded two-core machine; every wait ends as soon as its event arrives. */
const WITHIN_MS = 30_000;

let dovecot: Dovecot;
let smtp: SmtpCapture;
const projects: WorkerProject[] = [];
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  [dovecot, smtp] = await Promise.all([startDovecot({ users: USERS.map((user) => ({ user, password: PASSWORD })) }), startSmtpCapture()]);
}, 60_000);

afterEach(async () => {
  smtp.setDown(false);
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), smtp?.stop(), ...projects.map((p) => p.remove())]);
});

async function project(): Promise<WorkerProject> {
  const p = await workerProject({ passwords: [] });
  projects.push(p);
  await p.store.replyKey(); // the key exists before any worker reads the store
  return p;
}

/** The settings of a worker on `user`'s mailbox, sending through the capture; no scheduler interval, no SMTP inbox. */
function workerEnv(imap: { host: string; port: number }, user: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TWOFOLD_IMAP_HOST: imap.host,
    TWOFOLD_IMAP_PORT: String(imap.port),
    TWOFOLD_IMAP_SECURE: 'false',
    TWOFOLD_IMAP_USER: user,
    TWOFOLD_IMAP_PASS: PASSWORD,
    TWOFOLD_INBOUND_SMTP: 'false',
    TWOFOLD_TICK_MINUTES: '0',
    TWOFOLD_SMTP_HOST: smtp.host,
    TWOFOLD_SMTP_PORT: String(smtp.port),
    ...extra,
  };
}

async function startWorker(p: WorkerProject, env: Record<string, string>): Promise<WorkerProcess> {
  const worker = spawnWorker({ cwd: p.root, env });
  workers.push(worker);
  await worker.waitFor((e) => e.event === 'imap.idle', 'the worker to idle on the INBOX', WITHIN_MS);
  return worker;
}

async function reply(p: WorkerProject, text: string, task = 'T9') {
  const built = await replyAs({ paths: p.paths, store: p.store, identity: identityFor() }, { slug: SLUG, task, text });
  return { ...built, id: normaliseMessageId(built.messageId)! };
}

const confirmationsOf = (id: string) => smtp.messages.filter((m) => m.parsed.inReplyTo === id);
const processed = (id: string) => (e: SourceEvent) => (e.event === 'message.processed' || e.event === 'message.recovered') && e.key === id;
const inFolder = async (user: string, folder: string, messageId: string | undefined) => (await dovecot.list(user, folder)).filter((m) => m.messageId === messageId).length;

describe('the worker process is killed between writing a plan and recording the message as done', () => {
  it('SIGKILL after the plan write: the restarted worker applies the reply exactly once and confirms it once', async () => {
    const p = await project();
    const before = await p.planText(SLUG);
    const { raw, messageId, id } = await reply(p, 'done\nnote: the app metadata is in the shared folder');

    const doomed = await startWorker(p, workerEnv(dovecot, 'crash', { TWOFOLD_FAULT: 'kill-after-plan-write' }));
    await dovecot.deliver('crash', raw);
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Killed mid-apply: the plan is written, nothing else is — no log entry, no answer, no "done".
    expect(lineDiff(before, await p.planText(SLUG)).added.map((l) => l.text)).toEqual([expect.stringMatching(T9_DONE)]);
    expect((await p.activity(SLUG)).filter((e) => e.message === id)).toEqual([]);
    expect(await openMessageJournal(p.paths.journalDir).unfinished()).toEqual([expect.objectContaining({ key: id, state: 'applying' })]);
    expect(await inFolder('crash', 'INBOX', messageId)).toBe(1);
    expect(confirmationsOf(id)).toEqual([]);

    const restarted = await startWorker(p, workerEnv(dovecot, 'crash'));
    await restarted.waitFor(processed(id), 'the recovered reply to be answered', WITHIN_MS);
    await smtp.waitFor((m) => m.parsed.inReplyTo === id, WITHIN_MS);
    await waitUntil(async () => (await inFolder('crash', 'Processed', messageId)) === 1, 'the reply in Processed', WITHIN_MS);
    expect(restarted.events.filter((e) => e.event === 'recover.apply')).toEqual([expect.objectContaining({ key: id, plan: SLUG, finished: true })]);

    // The same message once more: a duplicate, nothing new.
    await dovecot.deliver('crash', raw);
    await waitUntil(async () => (await inFolder('crash', 'Processed', messageId)) === 2, 'the second copy in Processed', WITHIN_MS);
    expect((await restarted.stop()).code).toBe(0);

    const after = await p.planText(SLUG);
    const diff = lineDiff(before, after);
    const line = before.split('\n').indexOf(T9) + 1;
    expect(diff.removed).toEqual([{ line, text: T9 }]);
    expect(diff.added).toEqual([{ line, text: expect.stringMatching(T9_DONE) }]);
    expect(loadPlanText(after, 'tamarind-vale.mdx').ok).toBe(true);
    const logged = (await p.activity(SLUG)).filter((e) => e.message === id);
    expect(logged.map((e) => `${e.verb} ${e.task}`)).toEqual(['done T9', 'note T9']);
    expect(confirmationsOf(id)).toHaveLength(1);
    expect(restarted.events.some((e) => e.event === 'message.duplicate' && e.key === id)).toBe(true);
    expect(await openMessageJournal(p.paths.journalDir).unfinished()).toEqual([]);
  });
});

describe('a disk write fails', () => {
  it('ENOSPC on the plan write through `mail ingest`: exit 75 for the MTA to retry, the plan untouched, PLAN_WRITE_FAILED logged; the retry applies it once', async () => {
    const p = await project();
    const before = await p.planBytes();
    const activityBefore = await p.activity(SLUG);
    const { raw, id } = await reply(p, 'blocked: waiting on the Okta admin role');
    const file = path.join(p.root, 'reply.eml');
    await writeFile(file, raw);

    const full = await runTwofold(['mail', 'ingest', file], { cwd: p.root, env: { TWOFOLD_FAULT: 'enospc-on-plan-write' } });
    expect(full.code, full.stderr).toBe(75);
    expect(full.stdout).toBe('');
    const logLine = full.stderr.split('\n').find((l) => l.includes('"plan.write_failed"'));
    expect(JSON.parse(logLine ?? '{}')).toMatchObject({ event: 'plan.write_failed', code: 'PLAN_WRITE_FAILED', plan: SLUG, file: 'content/plans/tamarind-vale.mdx', reason: expect.stringContaining('ENOSPC') });
    expect(full.stderr).toMatch(/^error: content\/plans\/tamarind-vale\.mdx could not be written: ENOSPC .*tried again \[PLAN_WRITE_FAILED\]$/m);
    // Nothing half written: every plan byte as before, no temporary file left, no log entry, no mail.
    expect(await p.planBytes()).toEqual(before);
    expect((await readdir(p.paths.plansDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(await p.activity(SLUG)).toEqual(activityBefore);
    expect(await p.outbox()).toEqual([]);

    const retried = await runTwofold(['mail', 'ingest', file], { cwd: p.root });
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout.trim()).toBe('processed (REPLY_APPLIED)');
    const again = await runTwofold(['mail', 'ingest', file], { cwd: p.root });
    expect(again.stdout.trim()).toBe('processed (duplicate)');
    expect(lineDiff((before.get('tamarind-vale.mdx') ?? '').toString(), await p.planText(SLUG)).added.map((l) => l.text)).toEqual([expect.stringContaining('status: blocked, blocked: { reason: waiting on the Okta admin role')]);
    expect((await p.activity(SLUG)).filter((e) => e.message === id).map((e) => e.verb)).toEqual(['blocked']);
    expect((await p.outbox()).filter((m) => m.mail.inReplyTo === id)).toHaveLength(1);
  });

  it('ENOSPC in a worker watching IMAP: the message stays in the INBOX for a retry, and a worker with room applies it once', async () => {
    const p = await project();
    const before = await p.planBytes();
    const { raw, messageId, id } = await reply(p, 'in progress', 'T13');

    const full = await startWorker(p, workerEnv(dovecot, 'diskfull', { TWOFOLD_FAULT: 'enospc-on-plan-write' }));
    await dovecot.deliver('diskfull', raw);
    const failed = await full.waitFor((e) => e.event === 'imap.handler_failed', 'the handler failure', WITHIN_MS);
    expect(failed).toMatchObject({ code: 'MAIL_HANDLER_FAILED', attempts: 1, error: expect.stringMatching(/could not be written: ENOSPC/) });
    expect(full.events.find((e) => e.event === 'plan.write_failed')).toMatchObject({ code: 'PLAN_WRITE_FAILED', plan: SLUG });
    expect(await p.planBytes()).toEqual(before);
    expect(await inFolder('diskfull', 'INBOX', messageId)).toBe(1);
    expect(await inFolder('diskfull', 'Failed', messageId)).toBe(0);
    expect(confirmationsOf(id)).toEqual([]);
    expect((await full.stop()).code).toBe(0);

    const roomy = await startWorker(p, workerEnv(dovecot, 'diskfull'));
    await roomy.waitFor(processed(id), 'the reply to be applied', WITHIN_MS);
    await smtp.waitFor((m) => m.parsed.inReplyTo === id, WITHIN_MS);
    await waitUntil(async () => (await inFolder('diskfull', 'Processed', messageId)) === 1, 'the reply in Processed', WITHIN_MS);
    expect((await p.activity(SLUG)).filter((e) => e.message === id).map((e) => `${e.verb} ${e.task}`)).toEqual(['in_progress T13']);
    expect(lineDiff((before.get('tamarind-vale.mdx') ?? '').toString(), await p.planText(SLUG)).added.map((l) => l.text)).toEqual([expect.stringMatching(/^ {6}- \{ id: T13, .*, status: in_progress \}$/)]);
    expect(confirmationsOf(id)).toHaveLength(1);
  });
});

describe('SMTP is down when a confirmation is due', () => {
  it('spools it, retries with growing delays, and delivers it exactly once when SMTP returns, across two restarts', async () => {
    const p = await project();
    const { raw, id } = await reply(p, 'done', 'T9');
    smtp.setDown(true);
    const refusedBefore = smtp.refusals;

    const first = await startWorker(p, workerEnv(dovecot, 'smtpdown'));
    await dovecot.deliver('smtpdown', raw);
    await first.waitFor(processed(id), 'the reply to be applied', WITHIN_MS);
    const deferred = await first.waitForCount(3, (e) => e.event === 'mail.deferred', 'three delivery attempts', WITHIN_MS);
    const confirmationId = deferred[0]!.messageId as string;
    expect(deferred.every((e) => e.messageId === confirmationId)).toBe(true);
    // Backoff: the gaps between attempts grow (1 s, then 2 s).
    const at = deferred.map((e) => Date.parse(String(e.ts)));
    expect(at[2]! - at[1]!).toBeGreaterThan(at[1]! - at[0]!);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(900);
    const queued = (await readdir(path.join(p.paths.outboxDir, 'queue'))).sort();
    expect(queued.filter((n) => n.endsWith('.eml'))).toHaveLength(1);
    expect(queued.filter((n) => n.endsWith('.eml.json'))).toHaveLength(1);

    // A restart while SMTP is still down: the spooled message survives it and is tried at start.
    first.kill('SIGKILL');
    await first.exited;
    const second = await startWorker(p, workerEnv(dovecot, 'smtpdown'));
    await second.waitFor((e) => e.event === 'mail.deferred' && e.messageId === confirmationId, 'a delivery attempt after the restart', WITHIN_MS);
    expect(smtp.messages.filter((m) => m.parsed.messageId === confirmationId)).toEqual([]);

    smtp.setDown(false);
    const delivered = await smtp.waitFor((m) => m.parsed.messageId === confirmationId, WITHIN_MS);
    expect(delivered.parsed.inReplyTo).toBe(id);
    await second.waitFor((e) => e.event === 'mail.sent' && e.messageId === confirmationId, 'the sent event', WITHIN_MS);
    expect((await second.stop()).code).toBe(0);

    // And one more restart after the delivery: nothing is left to send, nothing is sent again.
    const third = await startWorker(p, workerEnv(dovecot, 'smtpdown'));
    expect((await third.stop()).code).toBe(0);
    expect(third.events.filter((e) => String(e.event).startsWith('mail.'))).toEqual([]);
    expect(smtp.messages.filter((m) => m.parsed.messageId === confirmationId)).toHaveLength(1);
    expect(confirmationsOf(id)).toHaveLength(1);
    expect(smtp.refusals - refusedBefore).toBeGreaterThanOrEqual(4);
    expect((await readdir(path.join(p.paths.outboxDir, 'queue'))).filter((n) => n.endsWith('.eml'))).toEqual([]);
    expect((await readdir(path.join(p.paths.outboxDir, 'sent'))).filter((n) => n.endsWith('.eml'))).toHaveLength(1);
    expect((await p.activity(SLUG)).filter((e) => e.message === id)).toHaveLength(1);
  });
});

describe('Dovecot restarts while the worker idles', () => {
  it('the worker reconnects by itself and applies a reply delivered after the restart', async () => {
    const own = await startDovecot({ users: [{ user: 'restart', password: PASSWORD }] });
    try {
      const p = await project();
      const worker = await startWorker(p, workerEnv(own, 'restart'));
      await own.restart();
      await worker.waitFor((e) => e.event === 'imap.connection_lost', 'the worker to notice the restart', WITHIN_MS);
      const { raw, messageId, id } = await reply(p, 'due: 2027-02-26', 'T9');
      await own.deliver('restart', raw);
      await worker.waitFor(processed(id), 'the reply delivered after the restart', WITHIN_MS);
      await smtp.waitFor((m) => m.parsed.inReplyTo === id, WITHIN_MS);
      await waitUntil(async () => (await own.list('restart', 'Processed')).some((m) => m.messageId === messageId), 'the reply in Processed', WITHIN_MS);
      expect(worker.events.find((e) => e.event === 'imap.connection_lost')).toMatchObject({ code: 'MAIL_IMAP_CONNECTION_LOST' });
      expect(worker.events.filter((e) => e.event === 'imap.connected').length).toBeGreaterThanOrEqual(2);
      expect((await p.planText(SLUG)).split('\n')).toContain(T9.replace('due: +8w', 'due: 2027-02-26'));
      expect((await p.activity(SLUG)).filter((e) => e.message === id).map((e) => `${e.verb} ${e.value}`)).toEqual(['due 2027-02-26']);
      expect((await worker.stop()).code).toBe(0);
    } finally {
      await own.stop();
    }
  });
});

describe('a worker with nothing but its scheduler', () => {
  it('keeps running until it is stopped, then exits 0 (no inbound SMTP, no IMAP)', async () => {
    const p = await project();
    const worker = spawnWorker({ cwd: p.root, env: { TWOFOLD_INBOUND_SMTP: 'false', TWOFOLD_TICK_MINUTES: '60' } });
    workers.push(worker);
    await waitUntil(() => worker.stderr.includes('twofold worker: settings from'), 'the start banner', WITHIN_MS);
    // Proving it stays up needs a moment of not exiting: an empty event loop ends within milliseconds.
    const early = await Promise.race([worker.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 1_500))]);
    expect(early, `the worker exited on its own: ${worker.stderr}`).toBe('running');
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
  });
});

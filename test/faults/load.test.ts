/**
 * Replies under load, against real servers: bursts of replies to ONE plan (test/faults/
 * load-plan.ts: 120 tasks, each reply changes its own task), delivered at once
 *
 *   - into the worker's embedded SMTP inbox (50 SMTP clients at the same moment),
 *   - the same while the outgoing SMTP server goes down and comes back mid-burst,
 *   - into the Dovecot mailbox the worker watches (50 APPENDs at the same moment),
 *   - into one mailbox watched by TWO `twofold worker` processes, each with its own local store
 *     (TWOFOLD_HOME) but the same content/ and secret store (100 replies, ten of them delivered
 *     twice, so that the two copies may reach different workers with different journals).
 *
 * For every burst: every reply is applied exactly once (one activity entry per Message-ID),
 * every task line changed and no other line, the plan file still valid, and exactly one
 * confirmation per reply at the SMTP capture — nothing lost, nothing twice.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normaliseMessageId } from '../../mail-worker/pipeline/normalise-message-id.ts';
import { loadPlanText } from '../../site/core/plan/plan-validate.ts';
import { startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { freePort } from '../helpers/free-port.ts';
import { replyAs } from '../helpers/reply-builder.ts';
import { startSmtpCapture, type SmtpCapture } from '../helpers/smtp-capture.ts';
import { waitUntil } from '../helpers/wait-until.ts';
import { identityFor, lineDiff, workerConfig, workerProject, type StartedWorker, type WorkerProject } from '../helpers/worker-project.ts';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.ts';
import { BURST_REPLIES, DONE_LINE, LOAD_SLUG, loadTaskId, loadTaskLine, TWO_WORKER_REPLIES, writeLoadPlan } from './load-plan.ts';

const PASSWORD = 'load-secret-5';
const WITHIN_MS = 60_000;

let dovecot: Dovecot;
let smtp: SmtpCapture;
const projects: WorkerProject[] = [];
const running: Array<{ stop(): Promise<unknown> }> = [];
/** What each burst did, printed at the end for the closing note. */
const figures: Array<{ burst: string; sent: number; applied: number; confirmed: number; lost: number; twice: number }> = [];

beforeAll(async () => {
  [dovecot, smtp] = await Promise.all([startDovecot({ users: ['burst', 'two'].map((user) => ({ user, password: PASSWORD })) }), startSmtpCapture()]);
}, 60_000);

afterEach(async () => {
  smtp.setDown(false);
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), smtp?.stop(), ...projects.map((p) => p.remove())]);
  // eslint-disable-next-line no-console
  console.log(`replies under load:\n${figures.map((f) => `  ${f.burst}: ${f.sent} sent, ${f.applied} applied, ${f.confirmed} confirmed, ${f.lost} lost, ${f.twice} applied twice`).join('\n')}`);
});

async function project(): Promise<WorkerProject> {
  const p = await workerProject({ passwords: [] });
  projects.push(p);
  await writeLoadPlan(p.paths);
  await p.store.replyKey();
  return p;
}

interface Reply {
  task: number;
  raw: Buffer;
  to: string;
  from: string;
  messageId: string;
  id: string;
}

/** One `done` reply per task, from the task's owner to its own signed reply address. */
async function replies(p: WorkerProject, tasks: number[]): Promise<Reply[]> {
  return Promise.all(
    tasks.map(async (task) => {
      const built = await replyAs({ paths: p.paths, store: p.store, identity: identityFor() }, { slug: LOAD_SLUG, task: loadTaskId(task), text: 'done' });
      const from = /^From: .*<([^>]+)>/m.exec(built.raw.toString('utf8'))![1]!;
      return { task, raw: built.raw, to: built.to, from, messageId: built.messageId!, id: normaliseMessageId(built.messageId)! };
    }),
  );
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** Every reply applied once, every task line changed and nothing else, one confirmation each. */
async function expectAllAppliedOnce(p: WorkerProject, before: string, sent: Reply[], burst: string): Promise<void> {
  const after = await p.planText(LOAD_SLUG);
  const activity = await p.activity(LOAD_SLUG);
  const perMessage = new Map<string, number>();
  for (const e of activity) if (e.message) perMessage.set(e.message, (perMessage.get(e.message) ?? 0) + 1);
  const lines = new Set(after.split('\n'));
  const changed = (r: Reply) => [...lines].some((l) => DONE_LINE(r.task).test(l));
  const applied = sent.filter((r) => perMessage.get(r.id) === 1 && changed(r)).length;
  const twice = sent.filter((r) => (perMessage.get(r.id) ?? 0) > 1).length;
  const confirmed = sent.filter((r) => smtp.messages.filter((m) => m.parsed.inReplyTo === r.id).length === 1).length;
  figures.push({ burst, sent: sent.length, applied, confirmed, lost: sent.length - applied - twice, twice });

  expect(loadPlanText(after, `${LOAD_SLUG}.md`).ok).toBe(true);
  for (const r of sent) {
    expect(activity.filter((e) => e.message === r.id), `activity of the reply for ${loadTaskId(r.task)}`).toEqual([expect.objectContaining({ verb: 'done', task: loadTaskId(r.task), via: 'email' })]);
  }
  const diff = lineDiff(before, after);
  const tasks = sent.map((r) => r.task).sort((a, b) => a - b);
  expect(diff.removed.map((l) => l.text)).toEqual(tasks.map(loadTaskLine));
  expect(diff.added.map((l) => l.text)).toEqual(tasks.map((n) => expect.stringMatching(DONE_LINE(n))));
  for (const r of sent) expect(smtp.messages.filter((m) => m.parsed.inReplyTo === r.id), `confirmations of ${loadTaskId(r.task)}`).toHaveLength(1);
  expect(new Set(activity.filter((e) => e.via === 'email').map((e) => e.message)).size).toBe(sent.length);
}

async function sendToInbox(port: number, reply: Reply): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    return (await transport.sendMail({ envelope: { from: reply.from, to: [reply.to] }, raw: reply.raw })).response;
  } finally {
    transport.close();
  }
}

async function embeddedSmtpWorker(p: WorkerProject): Promise<{ worker: StartedWorker; port: number }> {
  const port = await freePort();
  const worker = await p.start({ config: workerConfig({ smtp: { host: smtp.host, port: smtp.port }, inbound_smtp: { enabled: true, host: '127.0.0.1', port } }) });
  running.push(worker);
  return { worker, port };
}

describe(`${BURST_REPLIES} replies to one plan at the same moment`, () => {
  it(`into the embedded SMTP inbox (${BURST_REPLIES} SMTP clients at once): all applied once, each task changed, one confirmation each`, async () => {
    const p = await project();
    const before = await p.planText(LOAD_SLUG);
    const sent = await replies(p, range(1, BURST_REPLIES));
    const { port } = await embeddedSmtpWorker(p);
    const responses = await Promise.all(sent.map((r) => sendToInbox(port, r)));
    expect(responses.every((r) => /^250 /.test(r)), responses.join('\n')).toBe(true);
    await smtp.waitForCount(BURST_REPLIES, (m) => sent.some((r) => r.id === m.parsed.inReplyTo), WITHIN_MS);
    await expectAllAppliedOnce(p, before, sent, 'embedded SMTP inbox, 50 at once');
  });

  it('into the embedded SMTP inbox while the outgoing SMTP server goes down and comes back: every confirmation delivered exactly once', async () => {
    const p = await project();
    const before = await p.planText(LOAD_SLUG);
    const sent = await replies(p, range(51, BURST_REPLIES));
    const { worker, port } = await embeddedSmtpWorker(p);
    smtp.setDown(true);
    const firstHalf = sent.slice(0, BURST_REPLIES / 2);
    await Promise.all(firstHalf.map((r) => sendToInbox(port, r)));
    await waitUntil(() => worker.events.filter((e) => e.event === 'mail.deferred').length >= 2, 'confirmations deferred while SMTP is down', WITHIN_MS);
    // SMTP comes back while the second half arrives: spooled retries and fresh sends overlap.
    smtp.setDown(false);
    await Promise.all(sent.slice(BURST_REPLIES / 2).map((r) => sendToInbox(port, r)));
    await smtp.waitForCount(BURST_REPLIES, (m) => sent.some((r) => r.id === m.parsed.inReplyTo), WITHIN_MS);
    await worker.stop(); // lets a running retry finish: anything it would send twice is now at the capture
    running.splice(running.indexOf(worker), 1);
    expect(worker.events.filter((e) => e.event === 'mail.deferred').length).toBeGreaterThanOrEqual(2);
    await expectAllAppliedOnce(p, before, sent, 'embedded SMTP inbox, 50 at once, outgoing SMTP down then up');
  });

  it(`into the Dovecot mailbox the worker watches (${BURST_REPLIES} APPENDs at once): all applied once, each task changed, one confirmation each`, async () => {
    const p = await project();
    const before = await p.planText(LOAD_SLUG);
    const sent = await replies(p, range(1, BURST_REPLIES));
    const worker = await p.start({ config: workerConfig({ smtp: { host: smtp.host, port: smtp.port }, imap: { host: dovecot.host, port: dovecot.port, secure: false, user: 'burst', pass: PASSWORD } }) });
    running.push(worker);
    await waitUntil(() => worker.imap?.status().idling, 'the worker to idle', WITHIN_MS);
    await Promise.all(sent.map((r) => dovecot.deliver('burst', r.raw)));
    await waitUntil(async () => (await dovecot.list('burst', 'Processed')).length === BURST_REPLIES, `${BURST_REPLIES} replies in Processed`, WITHIN_MS, 200);
    await smtp.waitForCount(BURST_REPLIES, (m) => sent.some((r) => r.id === m.parsed.inReplyTo), WITHIN_MS);
    expect(await dovecot.list('burst', 'INBOX')).toEqual([]);
    expect(await dovecot.list('burst', 'Failed')).toEqual([]);
    await expectAllAppliedOnce(p, before, sent, 'Dovecot mailbox, 50 at once');
  });
});

describe('two worker processes on one mailbox', () => {
  it(`share ${TWO_WORKER_REPLIES} replies to one plan: each applied exactly once in total, none lost, one confirmation each`, async () => {
    const p = await project();
    const before = await p.planText(LOAD_SLUG);
    const sent = await replies(p, range(1, TWO_WORKER_REPLIES));
    const env = (home: string): Record<string, string> => ({
      TWOFOLD_HOME: home,
      // One secret store (the reply-token key) for both, as two workers of one team would share it.
      TWOFOLD_SECRETS_FILE: p.paths.secretsFile,
      TWOFOLD_IMAP_HOST: dovecot.host,
      TWOFOLD_IMAP_PORT: String(dovecot.port),
      TWOFOLD_IMAP_SECURE: 'false',
      TWOFOLD_IMAP_USER: 'two',
      TWOFOLD_IMAP_PASS: PASSWORD,
      TWOFOLD_INBOUND_SMTP: 'false',
      TWOFOLD_TICK_MINUTES: '0',
      TWOFOLD_SMTP_HOST: smtp.host,
      TWOFOLD_SMTP_PORT: String(smtp.port),
    });
    const homes = ['.twofold-a', '.twofold-b'].map((h) => path.join(p.root, h));
    await Promise.all(homes.map((h) => mkdir(h, { recursive: true })));
    const workers: WorkerProcess[] = homes.map((home) => spawnWorker({ cwd: p.root, env: env(home) }));
    running.push(...workers);
    await Promise.all(workers.map((w) => w.waitFor((e) => e.event === 'imap.idle', 'both workers to idle', WITHIN_MS)));

    // Every tenth reply is delivered twice (an MTA that retried): the copies may reach different workers.
    const twice = sent.filter((r) => r.task % 10 === 0);
    await Promise.all([...sent, ...twice].map((r) => dovecot.deliver('two', r.raw)));
    await waitUntil(async () => (await dovecot.list('two', 'Processed')).length >= TWO_WORKER_REPLIES + twice.length, `${TWO_WORKER_REPLIES + twice.length} messages in Processed`, WITHIN_MS * 2, 250);
    await smtp.waitForCount(TWO_WORKER_REPLIES, (m) => sent.some((r) => r.id === m.parsed.inReplyTo), WITHIN_MS);
    for (const w of workers) expect((await w.stop()).code).toBe(0);

    const handledBy = workers.map((w) => w.events.filter((e) => e.event === 'message.processed').length);
    const duplicates = workers.map((w) => w.events.filter((e) => e.event === 'message.duplicate').length);
    expect(handledBy.reduce((a, b) => a + b, 0) + duplicates.reduce((a, b) => a + b, 0)).toBe(TWO_WORKER_REPLIES + twice.length);
    expect((await dovecot.list('two', 'Processed')).length).toBe(TWO_WORKER_REPLIES + twice.length);
    expect(await dovecot.list('two', 'INBOX')).toEqual([]);
    await expectAllAppliedOnce(p, before, sent, `two worker processes (${handledBy.join(' + ')}), 100 at once, ${twice.length} of them delivered twice`);
  });
});

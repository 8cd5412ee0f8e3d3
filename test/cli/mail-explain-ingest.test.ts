/**
 * `twofold mail explain` and `twofold mail ingest` as a CSM and an MTA run them: real
 * subprocesses in a throwaway project holding the example plans, replies built like a mail
 * client writes them. Explain prints one JSON object and writes nothing; ingest applies a reply
 * from a file or from stdin (an MTA pipe) and answers with the sysexits codes MTAs understand.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normaliseMessageId } from '../../mail-worker/pipeline/normalise-message-id.ts';
import { replyAs } from '../helpers/reply-builder.ts';
import { runTwofold, STACK_FRAME, type CliRun } from '../helpers/run-twofold.ts';
import { identityFor, lineDiff, workerProject, type WorkerProject } from '../helpers/worker-project.ts';

/** Thursday 3 December 2026 in Sydney: "next friday" is 11 December. */
const NOW = '2026-12-03T09:00:00Z';
const SLUG = 'tamarind-vale';
const HAMISH = 'hamish.fq@tamarindvale.example';
const T9 = '      - { id: T9, title: Configure single sign-on in Okta and send the app metadata, owner: hamish, due: +8w }';

let project: WorkerProject;

beforeEach(async () => {
  project = await workerProject({ passwords: [] });
});
afterEach(async () => {
  await project.remove();
});

function twofold(args: string[], input?: Buffer): Promise<CliRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_')));
  return runTwofold(args, { cwd: project.root, env, ...(input !== undefined ? { input } : {}) });
}

/** A reply from Hamish at NOW, saved where a CSM would save it; returns the file and its Message-ID. */
async function replyFile(name: string, options: { task: string; text: string; person?: string }): Promise<{ file: string; raw: Buffer; id: string }> {
  const { raw, messageId } = await replyAs({ paths: project.paths, store: project.store, identity: identityFor() }, { slug: SLUG, date: new Date(NOW), ...options });
  const file = path.join(project.root, name);
  await writeFile(file, raw);
  return { file, raw, id: normaliseMessageId(messageId)! };
}

async function outboxTags(): Promise<string[]> {
  const names = await readdir(project.paths.outboxDir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.eml')).map((n) => n.replace(/^\d{4}-\d\d-\d\dT[\d-]+Z-/, '').replace(/-[0-9a-f]{20}\.eml$/, '')).filter((t) => !t.startsWith('invite-'));
}

describe('twofold mail explain --json', () => {
  it('prints exactly one object: verdict, reason, plan, task, sender, text, and commands with resolved values', async () => {
    const { file } = await replyFile('digest-reply.eml', { task: 'digest', person: HAMISH, text: 'T9 blocked: waiting on IT\nT8 due: next friday\nT8 note: the risk committee meets 9 Dec\nT9 done' });
    const before = await project.planBytes();
    const run = await twofold(['mail', 'explain', file, '--json', '--now', NOW]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const printed = JSON.parse(lines[0]!);
    expect(Object.keys(printed)).toEqual(['verdict', 'reason', 'plan', 'task', 'sender', 'text', 'commands']);
    expect(printed).toEqual({
      verdict: 'apply',
      reason: 'REPLY_APPLIED',
      plan: SLUG,
      task: 'digest',
      sender: HAMISH,
      text: 'T9 blocked: waiting on IT\nT8 due: next friday\nT8 note: the risk committee meets 9 Dec\nT9 done',
      commands: [
        { task: 'T9', verb: 'blocked', value: 'waiting on IT' },
        { task: 'T8', verb: 'due', value: '2026-12-11' },
        { task: 'T8', verb: 'note', value: 'the risk committee meets 9 Dec' },
        { task: 'T9', verb: 'done', value: null },
      ],
    });
    for (const c of printed.commands) expect(Object.keys(c)).toEqual(['task', 'verb', 'value']);
    // A dry run: nothing written, nothing sent.
    expect(await project.planBytes()).toEqual(before);
    expect(await readdir(project.paths.localDir).catch(() => [])).not.toContain('journal');
    expect(await outboxTags()).toEqual([]);
  });

  it.each([
    { name: 'a help request', text: 'help', json: { verdict: 'reject', reason: 'REPLY_HELP', commands: [] } },
    { name: 'a command that cannot apply', text: 'due: 2026-01-05', json: { verdict: 'reject', reason: 'REPLY_DATE_BEFORE_START', commands: [{ task: 'T9', verb: 'due', value: '2026-01-05' }] } },
    { name: 'an in-progress reply to a task email', text: 'in progress', json: { verdict: 'apply', reason: 'REPLY_APPLIED', task: 'T9', commands: [{ task: 'T9', verb: 'in_progress', value: null }] } },
  ])('reports $name', async ({ text, json }) => {
    const { file } = await replyFile('reply.eml', { task: 'T9', text });
    const run = await twofold(['mail', 'explain', file, '--json', '--now', NOW]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ plan: SLUG, sender: HAMISH, ...json });
  });

  it('without --json explains in words', async () => {
    const { file } = await replyFile('reply.eml', { task: 'T9', text: 'blocked: waiting on IT' });
    const run = await twofold(['mail', 'explain', file, '--now', NOW]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('verdict:  apply (REPLY_APPLIED)');
    expect(run.stdout).toContain('why:      T9: to do → blocked (waiting on IT)');
    expect(run.stdout).toContain('  T9 blocked: waiting on IT');
  });

  it('refuses a file it cannot read with a clear message and no stack trace', async () => {
    const run = await twofold(['mail', 'explain', 'no-such-reply.eml', '--json']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: no-such-reply\.eml: no such file \[MAIL_INGEST_UNREADABLE\]/);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('twofold mail ingest', () => {
  it('applies a reply from a file: the plan line, the activity log, the confirmation, exit 0', async () => {
    // --now fixes the clock: the token's expiry and "today" (the blocker's since) read it.
    const { file, id } = await replyFile('reply.eml', { task: 'T9', text: 'blocked: waiting on IT' });
    const before = await project.planText(SLUG);
    const run = await twofold(['mail', 'ingest', file, '--now', NOW]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('processed (REPLY_APPLIED)');
    expect(run.stderr).not.toMatch(STACK_FRAME);
    const diff = lineDiff(before, await project.planText(SLUG));
    expect(diff.removed.map((l) => l.text)).toEqual([T9]);
    expect(diff.added.map((l) => l.text)).toEqual([T9.replace(' }', ', status: blocked, blocked: { reason: waiting on IT, since: 2026-12-03 } }')]);
    expect((await project.activity(SLUG)).filter((e) => e.message === id)).toMatchObject([{ actor: 'hamish', verb: 'blocked', task: 'T9', value: 'waiting on IT', via: 'email' }]);
    expect(await outboxTags()).toEqual(['confirm-t9']);

    // The MTA delivers it again (a retry after a timeout): a duplicate, still exit 0, nothing more.
    const again = await twofold(['mail', 'ingest', file, '--now', NOW]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('processed (duplicate)');
    expect((await project.activity(SLUG)).filter((e) => e.message === id)).toHaveLength(1);
    expect(await outboxTags()).toEqual(['confirm-t9']);
  });

  it('applies a reply without a Message-ID once when ten `mail ingest` processes get it at the same moment, and once more is a duplicate', async () => {
    const { raw } = await replyFile('with-id.eml', { task: 'T9', text: 'in progress\nnote: sent by a client that writes no Message-ID' });
    const bare = Buffer.from(raw.toString('utf8').replace(/^Message-ID:.*\r?\n/im, ''));
    expect(bare.toString('utf8')).not.toMatch(/^Message-ID:/im);
    const file = path.join(project.root, 'no-message-id.eml');
    await writeFile(file, bare);
    const key = `digest:${createHash('sha256').update(bare).digest('hex')}`;

    const runs = await Promise.all(Array.from({ length: 10 }, () => twofold(['mail', 'ingest', file, '--now', NOW])));
    // One applies it; the rest see it done (exit 0) or still in hand (75: the MTA tries again).
    expect(runs.filter((r) => r.code === 0 && r.stdout.trim() === 'processed (REPLY_APPLIED)')).toHaveLength(1);
    for (const r of runs) expect([0, 75], r.stderr).toContain(r.code);
    for (const r of runs.filter((r) => r.stdout.trim() !== 'processed (REPLY_APPLIED)')) expect(r.stdout.trim() === 'processed (duplicate)' || r.code === 75, r.stdout + r.stderr).toBe(true);

    const again = await twofold(['mail', 'ingest', file, '--now', NOW]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('processed (duplicate)');
    expect((await project.activity(SLUG)).filter((e) => e.task === 'T9').map((e) => [e.verb, e.message])).toEqual([
      ['in_progress', key],
      ['note', key],
    ]);
    expect((await project.planText(SLUG)).split('\n')).toContain(T9.replace(' }', ', status: in_progress }'));
    expect(await outboxTags()).toEqual(['confirm-t9']);
  });

  it('applies a reply piped on stdin (`mail ingest -`), and with no argument at all', async () => {
    const first = await replyFile('first.eml', { task: 'T9', text: 'in progress' });
    const run = await twofold(['mail', 'ingest', '-', '--now', NOW], first.raw);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('processed (REPLY_APPLIED)');
    expect((await project.planText(SLUG)).split('\n')).toContain(T9.replace(' }', ', status: in_progress }'));

    const second = await replyFile('second.eml', { task: 'T9', text: 'done' });
    const bare = await twofold(['mail', 'ingest', '--now', NOW], second.raw);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout.trim()).toBe('processed (REPLY_APPLIED)');
    expect((await project.activity(SLUG)).filter((e) => e.message === first.id || e.message === second.id).map((e) => e.verb)).toEqual(['in_progress', 'done']);
  });

  it('processes a forged reply without changing the plan: exit 0 (done with, for the MTA), the CSM told', async () => {
    const { raw } = await replyAs({ paths: project.paths, store: project.store, identity: identityFor() }, { slug: SLUG, task: 'T9', text: 'done', date: new Date(NOW), from: 'mallory@evil.example' });
    const before = await project.planBytes();
    const run = await twofold(['mail', 'ingest', '-', '--now', NOW], raw);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('processed (REPLY_SENDER_MISMATCH)');
    expect(await project.planBytes()).toEqual(before);
    expect(await outboxTags()).toEqual(['notice-reply-sender-mismatch']);
  });

  it('answers 75 (try again later) for a reply to a plan whose file has errors, then applies it once fixed', async () => {
    const { file, id } = await replyFile('reply.eml', { task: 'T9', text: 'done' });
    const planFile = await project.planFile(SLUG);
    const good = await readFile(planFile, 'utf8');
    await writeFile(planFile, good.replace('timezone: Australia/Sydney', 'timezone: Australia/Sydny'));
    const refused = await twofold(['mail', 'ingest', file, '--now', NOW]);
    expect(refused.code).toBe(75);
    expect(refused.stderr).toMatch(/^error: plan tamarind-vale has errors, so the reply waits until it is fixed: .*Australia\/Sydny/m);
    expect(refused.stderr).not.toMatch(STACK_FRAME);
    expect(await outboxTags()).toEqual([]);

    await writeFile(planFile, good);
    const retried = await twofold(['mail', 'ingest', file, '--now', NOW]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout.trim()).toBe('processed (REPLY_APPLIED)');
    expect((await project.activity(SLUG)).filter((e) => e.message === id).map((e) => e.verb)).toEqual(['done']);
  });

  it('keeps an unreadable message in the failed folder and still tells the MTA it is done (exit 0)', async () => {
    const junk = Buffer.from('\u0000\u0000 not an email at all\r\n<<<<\r\n\r\ndone\r\n', 'latin1');
    const before = await project.planBytes();
    const run = await twofold(['mail', 'ingest', '-', '--now', NOW], junk);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('failed (MAIL_MALFORMED)');
    expect(await project.planBytes()).toEqual(before);
    const failed = await project.failedMessages();
    expect(failed).toHaveLength(1);
    expect((await readFile(path.join(project.paths.journalDir, 'failed', failed[0]!))).equals(junk)).toBe(true);
  });

  it.each([
    { name: 'a file that does not exist', arg: 'no-such-reply.eml', code: 66, message: /^error: no-such-reply\.eml: no such file \[MAIL_INGEST_UNREADABLE\]$/m },
    { name: 'an empty message', arg: 'empty.eml', code: 65, message: /^error: empty\.eml: the message is empty \[MAIL_INGEST_EMPTY\]$/m },
  ])('refuses $name with exit $code and a clear message, no stack trace', async ({ arg, code, message }) => {
    await writeFile(path.join(project.root, 'empty.eml'), '');
    const run = await twofold(['mail', 'ingest', arg, '--now', NOW]);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.stderr).not.toMatch(/\bat\s+\S+\s+\(/);
  });
});

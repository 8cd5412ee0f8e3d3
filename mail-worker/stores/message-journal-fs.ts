/**
 * The worker's journal: one record per inbound message (keyed by Message-ID, else a digest of
 * the bytes). It makes processing idempotent and crash-safe without copying messages: every
 * source redelivers a message until it is acknowledged (IMAP moves it only after the outcome is
 * recorded, SMTP answers 250 only then, an MTA pipe retries on a non-zero exit), so the journal
 * only has to remember what a message already did:
 *
 *   (claim)   an O_EXCL claim file: two workers never process one message at the same time;
 *             a claim left by a dead process is taken over
 *   applying  written before the plan is: the new plan text and activity lines, so a crash
 *             between writing the plan and recording "done" is finished, never applied twice
 *   done      the outcome and the answers sent; the same message again is a duplicate
 *
 * A message that could not be read at all is kept in `failed/` for the CSM.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ActivityEntry } from '../../site/core/plan/activity.ts';
import type { Change } from '../../site/core/plan/plan-edits.ts';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';

/** A claim older than this whose owner we cannot see is taken over (processing takes ms). */
export const CLAIM_STALE_MS = 5 * 60_000;

export type Verdict = 'apply' | 'ignore' | 'reject' | 'fail';

export interface PendingApply {
  slug: string;
  /** sha256 of the plan file before and after the change. */
  before: string;
  after: string;
  afterText: string;
  activity: ActivityEntry[];
  /** What changed, for the confirmation sent after a recovery. */
  changes: Change[];
}

export interface JournalRecord {
  key: string;
  state: 'new' | 'applying' | 'done';
  receivedAt: string;
  updatedAt: string;
  source?: string;
  verdict?: Verdict;
  reason?: string;
  plan?: string;
  task?: string;
  sender?: string;
  /** What the message changed (summaries), for logs. */
  changes?: string[];
  apply?: PendingApply;
  /** Message-IDs of what Twofold sent in answer. */
  answers?: string[];
}

export type ClaimResult = { status: 'claimed'; record: JournalRecord } | { status: 'duplicate'; record: JournalRecord } | { status: 'busy' };

export interface MessageJournal {
  claim(key: string, meta: { receivedAt: Date; source: string }): Promise<ClaimResult>;
  update(record: JournalRecord): Promise<void>;
  /** Record the final outcome and release the claim; a failed message's bytes are kept. */
  finish(record: JournalRecord, raw?: Buffer): Promise<void>;
  /** Give a claim back without an outcome (the message will come again). */
  release(key: string): Promise<void>;
  /** Records a crash left in the middle of applying. */
  unfinished(): Promise<JournalRecord[]>;
  get(key: string): Promise<JournalRecord | undefined>;
}

export function journalName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

export function openMessageJournal(dir: string, options: { now?: () => Date } = {}): MessageJournal {
  const now = options.now ?? (() => new Date());
  const host = os.hostname();
  const failedDir = path.join(dir, 'failed');
  const files = (key: string) => {
    const name = journalName(key);
    return { record: path.join(dir, `${name}.json`), claim: path.join(dir, `${name}.claim`), failed: path.join(failedDir, `${name}.eml`) };
  };
  let ready: Promise<unknown> | undefined;
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true }));

  async function read(file: string): Promise<JournalRecord | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as JournalRecord;
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  async function takeClaim(file: string): Promise<boolean> {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, host, at: now().toISOString() }));
      await handle.close();
      return true;
    } catch (err: any) {
      if (err?.code !== 'EEXIST') throw err;
    }
    // Someone holds it: take it over only when its owner is gone.
    try {
      const owner = JSON.parse(await readFile(file, 'utf8')) as { pid: number; host: string; at: string };
      const dead = owner.host === host && !alive(owner.pid);
      const stale = now().getTime() - Date.parse(owner.at) > CLAIM_STALE_MS;
      if (!dead && !stale) return false;
      await removeClaim(file);
      return takeClaim(file);
    } catch {
      return false;
    }
  }

  return {
    async claim(key, meta) {
      await ensureDir();
      const f = files(key);
      const existing = await read(f.record);
      if (existing?.state === 'done') return { status: 'duplicate', record: existing };
      if (!(await takeClaim(f.claim))) return { status: 'busy' };
      const again = await read(f.record);
      if (again?.state === 'done') {
        await removeClaim(f.claim);
        return { status: 'duplicate', record: again };
      }
      return { status: 'claimed', record: again ?? { key, state: 'new', receivedAt: meta.receivedAt.toISOString(), updatedAt: now().toISOString(), source: meta.source } };
    },
    async update(record) {
      await writeFileAtomic(files(record.key).record, JSON.stringify({ ...record, updatedAt: now().toISOString() }));
    },
    async finish(record, raw) {
      const f = files(record.key);
      const { apply: _apply, ...rest } = record;
      if (record.verdict === 'fail' && raw) {
        await mkdir(failedDir, { recursive: true });
        await writeFileAtomic(f.failed, raw);
      }
      // Not fsynced: everything this outcome stands for (the plan, the activity log, the spooled
      // answers) already is, and a "done" lost to a power cut reads as "applying" (finished
      // again, idempotently) or as unseen (the activity log then marks the reply a duplicate).
      await writeFileAtomic(f.record, JSON.stringify({ ...rest, state: 'done', updatedAt: now().toISOString() }), { durable: false });
      await removeClaim(f.claim);
    },
    async release(key) {
      await removeClaim(files(key).claim);
    },
    async unfinished() {
      const names = await readdir(dir).catch(() => [] as string[]);
      const out: JournalRecord[] = [];
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const record = await read(path.join(dir, name));
        if (record?.state === 'applying' && record.apply) out.push(record);
      }
      return out;
    },
    get(key) {
      return read(files(key).record);
    },
  };
}

/** Unlink, not `rm --force`: the claim is a plain file, and rm's checks cost two more system calls. */
async function removeClaim(file: string): Promise<void> {
  await unlink(file).catch((err) => {
    if (err?.code !== 'ENOENT') throw err;
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err?.code === 'EPERM';
  }
}

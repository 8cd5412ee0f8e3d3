/**
 * The worker's journal: one record per inbound message (keyed by Message-ID, else a digest of
 * the bytes), written before anything the message causes. It makes processing idempotent and
 * crash-safe:
 *
 *   claimed   the raw message is saved beside the record; a crash here re-processes it
 *   applying  the new plan text and activity lines are recorded before the plan is written;
 *             recovery finishes or redoes the write (never applies twice: see recover())
 *   done      the outcome and the answer are recorded; the same message again is a duplicate.
 *             A message that could not be read at all is kept in `failed/` for the CSM.
 *
 * A claim is also a cross-process lock (O_EXCL), so two workers on one mailbox never process the
 * same message at the same time; a claim left by a dead process is taken over.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
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
  state: 'claimed' | 'applying' | 'done';
  receivedAt: string;
  updatedAt: string;
  source?: string;
  verdict?: Verdict;
  reason?: string;
  plan?: string;
  task?: string;
  sender?: string;
  /** What the message changed (summaries), for logs and `twofold status`. */
  changes?: string[];
  apply?: PendingApply;
  /** Message-IDs of what Twofold sent in answer. */
  answers?: string[];
  owner?: { pid: number; host: string };
}

export type ClaimResult = { status: 'claimed'; record: JournalRecord } | { status: 'duplicate'; record: JournalRecord } | { status: 'busy' };

export interface MessageJournal {
  claim(key: string, raw: Buffer, meta: { receivedAt: Date; source: string }): Promise<ClaimResult>;
  update(record: JournalRecord): Promise<void>;
  /** Record the final outcome and release the claim. */
  finish(record: JournalRecord): Promise<void>;
  /** Give a claim back without an outcome (the message will come again). */
  release(key: string): Promise<void>;
  /** Records left unfinished by a crash, with their raw messages. */
  unfinished(): Promise<Array<{ record: JournalRecord; raw: Buffer }>>;
  get(key: string): Promise<JournalRecord | undefined>;
}

export function journalName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

export function openMessageJournal(dir: string, options: { now?: () => Date } = {}): MessageJournal {
  const now = options.now ?? (() => new Date());
  const host = os.hostname();
  const files = (key: string) => {
    const name = journalName(key);
    return { record: path.join(dir, `${name}.json`), raw: path.join(dir, `${name}.eml`), claim: path.join(dir, `${name}.claim`) };
  };
  const write = (file: string, record: JournalRecord) => writeFileAtomic(file, JSON.stringify(record));

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
      await rm(file, { force: true });
      return takeClaim(file);
    } catch {
      return false;
    }
  }

  return {
    async claim(key, raw, meta) {
      await mkdir(dir, { recursive: true });
      const f = files(key);
      const existing = await read(f.record);
      if (existing?.state === 'done') return { status: 'duplicate', record: existing };
      if (!(await takeClaim(f.claim))) return { status: 'busy' };
      const again = await read(f.record);
      if (again?.state === 'done') {
        await rm(f.claim, { force: true });
        return { status: 'duplicate', record: again };
      }
      if (again) return { status: 'claimed', record: { ...again, owner: { pid: process.pid, host } } };
      await writeFileAtomic(f.raw, raw);
      const record: JournalRecord = { key, state: 'claimed', receivedAt: meta.receivedAt.toISOString(), updatedAt: now().toISOString(), source: meta.source, owner: { pid: process.pid, host } };
      await write(f.record, record);
      return { status: 'claimed', record };
    },
    async update(record) {
      await write(files(record.key).record, { ...record, updatedAt: now().toISOString() });
    },
    async finish(record) {
      const f = files(record.key);
      const { apply: _apply, owner: _owner, ...rest } = record;
      await write(f.record, { ...rest, state: 'done', updatedAt: now().toISOString() });
      if (record.verdict === 'fail') {
        // A message that could not be processed is kept for the CSM, never lost.
        await mkdir(path.join(dir, 'failed'), { recursive: true });
        await rename(f.raw, path.join(dir, 'failed', path.basename(f.raw))).catch(() => undefined);
      } else {
        await rm(f.raw, { force: true });
      }
      await rm(f.claim, { force: true });
    },
    async release(key) {
      await rm(files(key).claim, { force: true });
    },
    async unfinished() {
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch {
        return [];
      }
      const out: Array<{ record: JournalRecord; raw: Buffer }> = [];
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const record = await read(path.join(dir, name));
        if (!record || record.state === 'done') continue;
        const f = files(record.key);
        try {
          out.push({ record, raw: await readFile(f.raw) });
        } catch {
          // The raw message is gone: nothing to redo; the source still has it.
        }
      }
      return out;
    },
    get(key) {
      return read(files(key).record);
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err?.code === 'EPERM';
  }
}

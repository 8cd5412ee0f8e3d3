/**
 * A cross-process lock on one file path: `<file>` created with O_EXCL ('wx'), holding the owner's
 * pid, host and a random token. Holders keep it for milliseconds (read, change, atomic write), so
 * a lock older than `staleMs`, or one whose process is gone on this host, was left by a crash
 * and is taken over.
 *
 * Takeover renames the stale lock aside and checks, by inode, that what it moved is the lock it
 * judged stale; if a live process re-created the lock in between, that lock is put back.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeInDir } from './ensure-dir-fs.ts';

/** A lock untouched this long belongs to a crashed process (holders keep it for milliseconds). */
export const LOCK_STALE_MS = 30_000;
/** How long to wait for a live holder before giving up. */
export const LOCK_TIMEOUT_MS = 60_000;
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;

export interface FileLockOptions {
  /** Default LOCK_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default LOCK_STALE_MS. */
  staleMs?: number;
  /** The error to throw when the lock stays held past the timeout (carry a catalog code). */
  onTimeout: (holder: string) => Error;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  at: string;
}

/** Run `fn` while holding the lock at `lockFile`; the lock is released however `fn` ends. */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const token = await acquire(lockFile, options);
  try {
    return await fn();
  } finally {
    await release(lockFile, token);
  }
}

async function acquire(lockFile: string, options: FileLockOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? LOCK_TIMEOUT_MS;
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const token = randomBytes(12).toString('hex');
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), token, at: new Date().toISOString() };
  const deadline = Date.now() + timeoutMs;
  let wait = POLL_MIN_MS;
  for (;;) {
    try {
      const handle = await writeInDir(path.dirname(lockFile), () => open(lockFile, 'wx', 0o600));
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      return token;
    } catch (err: any) {
      if (err?.code !== 'EEXIST') throw err;
    }
    if (await takeOverIfStale(lockFile, staleMs)) continue;
    if (Date.now() >= deadline) throw options.onTimeout(await describeHolder(lockFile));
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, POLL_MAX_MS);
  }
}

async function release(lockFile: string, token: string): Promise<void> {
  // Only remove the lock if it is still ours (it may have been taken over as stale).
  const holder = await readOwner(lockFile);
  if (holder?.token === token) await unlink(lockFile).catch(() => {});
}

async function takeOverIfStale(lockFile: string, staleMs: number): Promise<boolean> {
  let info;
  try {
    info = await stat(lockFile);
  } catch (err: any) {
    if (err?.code === 'ENOENT') return true; // released meanwhile: try again at once
    throw err;
  }
  const owner = await readOwner(lockFile);
  const old = Date.now() - info.mtimeMs > staleMs;
  const dead = owner !== undefined && owner.host === os.hostname() && !isAlive(owner.pid);
  if (!old && !dead) return false;
  const aside = `${lockFile}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockFile, aside);
  } catch (err: any) {
    if (err?.code === 'ENOENT') return true; // someone else took it over first
    throw err;
  }
  const moved = await stat(aside).catch(() => undefined);
  if (moved && moved.ino !== info.ino) {
    // We moved a lock created after our check: hand it back unless yet another one exists.
    await link(aside, lockFile).catch(() => {});
  }
  await unlink(aside).catch(() => {});
  return true;
}

async function readOwner(lockFile: string): Promise<LockOwner | undefined> {
  try {
    const value = JSON.parse(await readFile(lockFile, 'utf8'));
    return typeof value?.pid === 'number' && typeof value?.token === 'string' ? (value as LockOwner) : undefined;
  } catch {
    return undefined; // missing, or being written this instant
  }
}

async function describeHolder(lockFile: string): Promise<string> {
  const owner = await readOwner(lockFile);
  return owner ? `process ${owner.pid} on ${owner.host} since ${owner.at}` : 'an unknown process';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err?.code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

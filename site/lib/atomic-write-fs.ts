/**
 * Atomic file replacement: write a temporary file beside the target, fsync it, rename it over
 * the target, fsync the directory. Readers see the old file or the new one, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeInDir } from './ensure-dir-fs.ts';

/**
 * `durable: false` skips the fsyncs, for caches that are rebuilt when lost: the rename still
 * makes the replacement atomic, it just may not survive a power cut.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number; durable?: boolean } = {}): Promise<void> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await writeInDir(dir, () => open(tmp, 'w', options.mode ?? 0o644));
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await syncDir(dir);
}

/**
 * fsync a directory, shared by concurrent callers (group commit): a sync that *starts* after a
 * caller's rename covers it, so callers arriving while one runs wait for the next, and everyone
 * who arrived by then shares that one. Under a backlog this turns one directory fsync per write
 * into one per batch.
 */
const dirSyncs = new Map<string, { running: Promise<void>; queued?: Promise<void> }>();

function syncDir(dir: string): Promise<void> {
  const state = dirSyncs.get(dir);
  // The running sync may have started before this caller's rename: share the one after it.
  if (state) return (state.queued ??= state.running.then(() => startDirSync(dir)));
  return startDirSync(dir);
}

function startDirSync(dir: string): Promise<void> {
  const running: Promise<void> = fsyncDir(dir).finally(() => {
    if (dirSyncs.get(dir)?.running === running) dirSyncs.delete(dir);
  });
  dirSyncs.set(dir, { running });
  return running;
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  }
}

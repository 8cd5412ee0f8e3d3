/**
 * One writer at a time per plan: an in-process queue (so fifty replies to one plan wait in
 * line instead of polling) around a cross-process file lock (so two workers, or the worker and a
 * CLI command, never interleave their read-change-write of the same plan).
 *
 * The lock lives beside what it protects, in `content/.locks/`, not in the local store: two
 * workers each run from their own local store (TWOFOLD_HOME) yet write the same plan files, so
 * only a lock keyed to the content is one lock for both. The folder ignores itself in git.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TwofoldError } from '../core/errors/problem.ts';
import { assertPlanSlug } from '../core/plan/plan-slug.ts';
import { withFileLock } from './file-lock-fs.ts';
import type { ProjectPaths } from './project-paths.ts';

/** Under `content/`: shared by every process that writes these plans, whatever its local store. */
export const PLAN_LOCKS_DIR = '.locks';

const queues = new Map<string, Promise<unknown>>();
const readyDirs = new Map<string, Promise<void>>();

export function planLockFile(paths: Pick<ProjectPaths, 'contentDir'>, slug: string): string {
  return path.join(paths.contentDir, PLAN_LOCKS_DIR, `plan-${assertPlanSlug(slug)}.lock`);
}

/** The locks folder, with a `.gitignore` of `*` so neither it nor a lock left by a crash shows up in git. */
function ensureLocksDir(dir: string): Promise<void> {
  let ready = readyDirs.get(dir);
  if (!ready) {
    ready = (async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, '.gitignore'), '# Twofold plan locks: held for milliseconds while a plan is written, never committed.\n*\n', { flag: 'wx' }).catch((err) => {
        if (err?.code !== 'EEXIST') throw err;
      });
    })();
    ready.catch(() => readyDirs.delete(dir));
    readyDirs.set(dir, ready);
  }
  return ready;
}

export async function withPlanLock<T>(paths: ProjectPaths, slug: string, fn: () => Promise<T>): Promise<T> {
  const lockFile = planLockFile(paths, slug);
  const locked = () => ensureLocksDir(path.dirname(lockFile)).then(() => withFileLock(lockFile, fn, { onTimeout: (holder) => new TwofoldError('PLAN_LOCKED', `plan ${slug} stayed locked by ${holder} (${lockFile})`) }));
  const previous = queues.get(lockFile) ?? Promise.resolve();
  const run = previous.then(locked, locked);
  const tail = run.catch(() => undefined);
  queues.set(lockFile, tail);
  try {
    return await run;
  } finally {
    if (queues.get(lockFile) === tail) queues.delete(lockFile);
  }
}

/**
 * One writer at a time per plan: an in-process queue (so fifty replies to one plan wait in
 * line instead of polling) around a cross-process file lock (so two workers, or the worker and a
 * CLI command, never interleave their read-change-write of the same plan).
 */
import path from 'node:path';
import { TwofoldError } from '../core/errors/problem.ts';
import { assertPlanSlug } from '../core/plan/plan-slug.ts';
import { withFileLock } from './file-lock-fs.ts';
import type { ProjectPaths } from './project-paths.ts';

const queues = new Map<string, Promise<unknown>>();

export async function withPlanLock<T>(paths: ProjectPaths, slug: string, fn: () => Promise<T>): Promise<T> {
  const lockFile = path.join(paths.locksDir, `plan-${assertPlanSlug(slug)}.lock`);
  const previous = queues.get(lockFile) ?? Promise.resolve();
  const run = previous.then(
    () => withFileLock(lockFile, fn, { onTimeout: (holder) => new TwofoldError('PLAN_LOCKED', `plan ${slug} stayed locked by ${holder}`) }),
    () => withFileLock(lockFile, fn, { onTimeout: (holder) => new TwofoldError('PLAN_LOCKED', `plan ${slug} stayed locked by ${holder}`) }),
  );
  const tail = run.catch(() => undefined);
  queues.set(lockFile, tail);
  try {
    return await run;
  } finally {
    if (queues.get(lockFile) === tail) queues.delete(lockFile);
  }
}

/**
 * Plans edited outside the worker (a CSM's edit, a `git pull`) reach their portals without a
 * build command: the worker watches `content/plans/`, re-seals a changed plan's portal through
 * the fast path (a new plan, not built yet, falls back to a coalesced full build) and asks the
 * scheduler to look at it (a moved milestone updates its check-in invite). The worker's own
 * writes come through here too; re-sealing them again finds nothing changed.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { isPlanSlug } from '../../site/core/plan/plan-slug.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';

/** Editors write a file in several steps; act once it has been quiet this long. */
export const PLAN_CHANGE_QUIET_MS = 500;

export function watchPlans(paths: ProjectPaths, onChange: (slug: string) => void, log: (event: { event: string; [k: string]: unknown }) => void): () => void {
  const timers = new Map<string, NodeJS.Timeout>();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(paths.plansDir, (_event, name) => {
      const file = name ? String(name) : '';
      const slug = path.basename(file).replace(/\.mdx?$/, '');
      if (!/\.mdx?$/.test(file) || !isPlanSlug(slug)) return;
      clearTimeout(timers.get(slug));
      const timer = setTimeout(() => {
        timers.delete(slug);
        onChange(slug);
      }, PLAN_CHANGE_QUIET_MS);
      timer.unref?.();
      timers.set(slug, timer);
    });
    watcher.on('error', (err) => log({ event: 'plans.watch_failed', reason: String(err?.message ?? err) }));
  } catch (err: any) {
    // No watcher (a file system without inotify): portals then follow the scheduler's daily refresh.
    log({ event: 'plans.watch_failed', reason: String(err?.message ?? err) });
  }
  return () => {
    watcher?.close();
    for (const t of timers.values()) clearTimeout(t);
  };
}

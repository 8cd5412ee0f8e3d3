/**
 * Publishing after a change: re-seal the one portal at once (the fast path), and fall back to a
 * coalesced full build when the portal was never built. A full build swaps in output built from
 * the plans as they were when it started, so portals re-sealed while it ran are re-sealed again
 * after it. A failed full build keeps the last good dist/ and tells the CSMs concerned.
 */
import { resealPortal, type ResealResult } from '../../site/lib/portal-reseal-fs.ts';
import { withPlanLock } from '../../site/lib/plan-lock-fs.ts';
import { buildPortals } from '../../site/lib/portal-build.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { SecretStore } from '../../site/lib/secret-store-fs.ts';
import type { SourceLog } from '../sources/message-handler.ts';
import { createRebuildQueue, type RebuildQueue } from './rebuild-queue.ts';

export interface Publisher {
  /** Re-seal a plan's portal now (call under the plan lock, after writing it). */
  reseal(slug: string): Promise<ResealResult>;
  /** Ask for a full build (coalesced). */
  requestBuild(reason: string): void;
  /** Resolves once no full build is running or pending. */
  idle(): Promise<void>;
  stop(): void;
}

export interface PublisherDeps {
  paths: ProjectPaths;
  env: Record<string, string | undefined>;
  store: SecretStore;
  clock: () => Date;
  log: SourceLog;
  /** Told when a full build fails (the CSMs of the plans that asked for it). */
  onBuildFailed?: (error: Error, reasons: string[]) => Promise<void>;
  /** Default: buildPortals. Tests inject faults here. */
  build?: typeof buildPortals;
}

export function createPublisher(deps: PublisherDeps): Publisher {
  let building = false;
  const touchedDuringBuild = new Set<string>();
  const build = deps.build ?? buildPortals;

  async function reseal(slug: string): Promise<ResealResult> {
    if (building) touchedDuringBuild.add(slug);
    const result = await resealPortal({ paths: deps.paths, store: deps.store, now: deps.clock() }, slug);
    // "plan <slug>:" names the plan whose CSM hears of a failed build (outcome-replies.ts buildFailed).
    if (result.status === 'missing') queue.request(`plan ${slug}: portal not built yet`);
    deps.log({ event: 'portal.reseal', plan: slug, status: result.status });
    return result;
  }

  const queue: RebuildQueue = createRebuildQueue(async (reasons) => {
    building = true;
    touchedDuringBuild.clear();
    const started = performance.now();
    try {
      const report = await build({ paths: deps.paths, env: deps.env, now: deps.clock() });
      deps.log({ event: 'build.done', reasons, sealed: report.sealed.length, reused: report.reused.length, skipped: report.skipped.length, ms: Math.round(performance.now() - started) });
    } catch (err: any) {
      deps.log({ event: 'build.failed', code: err?.code ?? 'BUILD_ASTRO_FAILED', reasons, reason: String(err?.message ?? err).split('\n')[0] });
      await deps.onBuildFailed?.(err, reasons).catch(() => undefined);
      return;
    } finally {
      building = false;
    }
    for (const slug of touchedDuringBuild) await withPlanLock(deps.paths, slug, () => reseal(slug)).catch(() => undefined);
    touchedDuringBuild.clear();
  });

  return { reseal, requestBuild: (reason) => queue.request(reason), idle: () => queue.idle(), stop: () => queue.stop() };
}

/**
 * The worker's scheduler: `runTick` every `tick.every_minutes`, one tick at a time, and
 * `tickSoon(slug)` after a reply changed a plan, so a reply that completes a stage or moves a
 * milestone sends the check-in invite (and the next stage's task emails) at the next allowed
 * moment instead of at the next interval. A burst of replies is coalesced into one tick.
 *
 * A reply-triggered tick has scope `changes` (stage completions and check-ins only): reminders,
 * digests and escalations keep to the interval, so a reply never triggers a wave of unrelated
 * mail. It runs even when the interval is off (`every_minutes: 0`), and it keeps the plan's
 * window like every tick: a reply during quiet hours gets its confirmation at once (that is not
 * the scheduler's), and the invite waits for the window.
 *
 * Logs one JSON line per tick: `{"event":"tick.done","trigger":"interval","sent":3,...}`.
 */
import type { TickScope } from './plan-tick.ts';
import { runTick, type TickDeps, type TickResult } from './run-tick.ts';

/** Replies within this long of the first one are handled by one tick. */
export const TICK_SOON_DEBOUNCE_MS = 3_000;
const MINUTE_MS = 60_000;

export interface TickSchedulerDeps extends TickDeps {
  clock: () => Date;
  log: (event: Record<string, unknown>) => void;
}

export interface TickScheduler {
  /** Tick every `everyMinutes` (the first one after one interval); 0 leaves the interval off. */
  start(options: { everyMinutes: number }): void;
  /** Tick this plan (scope `changes`) in TICK_SOON_DEBOUNCE_MS, together with any other plan asked for meanwhile. */
  tickSoon(slug: string): void;
  /** A tick now, after the one running (if any). */
  runNow(options?: { slugs?: string[]; scope?: TickScope; trigger?: string }): Promise<TickResult>;
  /** Run the ticks asked for by tickSoon now and wait until no tick runs (the scheduler stays on). */
  settle(): Promise<void>;
  /** Stop the timers, then settle. */
  close(): Promise<void>;
}

export function createTickScheduler(deps: TickSchedulerDeps): TickScheduler {
  let chain: Promise<unknown> = Promise.resolve();
  let interval: NodeJS.Timeout | undefined;
  let intervalQueued = false;
  let soonTimer: NodeJS.Timeout | undefined;
  const soon = new Set<string>();
  let closed = false;

  function runNow(options: { slugs?: string[]; scope?: TickScope; trigger?: string } = {}): Promise<TickResult> {
    const run = chain.then(async () => {
      const started = performance.now();
      const now = deps.clock();
      const result = await runTick({ ...deps, now, ...(options.slugs ? { slugs: options.slugs } : {}), ...(options.scope ? { scope: options.scope } : {}) });
      deps.log(summary(result, now, options.trigger ?? 'manual', options.scope ?? 'all', Math.round(performance.now() - started)));
      return result;
    });
    chain = run.catch((err) => deps.log({ event: 'tick.failed', trigger: options.trigger ?? 'manual', code: err?.code ?? 'TICK_PLAN_FAILED', reason: String(err?.message ?? err) }));
    return run;
  }

  function flushSoon(): Promise<unknown> {
    if (soonTimer) clearTimeout(soonTimer);
    soonTimer = undefined;
    if (soon.size === 0) return Promise.resolve();
    const slugs = [...soon];
    soon.clear();
    return runNow({ slugs, scope: 'changes', trigger: 'reply' }).catch(() => undefined);
  }

  async function settle(): Promise<void> {
    await flushSoon();
    await chain;
  }

  return {
    start({ everyMinutes }) {
      if (closed || interval || everyMinutes <= 0) return;
      interval = setInterval(() => {
        // One tick at a time: an interval that comes round while a tick still runs is skipped.
        if (intervalQueued) return;
        intervalQueued = true;
        void runNow({ trigger: 'interval' })
          .catch(() => undefined)
          .finally(() => {
            intervalQueued = false;
          });
      }, everyMinutes * MINUTE_MS);
      interval.unref?.();
    },
    tickSoon(slug) {
      if (closed) return;
      soon.add(slug);
      if (soonTimer) return;
      soonTimer = setTimeout(() => void flushSoon(), TICK_SOON_DEBOUNCE_MS);
      soonTimer.unref?.();
    },
    runNow,
    settle,
    async close() {
      closed = true;
      if (interval) clearInterval(interval);
      interval = undefined;
      await settle();
    },
  };
}

/** The one log line of a tick. */
function summary(result: TickResult, now: Date, trigger: string, scope: TickScope, ms: number): Record<string, unknown> {
  const byKind: Record<string, number> = {};
  for (const item of result.sent) byKind[item.kind] = (byKind[item.kind] ?? 0) + 1;
  const closed = result.plans.filter((p) => p.status === 'closed').map((p) => `${p.plan} (${p.reason})`);
  const failed = result.plans.filter((p) => p.status === 'failed' || p.status === 'invalid').map((p) => ({ plan: p.plan, code: p.code, reason: p.message }));
  return { event: 'tick.done', trigger, scope, at: now.toISOString(), plans: result.plans.length, sent: result.sent.length, byKind, closed, failed, ms };
}

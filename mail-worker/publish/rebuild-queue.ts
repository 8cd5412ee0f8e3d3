/**
 * Full rebuilds, coalesced: one at a time, and any number of requests while one runs (or within
 * the debounce window) merge into a single next build.
 */
export interface RebuildQueue {
  request(reason: string): void;
  /** Resolves when no build is running or pending. */
  idle(): Promise<void>;
  stop(): void;
}

export const REBUILD_DEBOUNCE_MS = 2_000;

export function createRebuildQueue(run: (reasons: string[]) => Promise<void>, options: { debounceMs?: number } = {}): RebuildQueue {
  const debounceMs = options.debounceMs ?? REBUILD_DEBOUNCE_MS;
  let reasons: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const waiters: Array<() => void> = [];

  const settle = () => {
    if (running || timer || reasons.length) return;
    for (const w of waiters.splice(0)) w();
  };

  const start = () => {
    timer = undefined;
    if (stopped || running || reasons.length === 0) return settle();
    const batch = reasons;
    reasons = [];
    running = run(batch)
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (reasons.length) schedule();
        else settle();
      });
  };

  const schedule = () => {
    if (timer || stopped) return;
    timer = setTimeout(start, debounceMs);
    timer.unref?.();
  };

  return {
    request(reason) {
      if (stopped) return;
      reasons.push(reason);
      if (!running) schedule();
    },
    idle() {
      if (!running && !timer && reasons.length === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      reasons = [];
      settle();
    },
  };
}

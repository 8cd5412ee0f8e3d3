/**
 * Reconnect delays: exponential from 1 s to 60 s, each shortened by a random part of up to half,
 * so workers cut off by the same outage do not all come back in the same second.
 */
export const RECONNECT_INITIAL_MS = 1_000;
export const RECONNECT_MAX_MS = 60_000;
/** Fraction of each delay that is random (0 = none, 1 = anywhere between 0 and the delay). */
export const RECONNECT_JITTER = 0.5;

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  jitter: number;
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = { initialMs: RECONNECT_INITIAL_MS, maxMs: RECONNECT_MAX_MS, jitter: RECONNECT_JITTER };

/** The delay before reconnect attempt `attempt` (1 = the first retry after a failure). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_RECONNECT_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30); // 2^30 already exceeds any cap
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  return Math.round(base * (1 - jitter * random()));
}

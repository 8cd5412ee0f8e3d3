import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RECONNECT_BACKOFF, RECONNECT_INITIAL_MS, RECONNECT_MAX_MS } from '../../../mail-worker/sources/reconnect-backoff.ts';

describe('reconnect backoff', () => {
  const noJitter = { ...DEFAULT_RECONNECT_BACKOFF, jitter: 0 };

  it.each([
    { name: 'first retry', attempt: 1, ms: 1_000 },
    { name: 'second retry', attempt: 2, ms: 2_000 },
    { name: 'sixth retry', attempt: 6, ms: 32_000 },
    { name: 'seventh retry (capped)', attempt: 7, ms: 60_000 },
    { name: 'thousandth retry (capped, no overflow)', attempt: 1_000, ms: 60_000 },
    { name: 'attempt 0 treated as the first', attempt: 0, ms: 1_000 },
  ])('waits $ms ms before the $name', ({ attempt, ms }) => {
    expect(backoffDelay(attempt, noJitter)).toBe(ms);
  });

  it('starts at 1 s and never exceeds 60 s', () => {
    expect(RECONNECT_INITIAL_MS).toBe(1_000);
    expect(RECONNECT_MAX_MS).toBe(60_000);
  });

  it.each([
    { name: 'no randomness', random: 0, ms: 8_000 },
    { name: 'half', random: 0.5, ms: 6_000 },
    { name: 'the most', random: 0.999999, ms: 4_000 },
  ])('shortens a delay by at most half with jitter ($name)', ({ random, ms }) => {
    expect(backoffDelay(4, DEFAULT_RECONNECT_BACKOFF, () => random)).toBe(ms);
  });

  it('spreads workers that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(8_000);
    for (const d of delays) expect(d).toBeLessThanOrEqual(16_000);
  });
});

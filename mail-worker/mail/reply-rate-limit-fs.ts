/**
 * Rate limits for the emails Twofold sends because a message arrived (answers to replies that
 * could not apply, `help` answers, notices to the CSM). Confirmations of applied replies are
 * not limited: every one answers a change a person made.
 *
 * A mail loop with a responder that ignores Auto-Submitted, or a flood of forged mail, must
 * never make Twofold send a flood: each recipient gets at most LIMITS.sender answers an hour,
 * each plan's CSM at most LIMITS.csm notices an hour, and all of them together at most
 * LIMITS.all an hour. Windows slide (the last hour, not the clock hour).
 *
 * State: one JSON file in `paths.stateDir`, read and replaced atomically under a file lock, so
 * the worker's concurrent messages and a CLI run never lose each other's sends. It holds only
 * the send times of allowed emails within the window, so it never holds more than LIMITS.all
 * of them however much mail arrives (refused sends are not recorded). A state file that cannot
 * be read starts over: writes are atomic, so only a hand-edited file can be unreadable, and it
 * costs at most one window.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';
import { withFileLock } from '../../site/lib/file-lock-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';

export const RATE_WINDOW_MS = 60 * 60 * 1000;
/** Sends allowed per window, by kind of key. */
export const LIMITS = {
  /** Answers (problems, help) to one address. */
  sender: 3,
  /** Notices to one plan's CSM. */
  csm: 20,
  /** Every rate-limited email together. */
  all: 100,
} as const;
export const RATE_STATE_FILE = 'reply-rate-limit.json';
/** The code to log when `shouldSend` says no. */
export const RATE_LIMITED_CODE = 'MAIL_REPLY_RATE_LIMITED' satisfies ErrorCode;
const ALL_KEY = 'all';
const LOCK_TIMEOUT_MS = 10_000;

export type RateKey = `sender:${string}` | `csm:${string}`;

/** The key for answers to an address. */
export function senderRateKey(address: string): RateKey {
  return `sender:${address.trim().toLowerCase()}`;
}

/** The key for notices to a plan's CSM. */
export function csmRateKey(slug: string): RateKey {
  return `csm:${slug}`;
}

export interface ReplyRateLimit {
  /** True when an email for `key` may go out at `now`; the send is then recorded. */
  shouldSend(key: RateKey, now: Date): Promise<boolean>;
}

export interface RateState {
  version: 1;
  /** Send times (ms since the epoch) within the window, oldest first, per key. */
  sends: Record<string, number[]>;
}

export function openReplyRateLimit(paths: Pick<ProjectPaths, 'stateDir'>): ReplyRateLimit {
  const file = path.join(paths.stateDir, RATE_STATE_FILE);
  return {
    shouldSend(key, now) {
      return withFileLock(
        `${file}.lock`,
        async () => {
          const state = await read(file);
          const decision = decide(state, key, now.getTime());
          if (decision) await writeFileAtomic(file, `${JSON.stringify(state)}\n`);
          return decision;
        },
        {
          timeoutMs: LOCK_TIMEOUT_MS,
          onTimeout: (holder) => new TwofoldError('MAIL_RATE_STATE_LOCKED', `the rate-limit state ${file} is locked by ${holder}`),
        },
      );
    },
  };
}

/** The decision, pure: prunes old sends, and records this one when it is allowed. */
export function decide(state: RateState, key: RateKey, nowMs: number): boolean {
  const limit = key.startsWith('csm:') ? LIMITS.csm : LIMITS.sender;
  // A send stamped in the future (the clock was set back) still counts, for one window at most.
  const recent = (k: string) => (state.sends[k] ?? []).filter((t) => Math.abs(nowMs - t) < RATE_WINDOW_MS);
  for (const k of Object.keys(state.sends)) {
    const kept = recent(k);
    if (kept.length) state.sends[k] = kept;
    else delete state.sends[k];
  }
  const mine = state.sends[key] ?? [];
  const all = state.sends[ALL_KEY] ?? [];
  if (mine.length >= limit || all.length >= LIMITS.all) return false;
  state.sends[key] = [...mine, nowMs];
  state.sends[ALL_KEY] = [...all, nowMs];
  return true;
}

export function emptyRateState(): RateState {
  return { version: 1, sends: {} };
}

async function read(file: string): Promise<RateState> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as RateState;
    if (parsed?.version !== 1 || typeof parsed.sends !== 'object' || parsed.sends === null || Array.isArray(parsed.sends)) return emptyRateState();
    const sends: Record<string, number[]> = Object.create(null);
    for (const [k, v] of Object.entries(parsed.sends)) if (Array.isArray(v)) sends[k] = v.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
    return { version: 1, sends };
  } catch {
    return emptyRateState();
  }
}

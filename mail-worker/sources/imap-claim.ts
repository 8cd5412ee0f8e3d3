/**
 * Claiming a message before handling it, so two workers on one mailbox never both handle (and
 * both MOVE) it. Dovecot's MOVE is copy-then-expunge: two sessions moving the same message at
 * once can both copy it, so "whoever moves first" is no lock.
 *
 * A claim is this worker's own keyword, `$TwofoldClaim_<workerId>`, added with a conditional
 * STORE (CONDSTORE `UNCHANGEDSINCE <modseq>`): of several sessions racing for the same message
 * only one succeeds, the others get `[MODIFIED]`. The keyword must differ per worker: when two
 * sessions add the SAME keyword at once, Dovecot turns the second STORE into a no-op and answers
 * OK instead of MODIFIED, and both would believe they won.
 *
 * A worker recognises its own keyword after a restart (stable workerId) and takes over another
 * worker's claim once it has stayed in the INBOX for `claimStaleMs` (its owner died).
 */
import type { ImapFlow } from 'imapflow';

export const CLAIM_PREFIX = '$TwofoldClaim_';
const WORKER_ID = /^[A-Za-z0-9-]{1,32}$/;

export function claimKeyword(workerId: string): string {
  if (!WORKER_ID.test(workerId)) throw new Error(`workerId "${workerId}" must be 1–32 letters, digits or dashes`);
  return `${CLAIM_PREFIX}${workerId}`;
}

export function claimKeywordsOf(flags: Iterable<string> | undefined): string[] {
  return [...(flags ?? [])].filter((flag) => flag.startsWith(CLAIM_PREFIX)).sort();
}

export interface ClaimState {
  /** Claims this process holds. */
  ownClaims: Set<string>;
  /** When this process first saw someone else's claim on a message. */
  foreignClaimSeen: Map<string, number>;
}

export type ClaimResult =
  | { claimed: true; tookOverFrom?: string[] }
  | { claimed: false; why: 'claimed_elsewhere' | 'lost_race' | 'gone'; retryInMs: number };

export interface ClaimRequest {
  key: string;
  uid: number;
  modseq: bigint;
  flags: Set<string> | undefined;
  keyword: string;
  claimStaleMs: number;
}

export async function claimMessage(client: ImapFlow, state: ClaimState, request: ClaimRequest): Promise<ClaimResult> {
  const { key, uid, keyword, claimStaleMs } = request;
  if (state.ownClaims.has(key)) return { claimed: true };
  const present = claimKeywordsOf(request.flags);
  const others = present.filter((k) => k !== keyword);
  if (present.includes(keyword) && others.length === 0) {
    state.ownClaims.add(key); // ours, from before a restart or a dropped connection
    return { claimed: true };
  }

  let modseq = request.modseq;
  let tookOverFrom: string[] | undefined;
  if (others.length > 0) {
    const firstSeen = state.foreignClaimSeen.get(key) ?? Date.now();
    state.foreignClaimSeen.set(key, firstSeen);
    const age = Date.now() - firstSeen;
    if (age < claimStaleMs) return { claimed: false, why: 'claimed_elsewhere', retryInMs: claimStaleMs - age };
    // Stale: drop the dead owner's keyword(s) conditionally, then claim as usual below. If two
    // workers take over at once, the claim STORE that follows still lets only one win.
    const removed = await conditionalStore(client, uid, 'remove', others, modseq);
    if (!removed.applied || removed.modseq === undefined) return { claimed: false, why: removed.gone ? 'gone' : 'lost_race', retryInMs: claimStaleMs };
    modseq = removed.modseq;
    tookOverFrom = others;
  }

  const added = await conditionalStore(client, uid, 'add', [keyword], modseq);
  if (!added.applied) {
    state.foreignClaimSeen.set(key, state.foreignClaimSeen.get(key) ?? Date.now());
    return { claimed: false, why: added.gone ? 'gone' : 'lost_race', retryInMs: claimStaleMs };
  }
  // A server weaker than Dovecot could let two different keywords through: the smallest wins.
  const rivals = claimKeywordsOf(added.flags).filter((k) => k !== keyword);
  if (rivals.some((rival) => rival < keyword)) {
    await client.messageFlagsRemove(String(uid), [keyword], { uid: true });
    return { claimed: false, why: 'lost_race', retryInMs: claimStaleMs };
  }
  state.ownClaims.add(key);
  state.foreignClaimSeen.delete(key);
  return tookOverFrom ? { claimed: true, tookOverFrom } : { claimed: true };
}

export async function releaseClaim(client: ImapFlow, state: ClaimState, key: string, uid: number, keyword: string): Promise<void> {
  if (!state.ownClaims.has(key)) return;
  await client.messageFlagsRemove(String(uid), [keyword], { uid: true });
  state.ownClaims.delete(key);
}

interface StoreResult {
  applied: boolean;
  gone: boolean;
  flags?: Set<string>;
  modseq?: bigint;
}

/**
 * A conditional STORE. imapflow answers true either way, so the outcome is read from the wire:
 * the tagged `[MODIFIED]` code means another session changed the message since `modseq`; the
 * untagged FETCH carries the flags and MODSEQ after our change. No FETCH means the message is
 * gone (expunged by another session) — confirmed with a FETCH of our own.
 */
async function conditionalStore(client: ImapFlow, uid: number, op: 'add' | 'remove', flags: string[], modseq: bigint): Promise<StoreResult> {
  let modified = false;
  let seen: { flags: Set<string>; modseq?: bigint } | undefined;
  const onResponse = (response: { code?: string }) => {
    if (response.code?.toUpperCase() === 'MODIFIED') modified = true;
  };
  const onFlags = (update: { uid?: number; flags?: Set<string>; modseq?: bigint }) => {
    if (update.uid === uid && update.flags) seen = { flags: update.flags, ...(update.modseq !== undefined ? { modseq: update.modseq } : {}) };
  };
  client.on('response', onResponse);
  client.on('flags', onFlags);
  let ok: boolean;
  try {
    const options = { uid: true, unchangedSince: modseq };
    ok = op === 'add' ? await client.messageFlagsAdd(String(uid), flags, options) : await client.messageFlagsRemove(String(uid), flags, options);
  } finally {
    client.off('response', onResponse);
    client.off('flags', onFlags);
  }
  if (!ok || modified) return { applied: false, gone: false };
  if (!seen || seen.modseq === undefined) {
    const row = await client.fetchOne(String(uid), { uid: true, flags: true }, { uid: true });
    if (!row) return { applied: false, gone: true };
    seen = { flags: row.flags ?? new Set(), ...(row.modseq !== undefined ? { modseq: row.modseq } : {}) };
  }
  const hasAll = flags.every((flag) => seen!.flags.has(flag));
  const applied = op === 'add' ? hasAll : flags.every((flag) => !seen!.flags.has(flag));
  return { applied, gone: false, flags: seen.flags, ...(seen.modseq !== undefined ? { modseq: seen.modseq } : {}) };
}

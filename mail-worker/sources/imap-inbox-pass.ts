/**
 * One pass over the INBOX: every message, oldest first, is claimed, fetched, handed to the
 * handler, and moved to Processed or Failed only after the handler resolved (its outcome is then
 * recorded). Everything is by UID, so expunges by another session never shift what we act on.
 *
 * Two workers on one mailbox: a message is first CLAIMED (imap-claim.ts: a per-worker keyword
 * set by a conditional STORE, which only one session can win); the loser skips it. A message
 * that vanishes (another worker moved it) counts as handled there. The handler's dedupe by
 * Message-ID is the second line of defence for what slips through (a server without CONDSTORE,
 * or a stale claim taken over while its owner was merely slow).
 *
 * Crash and cut safety: the outcome of a handled message is remembered until its MOVE succeeds,
 * so a connection lost between "handled" and "moved" ends in a move on the next pass, not in a
 * second call to the handler.
 */
import type { FetchMessageObject, ImapFlow } from 'imapflow';
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import type { AttemptCounter, AttemptKey } from './attempt-counter.ts';
import { claimMessage, releaseClaim, type ClaimState } from './imap-claim.ts';
import { describeError, type HandledOutcome, type MessageHandler, type RefusalReporter, type RefusedMessage, type SourceLog } from './message-handler.ts';

/** Messages whose metadata is fetched per round trip (keeps memory flat for a big INBOX). */
const METADATA_BATCH = 100;

export interface InboxPassConfig {
  mailbox: string;
  processedFolder: string;
  failedFolder: string;
  maxMessageBytes: number;
  maxAttempts: number;
  retryDelayMs: number;
  claimStaleMs: number;
  /** Claim messages with a conditional STORE before handling them (needs CONDSTORE). */
  claims: boolean;
  /** This worker's claim keyword (`$TwofoldClaim_<workerId>`). */
  claimKeyword: string;
  handler: MessageHandler;
  attempts: AttemptCounter;
  onRefused: RefusalReporter | undefined;
  log: SourceLog;
  now: () => Date;
}

/** What a worker remembers across passes and reconnects (one per source). */
export interface InboxMemory extends ClaimState {
  /** Handled (outcome recorded) but not yet moved: key → destination folder. */
  pendingMoves: Map<string, string>;
  /** Moved with the copy confirmed (COPYUID), until the message is seen gone from the mailbox. */
  moved: Map<string, string>;
  /** Not before this time (a failed attempt waits retryDelayMs). */
  retryAt: Map<string, number>;
  handled: number;
  failedAttempts: number;
}

export function newInboxMemory(): InboxMemory {
  return { pendingMoves: new Map(), moved: new Map(), ownClaims: new Set(), foreignClaimSeen: new Map(), retryAt: new Map(), handled: 0, failedAttempts: 0 };
}

/** The connection is gone: the pass stops and the source reconnects. */
export class ImapConnectionLost extends Error {
  readonly code: ErrorCode = 'MAIL_IMAP_CONNECTION_LOST';
}

type MessageRow = FetchMessageObject;

/**
 * Runs one pass. Returns in how many ms something needs another look (a retry or a stale claim),
 * or undefined when nothing is waiting. `shouldStop` is checked between messages.
 */
export async function runInboxPass(client: ImapFlow, config: InboxPassConfig, memory: InboxMemory, shouldStop: () => boolean): Promise<number | undefined> {
  const box = client.mailbox;
  if (!box) throw new ImapConnectionLost(`${config.mailbox} is not open`);
  const uidValidity = String(box.uidValidity);
  const uids = box.exists === 0 ? [] : ((await client.search({ all: true }, { uid: true })) || []);
  ensureUsable(client);
  uids.sort((a, b) => a - b);
  forgetVanished(memory, uidValidity, new Set(uids));

  let nextWake: number | undefined;
  const wakeIn = (ms: number | undefined) => {
    if (ms !== undefined) nextWake = nextWake === undefined ? ms : Math.min(nextWake, ms);
  };
  for (let i = 0; i < uids.length && !shouldStop(); i += METADATA_BATCH) {
    const batch = uids.slice(i, i + METADATA_BATCH);
    // MODSEQ comes with every FETCH once CONDSTORE is enabled (imapflow enables it).
    const rows = await client.fetchAll(batch.join(','), { uid: true, flags: true, size: true, envelope: true, internalDate: true }, { uid: true });
    ensureUsable(client);
    rows.sort((a, b) => a.uid - b.uid);
    for (const row of rows) {
      if (shouldStop()) break;
      wakeIn(await passOne(client, config, memory, uidValidity, row));
    }
  }
  return nextWake;
}

async function passOne(client: ImapFlow, config: InboxPassConfig, memory: InboxMemory, uidValidity: string, row: MessageRow): Promise<number | undefined> {
  const key = `${uidValidity}/${row.uid}`;
  try {
    return await processMessage(client, config, memory, uidValidity, key, row);
  } catch (err) {
    if (!client.usable || err instanceof ImapConnectionLost) throw err instanceof ImapConnectionLost ? err : new ImapConnectionLost(describeError(err), { cause: err });
    // An IMAP command refused for this message only: count it like a handler failure, so a
    // message the server cannot serve ends in Failed too instead of blocking forever.
    const attemptKey = attemptKeyOf(config, uidValidity, row);
    const attempts = await config.attempts.fail(attemptKey, describeError(err));
    memory.failedAttempts++;
    memory.retryAt.set(key, Date.now() + config.retryDelayMs);
    config.log({ event: 'imap.message_error', code: 'MAIL_HANDLER_FAILED', uid: row.uid, messageId: row.envelope?.messageId, attempts, error: describeError(err) });
    return config.retryDelayMs;
  }
}

async function processMessage(
  client: ImapFlow,
  config: InboxPassConfig,
  memory: InboxMemory,
  uidValidity: string,
  key: string,
  row: MessageRow,
): Promise<number | undefined> {
  if (row.flags?.has('\\Deleted')) return undefined; // on its way out already
  const info = describeRow(row);

  const movedTo = memory.moved.get(key);
  if (movedTo) {
    // The server confirmed the copy, yet the original is still here: a MOVE that copied without
    // expunging. Handling or moving it again would make a second copy; remove the leftover.
    config.log({ event: 'imap.move_incomplete', code: 'MAIL_IMAP_MOVE_FAILED', uid: row.uid, folder: movedTo, ...info });
    await client.messageDelete(String(row.uid), { uid: true });
    ensureUsable(client);
    return undefined;
  }

  const pendingFolder = memory.pendingMoves.get(key);
  if (pendingFolder) return moveOut(client, config, memory, uidValidity, key, row, pendingFolder);

  const due = memory.retryAt.get(key);
  if (due !== undefined && due > Date.now()) return due - Date.now();

  // Without CONDSTORE (or with claims off) the handler's dedupe is the only guard.
  if (config.claims && row.modseq !== undefined && client.enabled.has('CONDSTORE')) {
    const claim = await claimMessage(client, memory, { key, uid: row.uid, modseq: row.modseq, flags: row.flags, keyword: config.claimKeyword, claimStaleMs: config.claimStaleMs });
    ensureUsable(client);
    if (!claim.claimed) {
      config.log({ event: claim.why === 'gone' ? 'imap.gone' : 'imap.claimed_elsewhere', stage: 'claim', uid: row.uid, why: claim.why, ...info });
      if (claim.why === 'gone') forget(memory, key);
      return claim.why === 'gone' ? undefined : claim.retryInMs;
    }
    if (claim.tookOverFrom) config.log({ event: 'imap.claim_taken_over', uid: row.uid, from: claim.tookOverFrom, ...info });
  }

  if ((row.size ?? 0) > config.maxMessageBytes) {
    return refuse(client, config, memory, uidValidity, key, row, { code: 'MAIL_MESSAGE_TOO_LARGE', size: row.size, limit: config.maxMessageBytes });
  }
  const attemptKey = attemptKeyOf(config, uidValidity, row);
  const failedSoFar = await config.attempts.get(attemptKey);
  if (failedSoFar >= config.maxAttempts) {
    return refuse(client, config, memory, uidValidity, key, row, { code: 'MAIL_MESSAGE_POISON', attempts: failedSoFar });
  }

  // The size cap again on the wire: a server whose RFC822.SIZE is wrong still sends no more.
  const full = await client.fetchOne(String(row.uid), { uid: true, source: { start: 0, maxLength: config.maxMessageBytes + 1 } }, { uid: true });
  ensureUsable(client);
  if (!full || !full.source) {
    config.log({ event: 'imap.gone', stage: 'fetch', uid: row.uid, ...info });
    forget(memory, key);
    return undefined;
  }
  if (full.source.length > config.maxMessageBytes) {
    return refuse(client, config, memory, uidValidity, key, row, { code: 'MAIL_MESSAGE_TOO_LARGE', size: full.source.length, limit: config.maxMessageBytes });
  }

  const started = Date.now();
  let outcome: HandledOutcome;
  try {
    outcome = await config.handler(full.source, { source: 'imap', receivedAt: row.internalDate instanceof Date ? row.internalDate : config.now() });
  } catch (err) {
    const attempts = await config.attempts.fail(attemptKey, describeError(err));
    memory.failedAttempts++;
    config.log({ event: 'imap.handler_failed', code: 'MAIL_HANDLER_FAILED', uid: row.uid, ...info, attempts, maxAttempts: config.maxAttempts, error: describeError(err) });
    if (attempts >= config.maxAttempts) {
      return refuse(client, config, memory, uidValidity, key, row, { code: 'MAIL_MESSAGE_POISON', attempts, lastError: describeError(err) });
    }
    memory.retryAt.set(key, Date.now() + config.retryDelayMs);
    await releaseClaim(client, memory, key, row.uid, config.claimKeyword);
    ensureUsable(client);
    return config.retryDelayMs;
  }

  const folder = outcome.disposition === 'failed' ? config.failedFolder : config.processedFolder;
  memory.pendingMoves.set(key, folder);
  memory.handled++;
  config.log({ event: 'imap.handled', uid: row.uid, ...info, disposition: outcome.disposition, reason: outcome.reason, folder, ms: Date.now() - started });
  return moveOut(client, config, memory, uidValidity, key, row, folder);
}

async function refuse(
  client: ImapFlow,
  config: InboxPassConfig,
  memory: InboxMemory,
  uidValidity: string,
  key: string,
  row: MessageRow,
  details: Pick<RefusedMessage, 'code' | 'size' | 'limit' | 'attempts' | 'lastError'>,
): Promise<number | undefined> {
  const info = describeRow(row);
  config.log({ event: 'imap.refused', uid: row.uid, ...info, ...details, folder: config.failedFolder });
  try {
    await config.onRefused?.({
      source: 'imap',
      receivedAt: row.internalDate instanceof Date ? row.internalDate : config.now(),
      ...info,
      ...(row.size !== undefined ? { size: row.size } : {}),
      ...stripUndefined(details),
      code: details.code,
    });
  } catch (err) {
    config.log({ event: 'imap.refusal_report_failed', code: details.code, uid: row.uid, error: describeError(err) });
  }
  memory.pendingMoves.set(key, config.failedFolder);
  return moveOut(client, config, memory, uidValidity, key, row, config.failedFolder);
}

async function moveOut(
  client: ImapFlow,
  config: InboxPassConfig,
  memory: InboxMemory,
  uidValidity: string,
  key: string,
  row: MessageRow,
  folder: string,
): Promise<number | undefined> {
  const result = await client.messageMove(String(row.uid), folder, { uid: true });
  ensureUsable(client);
  if (!result) {
    const still = await client.fetchOne(String(row.uid), { uid: true }, { uid: true });
    ensureUsable(client);
    if (still) {
      config.log({ event: 'imap.move_failed', code: 'MAIL_IMAP_MOVE_FAILED', uid: row.uid, folder, messageId: row.envelope?.messageId });
      memory.retryAt.set(key, Date.now() + config.retryDelayMs);
      return config.retryDelayMs; // the outcome stays in pendingMoves; the next pass moves it
    }
  }
  if (!result || (result.uidMap && !result.uidMap.has(row.uid))) {
    config.log({ event: 'imap.gone', stage: 'move', uid: row.uid, folder, messageId: row.envelope?.messageId });
  } else {
    config.log({ event: 'imap.moved', uid: row.uid, folder, messageId: row.envelope?.messageId, newUid: result.uidMap?.get(row.uid) });
  }
  forget(memory, key);
  if (result && result.uidMap?.has(row.uid)) memory.moved.set(key, folder);
  await config.attempts.clear(attemptKeyOf(config, uidValidity, row));
  return undefined;
}

function forget(memory: InboxMemory, key: string): void {
  memory.pendingMoves.delete(key);
  memory.ownClaims.delete(key);
  memory.foreignClaimSeen.delete(key);
  memory.retryAt.delete(key);
}

/** Drop what we remember about messages that left the mailbox (moved by us or another worker). */
function forgetVanished(memory: InboxMemory, uidValidity: string, present: Set<number>): void {
  const stale = (key: string) => {
    const [validity, uid] = key.split('/');
    return validity !== uidValidity || !present.has(Number(uid));
  };
  for (const map of [memory.pendingMoves, memory.moved, memory.foreignClaimSeen, memory.retryAt]) {
    for (const key of [...map.keys()]) if (stale(key)) map.delete(key);
  }
  for (const key of [...memory.ownClaims]) if (stale(key)) memory.ownClaims.delete(key);
}

function attemptKeyOf(config: InboxPassConfig, uidValidity: string, row: MessageRow): AttemptKey {
  return { mailbox: config.mailbox, uidValidity, uid: row.uid, ...(row.envelope?.messageId ? { messageId: row.envelope.messageId } : {}) };
}

function describeRow(row: MessageRow): { messageId?: string; from?: string; subject?: string } {
  const from = row.envelope?.from?.[0]?.address;
  return {
    ...(row.envelope?.messageId ? { messageId: row.envelope.messageId } : {}),
    ...(from ? { from } : {}),
    ...(row.envelope?.subject ? { subject: row.envelope.subject } : {}),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function ensureUsable(client: ImapFlow): void {
  if (!client.usable) throw new ImapConnectionLost('the IMAP connection closed');
}

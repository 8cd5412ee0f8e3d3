/**
 * The production inbound source: an IMAP mailbox watched with IDLE (imapflow).
 *
 *   connect → create Processed/Failed if missing → open INBOX → pass over everything in it,
 *   oldest first (imap-inbox-pass.ts) → IDLE until something arrives → pass → IDLE …
 *
 * Staying connected is this module's job:
 *   - RECONNECT with exponential backoff and jitter (1 s … 60 s) after any failure or drop;
 *   - a WATCHDOG during IDLE: when the server has sent nothing for `idleSilenceMs` (Dovecot says
 *     "* OK Still here" every 2 minutes), the IDLE is broken and a NOOP must come back within
 *     `probeTimeoutMs`, else the connection is dropped and rebuilt. A NAT or proxy that
 *     silently stops forwarding cannot leave the worker deaf;
 *   - IDLE is re-issued every `idleRenewMs` (RFC 2177: servers may drop an IDLE after 30 min),
 *     and every wake from IDLE is verified the same way.
 */
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { claimKeyword } from './imap-claim.ts';
import { describeError, DEFAULT_MAX_MESSAGE_BYTES, type MessageHandler, type RefusalReporter, type SourceLog } from './message-handler.ts';
import { memoryAttemptCounter, type AttemptCounter } from './attempt-counter.ts';
import { ImapConnectionLost, newInboxMemory, runInboxPass, type InboxPassConfig } from './imap-inbox-pass.ts';
import { backoffDelay, RECONNECT_INITIAL_MS, RECONNECT_JITTER, RECONNECT_MAX_MS } from './reconnect-backoff.ts';
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import { isTwofoldError, TwofoldError } from '../../site/core/errors/problem.ts';

/** Probe the connection after this much silence during IDLE (above Dovecot's 2-minute keepalive). */
export const IDLE_SILENCE_MS = 5 * 60_000;
/** A probe (NOOP after breaking IDLE) must answer within this, or the connection is dead. */
export const PROBE_TIMEOUT_MS = 30_000;
/** Re-issue IDLE this often; RFC 2177 lets servers end an IDLE after 29 minutes. */
export const IDLE_RENEW_MS = 25 * 60_000;
export const CONNECT_TIMEOUT_MS = 30_000;
/** A command that gets no answer for this long fails the connection (imapflow socketTimeout). */
export const COMMAND_TIMEOUT_MS = 2 * 60_000;
/** Handler failures before a message goes to the Failed folder. */
export const MAX_ATTEMPTS = 5;
/** Wait before trying a message again after its handler failed. */
export const RETRY_DELAY_MS = 60_000;
/** Someone else's claim older than this belongs to a dead worker and is taken over. */
export const CLAIM_STALE_MS = 10 * 60_000;
/** How often the IDLE watchdog looks at the byte counter. */
const WATCHDOG_TICK_MAX_MS = 1_000;

export interface ImapTimings {
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  reconnectJitter: number;
  idleSilenceMs: number;
  probeTimeoutMs: number;
  idleRenewMs: number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export const DEFAULT_IMAP_TIMINGS: ImapTimings = {
  reconnectInitialMs: RECONNECT_INITIAL_MS,
  reconnectMaxMs: RECONNECT_MAX_MS,
  reconnectJitter: RECONNECT_JITTER,
  idleSilenceMs: IDLE_SILENCE_MS,
  probeTimeoutMs: PROBE_TIMEOUT_MS,
  idleRenewMs: IDLE_RENEW_MS,
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
  commandTimeoutMs: COMMAND_TIMEOUT_MS,
};

export interface ImapSourceOptions {
  host: string;
  port: number;
  /** Implicit TLS; default true on port 993. Otherwise STARTTLS is used when offered. */
  secure?: boolean;
  user: string;
  pass: string;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  handler: MessageHandler;
  /** Default INBOX. */
  mailbox?: string;
  /** Default `Processed`; created when missing. */
  processedFolder?: string;
  /** Default `Failed`; created when missing. */
  failedFolder?: string;
  /** Default 25 MB; larger messages are refused by RFC822.SIZE before their body is fetched. */
  maxMessageBytes?: number;
  /** Handler failures before a message is moved to Failed (default 5). */
  maxAttempts?: number;
  /** Default 60 s. */
  retryDelayMs?: number;
  /** Default 10 min. */
  claimStaleMs?: number;
  /**
   * Claim each message with a conditional STORE before handling it, so two workers on one
   * mailbox never both handle it (default true; needs CONDSTORE, which Dovecot, Cyrus, Gmail
   * and Fastmail have). Without claims the handler's dedupe is the only guard.
   */
  claims?: boolean;
  /**
   * Names this worker's claim keyword (`$TwofoldClaim_<workerId>`); 1–32 letters, digits or
   * dashes. Default: random per start. Give each worker process its own STABLE id (the worker
   * keeps one in its local store): a restarted worker then resumes its own claims at once, and
   * the mailbox does not collect one keyword per start. Two processes must never share an id.
   */
  workerId?: string;
  /** Where failed attempts are counted (default: in memory; the worker passes its journal). */
  attempts?: AttemptCounter;
  timings?: Partial<ImapTimings>;
  log?: SourceLog;
  onRefused?: RefusalReporter;
  now?: () => Date;
}

export interface ImapSourceStatus {
  running: boolean;
  connected: boolean;
  idling: boolean;
  mailbox: string;
  /** Last time the server sent anything or a message was handled. */
  lastActivityAt?: string;
  lastError?: { code: ErrorCode; message: string; at: string };
  connects: number;
  handled: number;
  failedAttempts: number;
}

export interface ImapSource {
  /** Starts the loop in the background; resolves at once (see status() and the log). */
  start(): void;
  /** Lets the message in hand finish and move, logs out, and resolves when the loop ended. */
  stop(): Promise<void>;
  status(): ImapSourceStatus;
}

class IdleStalled extends Error {
  readonly code: ErrorCode = 'MAIL_IMAP_IDLE_STALLED';
}

export function createImapSource(options: ImapSourceOptions): ImapSource {
  const timings: ImapTimings = { ...DEFAULT_IMAP_TIMINGS, ...options.timings };
  const log: SourceLog = options.log ?? (() => {});
  const now = options.now ?? (() => new Date());
  const mailbox = options.mailbox ?? 'INBOX';
  const config: InboxPassConfig = {
    mailbox,
    processedFolder: options.processedFolder ?? 'Processed',
    failedFolder: options.failedFolder ?? 'Failed',
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    maxAttempts: options.maxAttempts ?? MAX_ATTEMPTS,
    retryDelayMs: options.retryDelayMs ?? RETRY_DELAY_MS,
    claimStaleMs: options.claimStaleMs ?? CLAIM_STALE_MS,
    claims: options.claims ?? true,
    claimKeyword: claimKeyword(options.workerId ?? randomBytes(4).toString('hex')),
    handler: options.handler,
    attempts: options.attempts ?? memoryAttemptCounter(),
    onRefused: options.onRefused,
    log,
    now,
  };
  const memory = newInboxMemory();

  let running = false;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let connected = false;
  let idling = false;
  let connects = 0;
  let lastActivity: Date | undefined;
  let lastError: ImapSourceStatus['lastError'];
  /** Wakes whatever the loop is waiting on (IDLE or a backoff sleep) when stop() is called. */
  let wake: (() => void) | undefined;

  const touch = () => {
    lastActivity = now();
  };

  function newClient(): ImapFlow {
    const secure = options.secure ?? options.port === 993;
    const imap = new ImapFlow({
      host: options.host,
      port: options.port,
      secure,
      auth: { user: options.user, pass: options.pass },
      logger: false,
      disableAutoIdle: true, // IDLE is started and watched here
      connectionTimeout: timings.connectTimeoutMs,
      greetingTimeout: timings.connectTimeoutMs,
      socketTimeout: timings.commandTimeoutMs,
      clientInfo: { name: 'Twofold mail worker' },
      tls: { rejectUnauthorized: options.rejectUnauthorized ?? true },
    });
    imap.on('error', (err: Error) => {
      // Every error also fails the awaiting command or ends the session; recorded, not thrown.
      lastError = { code: 'MAIL_IMAP_CONNECTION_LOST', message: describeError(err), at: now().toISOString() };
    });
    return imap;
  }

  async function ensureFolder(imap: ImapFlow, folder: string): Promise<void> {
    try {
      const created = await imap.mailboxCreate(folder);
      if (created?.created) log({ event: 'imap.folder_created', folder });
    } catch (err) {
      if (!imap.usable) throw err;
      throw new TwofoldError('MAIL_IMAP_FOLDER_FAILED', `Cannot create the IMAP folder "${folder}": ${describeError(err)}`, { cause: err });
    }
  }

  /** Break IDLE and prove the server still answers. */
  async function probe(imap: ImapFlow): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const noop = imap.noop();
    noop.catch(() => {}); // after a timeout the close() below rejects it
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timings.probeTimeoutMs);
    });
    try {
      const result = await Promise.race([noop.then(() => 'ok' as const), timeout]);
      if (result === 'timeout') throw new IdleStalled(`no answer to NOOP within ${timings.probeTimeoutMs} ms`);
      if (!imap.usable) throw new ImapConnectionLost('the IMAP connection closed');
      touch();
    } finally {
      clearTimeout(timer);
    }
  }

  /** IDLE until new mail, a timer, silence, a drop or stop(). */
  function idleUntilChange(imap: ImapFlow, wakeInMs: number | undefined, isDirty: () => boolean): Promise<'exists' | 'timer' | 'renew' | 'silent' | 'stop'> {
    if (!imap.usable) return Promise.reject(new ImapConnectionLost('the IMAP connection closed'));
    if (stopping) return Promise.resolve('stop');
    if (isDirty()) return Promise.resolve('exists');
    return new Promise((resolve, reject) => {
      let lastReceived = imap.stats().received;
      let lastHeard = Date.now();
      const timers: NodeJS.Timeout[] = [];
      const finish = (settle: () => void) => {
        for (const t of timers) clearTimeout(t);
        clearInterval(watchdog);
        imap.off('exists', onExists);
        imap.off('close', onClose);
        wake = undefined;
        idling = false;
        settle();
      };
      const onExists = () => finish(() => resolve('exists'));
      const onClose = () => finish(() => reject(new ImapConnectionLost('the server closed the connection')));
      wake = () => finish(() => resolve('stop'));
      timers.push(setTimeout(() => finish(() => resolve('renew')), timings.idleRenewMs));
      if (wakeInMs !== undefined) timers.push(setTimeout(() => finish(() => resolve('timer')), Math.max(0, wakeInMs)));
      const watchdog = setInterval(
        () => {
          const received = imap.stats().received;
          if (received !== lastReceived) {
            lastReceived = received;
            lastHeard = Date.now();
            touch();
          } else if (Date.now() - lastHeard >= timings.idleSilenceMs) {
            finish(() => resolve('silent'));
          }
        },
        Math.min(WATCHDOG_TICK_MAX_MS, Math.max(10, Math.floor(timings.idleSilenceMs / 4))),
      );
      imap.on('exists', onExists);
      imap.once('close', onClose);
      idling = true;
      log({ event: 'imap.idle', mailbox });
      // Resolves when the IDLE ends (the next command breaks it); failures surface through
      // 'close' or the probe that follows every wake.
      imap.idle().catch(() => {});
    });
  }

  async function session(imap: ImapFlow): Promise<void> {
    let dirty = true;
    const onExists = () => {
      dirty = true;
    };
    imap.on('exists', onExists);
    try {
      /** When a retry or a claim check is due (absolute ms), if anything waits. */
      let wakeAt: number | undefined;
      while (!stopping) {
        if (dirty) {
          dirty = false;
          const wakeInMs = await runInboxPass(imap, config, memory, () => stopping);
          wakeAt = wakeInMs === undefined ? undefined : Date.now() + wakeInMs;
          touch();
          continue; // mail that arrived during the pass is picked up before idling
        }
        const reason = await idleUntilChange(imap, wakeAt === undefined ? undefined : wakeAt - Date.now(), () => dirty);
        if (reason === 'stop') break;
        if (reason === 'silent') log({ event: 'imap.idle_silent', silentMs: timings.idleSilenceMs });
        await probe(imap);
        if (reason === 'exists' || reason === 'timer') dirty = true;
      }
    } finally {
      imap.off('exists', onExists);
    }
  }

  async function closeClient(imap: ImapFlow, graceful: boolean): Promise<void> {
    if (graceful && imap.usable) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timings.probeTimeoutMs);
      });
      await Promise.race([imap.logout().catch(() => {}), timeout]);
      clearTimeout(timer);
    }
    imap.close();
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      const imap = newClient();
      try {
        log({ event: 'imap.connecting', host: options.host, port: options.port, user: options.user, attempt: failures + 1 });
        await imap.connect();
        await ensureFolder(imap, config.processedFolder);
        await ensureFolder(imap, config.failedFolder);
        const box = await imap.mailboxOpen(mailbox);
        connected = true;
        connects++;
        failures = 0; // a session got as far as an open mailbox: the next drop starts over at 1 s
        touch();
        log({ event: 'imap.connected', host: options.host, port: options.port, mailbox, exists: box.exists, claims: imap.enabled.has('CONDSTORE') });
        await session(imap);
      } catch (err) {
        if (stopping) break;
        const code = errorCode(err);
        lastError = { code, message: describeError(err), at: now().toISOString() };
        failures++;
        const retryInMs = backoffDelay(failures, { initialMs: timings.reconnectInitialMs, maxMs: timings.reconnectMaxMs, jitter: timings.reconnectJitter });
        log({ event: code === 'MAIL_IMAP_IDLE_STALLED' ? 'imap.idle_stalled' : 'imap.connection_lost', code, error: describeError(err), failures, retryInMs });
        connected = false;
        idling = false;
        await closeClient(imap, false);
        await sleep(retryInMs);
        continue;
      }
      connected = false;
      idling = false;
      await closeClient(imap, true);
    }
    log({ event: 'imap.stopped', handled: memory.handled, failedAttempts: memory.failedAttempts });
  }

  return {
    start() {
      if (running) return;
      running = true;
      stopping = false;
      loop = run().finally(() => {
        running = false;
      });
    },
    async stop() {
      if (!loop) return;
      stopping = true;
      wake?.();
      await loop;
      loop = undefined;
    },
    status() {
      return {
        running,
        connected,
        idling,
        mailbox,
        ...(lastActivity ? { lastActivityAt: lastActivity.toISOString() } : {}),
        ...(lastError ? { lastError } : {}),
        connects,
        handled: memory.handled,
        failedAttempts: memory.failedAttempts,
      };
    },
  };

  function errorCode(err: unknown): ErrorCode {
    if ((err as { authenticationFailed?: boolean })?.authenticationFailed) return 'MAIL_IMAP_AUTH_FAILED';
    if (err instanceof IdleStalled || err instanceof ImapConnectionLost) return err.code;
    if (isTwofoldError(err)) return err.code;
    return 'MAIL_IMAP_CONNECTION_LOST';
  }
}

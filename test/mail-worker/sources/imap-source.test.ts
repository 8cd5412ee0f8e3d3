/**
 * The IMAP source against a real Dovecot, with fault injection through a TCP proxy: dropped
 * connections mid-fetch and mid-move, a server restart, a silently stalled IDLE, and two workers
 * on one mailbox. The handler here records every call, like the worker's processor records
 * outcomes in its journal; "exactly once" below means the handler was asked once per message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_PREFIX } from '../../../mail-worker/sources/imap-claim.ts';
import { createImapSource, type ImapSource, type ImapSourceOptions, type ImapTimings } from '../../../mail-worker/sources/imap-source.ts';
import type { HandledOutcome, MessageMeta, RefusedMessage, SourceEvent } from '../../../mail-worker/sources/message-handler.ts';
import { startDovecot, type Dovecot } from '../../helpers/dovecot.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import { testMessage } from '../../helpers/test-messages.ts';
import { waitUntil } from '../../helpers/wait-until.ts';

const PASSWORD = 'imap-source-test';
const USERS = ['order', 'timing', 'failing', 'poison', 'large', 'cutfetch', 'cutmove', 'stall', 'renew', 'two', 'twonoclaim', 'stale', 'ownclaim', 'stopping', 'badauth'];

/** Fast enough for tests, same logic as production. */
const FAST: Partial<ImapTimings> = {
  reconnectInitialMs: 100,
  reconnectMaxMs: 1_000,
  probeTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 10_000,
};

interface Call {
  messageId: string;
  meta: MessageMeta;
  at: number;
  size: number;
}

/**
 * A handler that records calls and dedupes by Message-ID, as the worker's journal does: the
 * check-and-mark is atomic (synchronous), a failure un-marks the message so it can be retried.
 */
function recordingHandler(behaviour: (messageId: string, call: number) => Promise<HandledOutcome | void> | HandledOutcome | void = () => {}) {
  const calls: Call[] = [];
  const claimed = new Set<string>();
  const done = new Set<string>();
  const applied = new Map<string, number>();
  const running = new Set<string>();
  let concurrentSameMessage = 0;
  const handler = async (raw: Buffer, meta: MessageMeta): Promise<HandledOutcome> => {
    const messageId = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(raw.toString('latin1'))?.[1] ?? '(none)';
    calls.push({ messageId, meta, at: Date.now(), size: raw.length });
    if (running.has(messageId)) concurrentSameMessage++;
    if (claimed.has(messageId)) return { disposition: 'processed', reason: 'duplicate' };
    claimed.add(messageId);
    running.add(messageId);
    try {
      const outcome = (await behaviour(messageId, calls.filter((c) => c.messageId === messageId).length)) ?? { disposition: 'processed', reason: 'applied' };
      applied.set(messageId, (applied.get(messageId) ?? 0) + 1);
      done.add(messageId);
      return outcome;
    } catch (err) {
      claimed.delete(messageId);
      throw err;
    } finally {
      running.delete(messageId);
    }
  };
  const callsFor = (messageId: string) => calls.filter((c) => c.messageId === messageId).length;
  return { handler, calls, done, applied, callsFor, concurrent: () => concurrentSameMessage };
}

/** On failure: what each worker logged about the messages that were doubled or handled twice. */
function diagnose(processed: (string | undefined)[], all: string[], callsFor: (id: string) => number, events: Record<string, SourceEvent[]>): string {
  const seen = new Map<string, number>();
  for (const id of processed) seen.set(id ?? '', (seen.get(id ?? '') ?? 0) + 1);
  const suspects = new Set([...[...seen].filter(([, n]) => n > 1).map(([id]) => id), ...all.filter((id) => callsFor(id) !== 1)]);
  const lines = Object.entries(events).flatMap(([worker, list]) =>
    list.filter((e) => suspects.has(e.messageId as string) || e.code !== undefined).map((e) => `${worker} ${JSON.stringify(e)}`),
  );
  return `suspects: ${[...suspects].join(', ')}\n${lines.slice(0, 60).join('\n')}`;
}

describe('the IMAP source', () => {
  let dovecot: Dovecot;
  const sources: ImapSource[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot({ users: USERS.map((user) => ({ user, password: PASSWORD })) });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  function source(user: string, options: Partial<ImapSourceOptions> & Pick<ImapSourceOptions, 'handler'>, via?: TcpProxy) {
    const events: SourceEvent[] = [];
    const refused: RefusedMessage[] = [];
    const src = createImapSource({
      host: via?.host ?? dovecot.host,
      port: via?.port ?? dovecot.port,
      user,
      pass: PASSWORD,
      retryDelayMs: 200,
      claimStaleMs: 5_000,
      onRefused: (r) => {
        refused.push(r);
      },
      log: (e) => events.push(e),
      ...options,
      timings: { ...FAST, ...options.timings },
    });
    sources.push(src);
    return { src, events, refused, eventsNamed: (name: string) => events.filter((e) => e.event === name) };
  }

  async function proxy(): Promise<TcpProxy> {
    const p = await startTcpProxy({ host: dovecot.host, port: dovecot.port });
    proxies.push(p);
    return p;
  }

  async function deliverMany(user: string, count: number, options: { minBytes?: number; prefix?: string } = {}) {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const message = testMessage({ subject: `${options.prefix ?? user} ${i}`, ...(options.minBytes ? { minBytes: options.minBytes } : {}) });
      await dovecot.deliver(user, message.raw);
      ids.push(message.messageId);
    }
    return ids;
  }

  const ids = async (user: string, folder: string) => (await dovecot.list(user, folder)).map((m) => m.messageId);

  it('processes what is already in the INBOX oldest first, then new mail through IDLE within seconds', async () => {
    const existing = await deliverMany('order', 3);
    const rec = recordingHandler();
    const { src } = source('order', { handler: rec.handler });
    src.start();
    await waitUntil(() => rec.done.size === 3, 'the three existing messages');
    expect(rec.calls.map((c) => c.messageId)).toEqual(existing);
    expect(rec.calls.every((c) => c.meta.source === 'imap' && c.meta.receivedAt instanceof Date)).toBe(true);

    await waitUntil(() => src.status().idling, 'IDLE');
    const fresh = testMessage({ subject: 'arrives while idling' });
    const deliveredAt = Date.now();
    await dovecot.deliver('order', fresh.raw, { via: 'lda' });
    await waitUntil(() => rec.done.has(fresh.messageId), 'the new message', 5_000);
    const latency = rec.calls.at(-1)!.at - deliveredAt;
    expect(latency).toBeLessThan(3_000);

    await waitUntil(async () => (await ids('order', 'Processed')).length === 4, 'four messages in Processed');
    expect(await ids('order', 'INBOX')).toEqual([]);
    expect(await ids('order', 'Processed')).toEqual([...existing, fresh.messageId]);
    expect(src.status()).toMatchObject({ running: true, connected: true, mailbox: 'INBOX', handled: 4 });
  });

  it.each([
    { name: 'processed', disposition: 'processed' as const, folder: 'Processed' },
    { name: 'failed (kept for the CSM)', disposition: 'failed' as const, folder: 'Failed' },
  ])('moves a $name message to $folder only after the handler resolved', async ({ disposition, folder }) => {
    const user = 'timing';
    const message = testMessage({ subject: `timing ${disposition}` });
    await dovecot.deliver(user, message.raw);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const seenDuringHandler: { inbox: string[]; target: string[] }[] = [];
    const rec = recordingHandler(async () => {
      seenDuringHandler.push({ inbox: (await ids(user, 'INBOX')) as string[], target: (await ids(user, folder)) as string[] });
      await released;
      return { disposition, reason: 'test' };
    });
    const { src } = source(user, { handler: rec.handler });
    src.start();
    await waitUntil(() => seenDuringHandler.length === 1, 'the handler call');
    // The handler has not resolved: the message must still be in the INBOX, from any session.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await ids(user, 'INBOX')).toContain(message.messageId);
    expect(await ids(user, folder)).not.toContain(message.messageId);
    expect(seenDuringHandler[0]!.inbox).toContain(message.messageId);
    expect(seenDuringHandler[0]!.target).not.toContain(message.messageId);
    release();
    await waitUntil(async () => (await ids(user, folder)).includes(message.messageId), `the message in ${folder}`);
    expect(await ids(user, 'INBOX')).not.toContain(message.messageId);
    expect(rec.callsFor(message.messageId)).toBe(1);
  });

  it('leaves a message whose handler throws in the INBOX and retries it until it succeeds', async () => {
    const user = 'failing';
    const [flaky] = await deliverMany(user, 1);
    const inboxAfterFailure: (string | undefined)[][] = [];
    const rec = recordingHandler(async (_id, call) => {
      if (call <= 2) {
        setTimeout(() => void ids(user, 'INBOX').then((list) => inboxAfterFailure.push(list)), 50);
        throw new Error(`disk full (attempt ${call})`);
      }
    });
    const { src, eventsNamed } = source(user, { handler: rec.handler, maxAttempts: 5 });
    src.start();
    await waitUntil(async () => (await ids(user, 'Processed')).includes(flaky), 'the message in Processed after retries');
    expect(rec.callsFor(flaky!)).toBe(3);
    expect(inboxAfterFailure[0]).toContain(flaky);
    expect(eventsNamed('imap.handler_failed')).toHaveLength(2);
    expect(eventsNamed('imap.handler_failed')[0]).toMatchObject({ code: 'MAIL_HANDLER_FAILED', attempts: 1, maxAttempts: 5 });
    expect(await ids(user, 'Failed')).toEqual([]);
  });

  it('moves a poison message to Failed after N attempts and keeps processing the others', async () => {
    const user = 'poison';
    const [poison, healthy] = await deliverMany(user, 2);
    const rec = recordingHandler((id) => {
      if (id === poison) throw new Error('handler crashes on this message');
    });
    const { src, refused } = source(user, { handler: rec.handler, maxAttempts: 3 });
    src.start();
    await waitUntil(async () => (await ids(user, 'Failed')).includes(poison), 'the poison message in Failed');
    expect(rec.callsFor(poison!)).toBe(3);
    expect(rec.callsFor(healthy!)).toBe(1);
    expect(await ids(user, 'Processed')).toEqual([healthy]);
    expect(await ids(user, 'INBOX')).toEqual([]);
    expect(refused).toEqual([expect.objectContaining({ source: 'imap', code: 'MAIL_MESSAGE_POISON', attempts: 3, messageId: poison, lastError: 'handler crashes on this message' })]);
    // It stays there: no further calls once it left the INBOX.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(rec.callsFor(poison!)).toBe(3);
  });

  it('refuses a message over the size limit by RFC822.SIZE, without downloading its body', async () => {
    const user = 'large';
    const big = testMessage({ subject: 'huge attachment', minBytes: 3_000_000 });
    const small = testMessage({ subject: 'small reply' });
    await dovecot.deliver(user, big.raw);
    await dovecot.deliver(user, small.raw);
    const via = await proxy();
    const rec = recordingHandler();
    const { src, refused, eventsNamed } = source(user, { handler: rec.handler, maxMessageBytes: 1_000_000 }, via);
    src.start();
    await waitUntil(async () => (await ids(user, 'Failed')).includes(big.messageId), 'the large message in Failed');
    await waitUntil(() => rec.done.has(small.messageId), 'the small message');
    expect(rec.callsFor(big.messageId)).toBe(0);
    expect(refused).toEqual([expect.objectContaining({ code: 'MAIL_MESSAGE_TOO_LARGE', size: big.raw.length, limit: 1_000_000, messageId: big.messageId })]);
    expect(eventsNamed('imap.refused')[0]).toMatchObject({ code: 'MAIL_MESSAGE_TOO_LARGE' });
    // Refused early: far less than the 3 MB body crossed the wire.
    expect(via.bytesToClient).toBeLessThan(200_000);
  });

  describe('faults', () => {
    it.each([
      { name: 'mid-fetch (the connection drops while a large message downloads)', user: 'cutfetch', when: 'fetch' as const },
      { name: 'after the handler resolved, before the move', user: 'cutmove', when: 'move' as const },
    ])('survives a dropped connection $name: everything handled exactly once', async ({ user, when }) => {
      const delivered = await deliverMany(user, 5, { minBytes: 300_000 });
      const via = await proxy();
      let cutDone = false;
      const rec = recordingHandler(async (id) => {
        if (when === 'move' && id === delivered[1] && !cutDone) {
          cutDone = true;
          via.cutAll(); // the outcome is recorded, the move has not happened
        }
      });
      if (when === 'fetch') {
        // Cut once about one and a half messages have crossed: inside the second FETCH.
        void via.cutAfterBytes(450_000).then(() => (cutDone = true));
      }
      const { src, eventsNamed } = source(user, { handler: rec.handler }, via);
      src.start();
      await waitUntil(async () => (await ids(user, 'Processed')).length === 5, 'five messages in Processed', 20_000);
      expect(cutDone).toBe(true);
      expect(eventsNamed('imap.connection_lost').length).toBeGreaterThanOrEqual(1);
      expect(eventsNamed('imap.connection_lost')[0]).toMatchObject({ code: 'MAIL_IMAP_CONNECTION_LOST' });
      expect(via.acceptedConnections).toBeGreaterThanOrEqual(2);
      for (const id of delivered) expect(rec.callsFor(id), `handler calls for ${id}`).toBe(1);
      expect(await ids(user, 'Processed')).toEqual(delivered);
      expect(await ids(user, 'INBOX')).toEqual([]);
      expect(rec.calls.every((c) => c.size >= 300_000)).toBe(true); // never a truncated message
    });

    it('reconnects after Dovecot restarts while the source idles and picks up mail delivered after the restart', async () => {
      const own = await startDovecot({ users: [{ user: 'restart', password: PASSWORD }] });
      try {
        const rec = recordingHandler();
        const events: SourceEvent[] = [];
        const src = createImapSource({ host: own.host, port: own.port, user: 'restart', pass: PASSWORD, handler: rec.handler, timings: FAST, log: (e) => events.push(e) });
        sources.push(src);
        src.start();
        await waitUntil(() => src.status().idling, 'IDLE before the restart');
        await own.restart();
        const message = testMessage({ subject: 'after the restart' });
        await own.deliver('restart', message.raw);
        await waitUntil(() => rec.done.has(message.messageId), 'the message delivered after the restart', 15_000);
        await waitUntil(async () => (await own.list('restart', 'Processed')).length === 1, 'the message in Processed');
        expect(events.some((e) => e.event === 'imap.connection_lost')).toBe(true);
        expect(src.status().connects).toBeGreaterThanOrEqual(2);
        await src.stop();
      } finally {
        await own.stop();
      }
    });

    it('recovers from a stalled IDLE (the network stops forwarding) through its watchdog', async () => {
      const user = 'stall';
      const via = await proxy();
      const rec = recordingHandler();
      const { src, eventsNamed } = source(user, { handler: rec.handler, timings: { idleSilenceMs: 1_000, probeTimeoutMs: 1_000 } }, via);
      src.start();
      await waitUntil(() => src.status().idling, 'IDLE');
      expect(via.stallExisting()).toBe(1);
      const message = testMessage({ subject: 'sent while the connection is stalled' });
      await dovecot.deliver(user, message.raw);
      await waitUntil(() => rec.done.has(message.messageId), 'the message after the watchdog reconnected', 10_000);
      expect(eventsNamed('imap.idle_stalled')[0]).toMatchObject({ code: 'MAIL_IMAP_IDLE_STALLED' });
      expect(via.acceptedConnections).toBe(2);
    });

    it('re-issues IDLE periodically and keeps receiving', async () => {
      const user = 'renew';
      const rec = recordingHandler();
      const { src, eventsNamed } = source(user, { handler: rec.handler, timings: { idleRenewMs: 300 } });
      src.start();
      await waitUntil(() => eventsNamed('imap.idle').length >= 4, 'IDLE re-issued several times', 5_000);
      expect(src.status().connects).toBe(1); // renewed in place, not by reconnecting
      const message = testMessage({ subject: 'after renewals' });
      await dovecot.deliver(user, message.raw);
      await waitUntil(() => rec.done.has(message.messageId), 'the message', 5_000);
    });
  });

  it('lets two sources share one mailbox: 100 messages, each handled once, none moved twice or lost', async () => {
    const user = 'two';
    const before = await deliverMany(user, 60, { prefix: 'before' });
    const rec = recordingHandler(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // work takes time, widening races
    });
    const a = source(user, { handler: rec.handler });
    const b = source(user, { handler: rec.handler });
    a.src.start();
    b.src.start();
    const during = await deliverMany(user, 40, { prefix: 'during' });
    const all = [...before, ...during];
    await waitUntil(async () => (await ids(user, 'Processed')).length >= 100, '100 messages in Processed', 40_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // anything doubled would show up now
    const processed = await ids(user, 'Processed');
    expect(processed, diagnose(processed, all, rec.callsFor, { A: a.events, B: b.events })).toHaveLength(100);
    expect(new Set(processed)).toEqual(new Set(all)); // none lost, none moved twice
    expect(await ids(user, 'INBOX')).toEqual([]);
    expect(await ids(user, 'Failed')).toEqual([]);
    for (const id of all) expect(rec.callsFor(id), `handler calls for ${id}`).toBe(1);
    for (const id of all) expect(rec.applied.get(id), `applied count for ${id}`).toBe(1);
    expect(rec.concurrent()).toBe(0);
    expect(a.src.status().handled + b.src.status().handled).toBe(100);
  });

  // Servers without CONDSTORE cannot claim. Dovecot's MOVE is copy-then-expunge, so two sessions
  // moving the same message at once can both copy it: that is why claims are on by default.
  it('without claims (no CONDSTORE), loses nothing and applies each message once; Processed may hold copies', async () => {
    const user = 'twonoclaim';
    const all = await deliverMany(user, 40);
    const rec = recordingHandler(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    const a = source(user, { handler: rec.handler, claims: false });
    const b = source(user, { handler: rec.handler, claims: false });
    a.src.start();
    b.src.start();
    await waitUntil(async () => (await ids(user, 'Processed')).length >= 40, '40 messages in Processed', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const processed = await ids(user, 'Processed');
    expect(processed.length).toBeGreaterThanOrEqual(40);
    expect(new Set(processed)).toEqual(new Set(all));
    expect(await ids(user, 'INBOX')).toEqual([]);
    for (const id of all) expect(rec.applied.get(id), `applied count for ${id}`).toBe(1);
    expect(a.eventsNamed('imap.claimed_elsewhere').length + b.eventsNamed('imap.claimed_elsewhere').length).toBe(0);
  });

  it("takes over a claim whose worker died, after claimStaleMs", async () => {
    const user = 'stale';
    const message = testMessage({ subject: 'claimed by a crashed worker' });
    await dovecot.deliver(user, message.raw, { flags: [`${CLAIM_PREFIX}deadbeef`] });
    const rec = recordingHandler();
    const { src, eventsNamed } = source(user, { handler: rec.handler, claimStaleMs: 600 });
    const started = Date.now();
    src.start();
    await waitUntil(() => rec.done.has(message.messageId), 'the stale-claimed message', 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(eventsNamed('imap.claim_taken_over')).toHaveLength(1);
    await waitUntil(async () => (await ids(user, 'Processed')).includes(message.messageId), 'the message in Processed');
  });

  it('resumes its own claim at once after a restart (same workerId)', async () => {
    const user = 'ownclaim';
    const message = testMessage({ subject: 'claimed by this worker before it crashed' });
    await dovecot.deliver(user, message.raw, { flags: [`${CLAIM_PREFIX}worker-1`] });
    const rec = recordingHandler();
    const { src, eventsNamed } = source(user, { handler: rec.handler, workerId: 'worker-1', claimStaleMs: 60_000 });
    src.start();
    await waitUntil(() => rec.done.has(message.messageId), 'the message claimed by our earlier life', 5_000);
    expect(eventsNamed('imap.claim_taken_over')).toHaveLength(0);
  });

  it('stop() lets the message in hand finish and move before it logs out', async () => {
    const user = 'stopping';
    const [first, second] = await deliverMany(user, 2);
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const rec = recordingHandler(async () => {
      entered();
      await new Promise((resolve) => setTimeout(resolve, 400));
    });
    const { src, eventsNamed } = source(user, { handler: rec.handler });
    src.start();
    await inHandler;
    await src.stop();
    expect(rec.done.has(first!)).toBe(true);
    expect(rec.callsFor(second!)).toBe(0);
    expect(await ids(user, 'Processed')).toEqual([first]);
    expect(await ids(user, 'INBOX')).toEqual([second]);
    expect(src.status()).toMatchObject({ running: false, connected: false });
    expect(eventsNamed('imap.stopped')).toHaveLength(1);
  });

  it('reports a refused login with its code and keeps retrying with growing delays', async () => {
    const rec = recordingHandler();
    const { src, eventsNamed } = source('badauth', { handler: rec.handler, pass: 'wrong password', timings: { reconnectInitialMs: 100, reconnectMaxMs: 400, reconnectJitter: 0 } });
    src.start();
    await waitUntil(() => eventsNamed('imap.connection_lost').length >= 3, 'three failed logins', 10_000);
    const lost = eventsNamed('imap.connection_lost');
    expect(lost[0]).toMatchObject({ code: 'MAIL_IMAP_AUTH_FAILED', retryInMs: 100 });
    expect(lost.slice(0, 3).map((e) => e.retryInMs)).toEqual([100, 200, 400]);
    expect(src.status().lastError?.code).toBe('MAIL_IMAP_AUTH_FAILED');
    expect(src.status().connected).toBe(false);
  });
});

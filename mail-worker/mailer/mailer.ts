/**
 * The one way Twofold sends mail. Every message is composed once and spooled to disk before any
 * delivery attempt, so nothing is lost when SMTP is down:
 *
 *   no SMTP configured  → `<outbox>/<stamp>-<tag>.eml` (the outbox of the embedded default)
 *   SMTP configured     → `<outbox>/queue/…eml` + `.json`, delivered with retries and backoff,
 *                          then moved to `<outbox>/sent/`
 *
 * The Message-ID is set by the caller and stable, and the spool knows every Message-ID it holds:
 * sending the same message twice (a worker recovering from a crash re-answers a reply) spools
 * it once. A crash between "accepted by SMTP" and "moved to sent" can still deliver it twice,
 * with the same Message-ID, which mail clients show once.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';
import { composeEml, envelopeRecipients, envelopeSender, type OutgoingMessage } from './compose-eml.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  secure?: boolean;
  user?: string;
  pass?: string;
}

export interface MailerOptions {
  outboxDir: string;
  /** Deliver over SMTP; without it, messages stay in the outbox as `.eml` files. */
  smtp?: SmtpSettings;
  log?: (event: Record<string, unknown>) => void;
  /** Retry delays in ms (default 1 s doubling to 5 min). */
  backoff?: { initialMs: number; maxMs: number };
}

export interface SentMail {
  messageId: string;
  /** Where the message is on disk now. */
  file: string;
  delivered: boolean;
}

export interface Mailer {
  send(message: OutgoingMessage, tag?: string): Promise<SentMail>;
  /** Deliver everything still queued (called at start and by the retry timer). */
  flush(): Promise<{ delivered: number; pending: number }>;
  close(): Promise<void>;
}

const DEFAULT_BACKOFF = { initialMs: 1_000, maxMs: 5 * 60_000 };
const SMTP_TIMEOUT_MS = 15_000;

export function createMailer(options: MailerOptions): Mailer {
  const log = options.log ?? (() => {});
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const queueDir = path.join(options.outboxDir, 'queue');
  const sentDir = path.join(options.outboxDir, 'sent');
  const transport = options.smtp
    ? nodemailer.createTransport({
        host: options.smtp.host,
        port: options.smtp.port,
        secure: options.smtp.secure ?? false,
        ...(options.smtp.user ? { auth: { user: options.smtp.user, pass: options.smtp.pass ?? '' } } : {}),
        connectionTimeout: SMTP_TIMEOUT_MS,
        greetingTimeout: SMTP_TIMEOUT_MS,
        socketTimeout: SMTP_TIMEOUT_MS,
        tls: { rejectUnauthorized: false },
      })
    : undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = backoff.initialMs;
  let flushing: Promise<{ delivered: number; pending: number }> | undefined;

  /**
   * Spooled files being handed to SMTP right now. A send() delivers its message at once while a
   * retry flush may be walking the queue: the file must go to SMTP once, not once per path.
   */
  const inFlight = new Set<string>();

  /** True when the file is delivered (or another delivery of it is under way); false to retry. */
  async function deliver(file: string): Promise<boolean> {
    if (inFlight.has(file)) return true; // that delivery reschedules itself if it fails
    inFlight.add(file);
    try {
      let meta: { from: string; to: string[]; messageId: string };
      let raw: Buffer;
      try {
        meta = JSON.parse(await readFile(`${file}.json`, 'utf8')) as typeof meta;
        raw = await readFile(file);
      } catch (err: any) {
        if (err?.code === 'ENOENT') return true; // delivered and moved to sent/ since the queue was listed
        throw err;
      }
      try {
        await transport!.sendMail({ envelope: { from: meta.from, to: meta.to }, raw });
      } catch (err: any) {
        log({ event: 'mail.deferred', messageId: meta.messageId, error: String(err?.code ?? err?.message ?? err) });
        return false;
      }
      await mkdir(sentDir, { recursive: true });
      await rename(file, path.join(sentDir, path.basename(file)));
      await rm(`${file}.json`, { force: true });
      log({ event: 'mail.sent', messageId: meta.messageId, to: meta.to });
      return true;
    } finally {
      inFlight.delete(file);
    }
  }

  function scheduleRetry(): void {
    if (retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void flush();
    }, delay);
    retryTimer.unref?.();
    delay = Math.min(delay * 2, backoff.maxMs);
  }

  /** Set when flush() is asked for while one runs: files queued since its listing need another pass. */
  let again = false;

  function flush(): Promise<{ delivered: number; pending: number }> {
    if (!transport) return Promise.resolve({ delivered: 0, pending: 0 });
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      let delivered = 0;
      let pending = 0;
      do {
        again = false;
        const pass = await flushPass();
        delivered += pass.delivered;
        pending = pass.pending;
      } while (again && pending === 0);
      if (pending > 0) scheduleRetry();
      else delay = backoff.initialMs;
      return { delivered, pending };
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  /** One walk over the queue, oldest first, stopping at the first refusal (the server is down). */
  async function flushPass(): Promise<{ delivered: number; pending: number }> {
    let delivered = 0;
    let names: string[] = [];
    try {
      names = (await readdir(queueDir)).filter((n) => n.endsWith('.eml')).sort();
    } catch {
      names = [];
    }
    for (const name of names) {
      // A spool file that cannot be read is retried like a refused delivery, never thrown
      // out of a timer (an unhandled rejection would end the worker).
      const ok = await deliver(path.join(queueDir, name)).catch((err) => {
        log({ event: 'mail.deferred', code: 'MAIL_SMTP_CONNECT_FAILED', file: name, error: String(err?.code ?? err?.message ?? err) });
        return false;
      });
      if (!ok) return { delivered, pending: names.length - delivered }; // keep order, retry later
      delivered++;
    }
    return { delivered, pending: 0 };
  }

  let known: Promise<Map<string, string>> | undefined;
  /** Message-ID digest → spooled file, from the file names (`…-<digest>.eml`). */
  function spooled(): Promise<Map<string, string>> {
    known ??= (async () => {
      const map = new Map<string, string>();
      for (const dir of [options.outboxDir, queueDir, sentDir]) {
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const n of names) {
          const m = /-([0-9a-f]{20})\.eml$/.exec(n);
          if (m) map.set(m[1]!, path.join(dir, n));
        }
      }
      return map;
    })();
    return known;
  }

  return {
    async send(message, tag = 'mail') {
      const id = idDigest(message.messageId);
      const index = await spooled();
      const existing = index.get(id);
      if (existing) {
        log({ event: 'mail.already-spooled', messageId: message.messageId, file: existing });
        return { messageId: message.messageId, file: existing, delivered: existing.startsWith(sentDir) };
      }
      const eml = await composeEml(message);
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${safeTag(tag)}-${id}.eml`;
      index.set(id, path.join(transport ? queueDir : options.outboxDir, name));
      if (!transport) {
        const file = path.join(options.outboxDir, name);
        await writeFileAtomic(file, eml);
        log({ event: 'mail.outbox', messageId: message.messageId, file });
        return { messageId: message.messageId, file, delivered: false };
      }
      const file = path.join(queueDir, name);
      await mkdir(queueDir, { recursive: true });
      await writeFile(`${file}.json`, JSON.stringify({ from: envelopeSender(message), to: envelopeRecipients(message), messageId: message.messageId }));
      await writeFileAtomic(file, eml);
      // While a flush walks the queue, it takes this file on another pass; else deliver it now.
      const delivered = flushing ? (void flush(), false) : await deliver(file);
      if (!delivered) scheduleRetry();
      return { messageId: message.messageId, file: delivered ? path.join(sentDir, name) : file, delivered };
    },
    flush,
    async close() {
      if (retryTimer) clearTimeout(retryTimer);
      await flushing;
      transport?.close();
    },
  };
}

function safeTag(tag: string): string {
  return tag.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 40) || 'mail';
}

function idDigest(messageId: string): string {
  return createHash('sha256').update(messageId.trim().toLowerCase()).digest('hex').slice(0, 20);
}

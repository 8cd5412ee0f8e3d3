/**
 * The embedded SMTP inbox: the local default of `npm start`, and the target for an MTA that
 * forwards reply mail (Postfix `relay_transport`, a catch-all forward). It accepts mail only for
 * the configured reply domains and acknowledges a message only once the handler has recorded
 * its outcome:
 *
 *   RCPT outside the reply domains      → 550 (MAIL_RECIPIENT_UNKNOWN)
 *   MAIL FROM SIZE= over the limit      → 552 before the body is sent
 *   body over the limit                 → 552 after DATA (nothing handed to the handler)
 *   handler resolved                    → 250 (processed, or kept as failed for the CSM)
 *   handler threw                       → 451: the sender keeps the message and retries
 *
 * A crash before the 250 makes the sender retry (at-least-once); the handler dedupes.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, describeError, type MessageHandler, type RefusalReporter, type SourceLog } from './message-handler.ts';

export const SMTP_DEFAULT_HOST = '127.0.0.1';
export const SMTP_DEFAULT_PORT = 2525;
/** Concurrent SMTP sessions; an MTA opens a few, a local demo one. */
export const SMTP_MAX_CLIENTS = 50;
/** Replies go to one address; anything with many recipients is not a reply. */
const SMTP_MAX_RECIPIENTS = 20;
/** An idle client is dropped after this (RFC 5321 suggests minutes, MTAs reconnect cheaply). */
const SMTP_SOCKET_TIMEOUT_MS = 60_000;
/** On stop(), open sessions get this long to finish before they are cut. */
const SMTP_CLOSE_TIMEOUT_MS = 10_000;

export interface SmtpSourceOptions {
  handler: MessageHandler;
  /** Domains whose addresses are accepted as recipients (the reply domain(s)); required. */
  replyDomains: string[];
  /** Default 127.0.0.1. Listening beyond loopback without `auth` makes an MX-like inbox: only reply domains are accepted. */
  host?: string;
  /** Default 2525; 0 picks a free port (see `address()` after start). */
  port?: number;
  /** Announced with SIZE and enforced; default 25 MB. */
  maxMessageBytes?: number;
  /** Require AUTH PLAIN/LOGIN with these credentials (default: no auth). */
  auth?: { user: string; pass: string };
  /** Host name in the greeting; default `twofold.localhost`. */
  name?: string;
  log?: SourceLog;
  onRefused?: RefusalReporter;
  now?: () => Date;
}

export interface SmtpSourceStatus {
  listening: boolean;
  host: string;
  port: number;
  accepted: number;
  refused: number;
  tempFailed: number;
  lastActivityAt?: string;
}

export interface SmtpSource {
  start(): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
  status(): SmtpSourceStatus;
}

type SmtpError = Error & { responseCode?: number };

function smtpError(responseCode: number, message: string): SmtpError {
  const err: SmtpError = new Error(message);
  err.responseCode = responseCode;
  return err;
}

export function createSmtpSource(options: SmtpSourceOptions): SmtpSource {
  const log: SourceLog = options.log ?? (() => {});
  const now = options.now ?? (() => new Date());
  const host = options.host ?? SMTP_DEFAULT_HOST;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const domains = new Set(options.replyDomains.map(normalizeDomain));
  if (domains.size === 0) throw new TwofoldError('MAIL_RECIPIENT_UNKNOWN', 'The SMTP source needs at least one reply domain to accept mail for');
  const counters = { accepted: 0, refused: 0, tempFailed: 0 };
  let lastActivityAt: Date | undefined;
  let port = options.port ?? SMTP_DEFAULT_PORT;
  let listening = false;

  const server = new SMTPServer({
    name: options.name ?? 'twofold.localhost',
    banner: 'Twofold reply inbox',
    size: maxBytes,
    rejectOversized: true,
    authOptional: !options.auth,
    // No STARTTLS: the listener is loopback by default, and a forwarding MTA on the same host or
    // network needs none. AUTH is only offered when credentials are configured.
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    maxClients: SMTP_MAX_CLIENTS,
    maxRecipients: SMTP_MAX_RECIPIENTS,
    socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
    closeTimeout: SMTP_CLOSE_TIMEOUT_MS,
    logger: false,

    onAuth(auth, session, callback) {
      const expected = options.auth;
      if (expected && auth.method !== 'XOAUTH2' && safeEqual(auth.username ?? '', expected.user) && safeEqual(auth.password ?? '', expected.pass)) {
        callback(null, { user: expected.user });
        return;
      }
      counters.refused++;
      log({ event: 'smtp.auth_failed', code: 'MAIL_SMTP_AUTH_FAILED', session: session.id, remote: session.remoteAddress });
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },

    onRcptTo(address, session, callback) {
      const domain = normalizeDomain(address.address.slice(address.address.lastIndexOf('@') + 1));
      if (!address.address.includes('@') || !domains.has(domain)) {
        counters.refused++;
        log({ event: 'smtp.refused', code: 'MAIL_RECIPIENT_UNKNOWN', session: session.id, to: address.address });
        callback(smtpError(550, `5.1.1 <${address.address}>: recipient not accepted here`));
        return;
      }
      callback();
    },

    onData(stream, session, callback) {
      void receive(stream, session).then(
        (message) => callback(null, message),
        (err: SmtpError) => callback(err),
      );
    },
  });

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const receivedAt = now();
    lastActivityAt = receivedAt;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size <= maxBytes) chunks.push(chunk as Buffer); // over the limit: drain, keep nothing
    }
    const envelope = {
      ...(session.envelope.mailFrom ? { from: session.envelope.mailFrom.address } : {}),
      to: session.envelope.rcptTo.map((r) => r.address),
    };
    if (stream.sizeExceeded || size > maxBytes) {
      counters.refused++;
      log({ event: 'smtp.refused', code: 'MAIL_MESSAGE_TOO_LARGE', session: session.id, size, limit: maxBytes, ...envelope });
      await reportRefusal({ source: 'smtp', code: 'MAIL_MESSAGE_TOO_LARGE', receivedAt, size, limit: maxBytes, ...(envelope.from ? { from: envelope.from } : {}) });
      throw smtpError(552, `5.3.4 Message exceeds fixed maximum message size ${maxBytes}`);
    }
    const raw = Buffer.concat(chunks);
    const started = Date.now();
    try {
      const outcome = await options.handler(raw, { source: 'smtp', receivedAt, envelope });
      counters.accepted++;
      log({ event: 'smtp.handled', session: session.id, size, ...envelope, disposition: outcome.disposition, reason: outcome.reason, ms: Date.now() - started });
      return `2.0.0 OK ${outcome.disposition}${outcome.reason ? ` ${outcome.reason}` : ''}`;
    } catch (err) {
      counters.tempFailed++;
      log({ event: 'smtp.handler_failed', code: 'MAIL_HANDLER_FAILED', session: session.id, size, ...envelope, error: describeError(err) });
      throw smtpError(451, '4.3.0 Temporary failure processing the message, try again later');
    }
  }

  async function reportRefusal(refused: Parameters<RefusalReporter>[0]): Promise<void> {
    try {
      await options.onRefused?.(refused);
    } catch (err) {
      log({ event: 'smtp.refusal_report_failed', code: 'MAIL_HANDLER_FAILED', error: describeError(err) });
    }
  }

  server.on('error', (err) => log({ event: 'smtp.error', error: describeError(err) }));

  return {
    start() {
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          reject(
            new TwofoldError('MAIL_SMTP_LISTEN_FAILED', `The embedded SMTP server cannot listen on ${host}:${port}: ${err.code ?? err.message}`, {
              cause: err,
            }),
          );
        };
        server.server.once('error', onError);
        server.listen(port, host, () => {
          server.server.off('error', onError);
          port = (server.server.address() as AddressInfo).port;
          listening = true;
          log({ event: 'smtp.listening', host, port, maxMessageBytes: maxBytes, auth: Boolean(options.auth), replyDomains: [...domains] });
          resolve({ host, port });
        });
      });
    },
    stop() {
      if (!listening) return Promise.resolve();
      listening = false;
      return new Promise<void>((resolve) => server.close(() => resolve())).then(() => log({ event: 'smtp.stopped', ...counters }));
    },
    status() {
      return {
        listening,
        host,
        port,
        ...counters,
        ...(lastActivityAt ? { lastActivityAt: lastActivityAt.toISOString() } : {}),
      };
    },
  };
}

function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/** Credentials compared in constant time (hashes first, so lengths do not leak either). */
function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

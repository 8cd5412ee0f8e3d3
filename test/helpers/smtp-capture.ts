/**
 * A real SMTP server (smtp-server) on a free loopback port that captures every message Twofold
 * sends: raw bytes, the mailparser view and the SMTP envelope. Any AUTH is accepted, so a mailer
 * configured with credentials works too. For fault tests, `setDown(...)` makes it look broken:
 *
 *   setDown(true)        — every new connection gets `421` and is closed (server down)
 *   setDown('tempfail')  — connections are accepted, MAIL FROM gets `451` (temporary failure)
 *   setDown(false)       — back to normal
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CapturedMessage {
  raw: Buffer;
  parsed: ParsedMail;
  envelope: { from: string | undefined; to: string[] };
  receivedAt: Date;
}

export interface SmtpCapture {
  host: string;
  port: number;
  /** Every message accepted so far, in order. */
  readonly messages: CapturedMessage[];
  /** Connections refused or transactions failed while down. */
  readonly refusals: number;
  waitFor(predicate: (message: CapturedMessage) => boolean, timeoutMs?: number): Promise<CapturedMessage>;
  /** Wait until `count` messages match (default all messages). */
  waitForCount(count: number, predicate?: (message: CapturedMessage) => boolean, timeoutMs?: number): Promise<CapturedMessage[]>;
  clear(): void;
  setDown(down: boolean | 'tempfail'): void;
  stop(): Promise<void>;
}

const DEFAULT_WAIT_MS = 10_000;

type SmtpError = Error & { responseCode?: number };

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMessage[] = [];
  const waiters = new Set<() => void>();
  let down: boolean | 'tempfail' = false;
  let refusals = 0;

  const fail = (code: number, text: string): SmtpError => Object.assign(new Error(text), { responseCode: code });

  const server = new SMTPServer({
    name: 'capture.twofold.test',
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'capture' });
    },
    onConnect(_session, callback) {
      if (down === true) {
        refusals++;
        callback(fail(421, '4.3.2 Service not available, closing transmission channel'));
        return;
      }
      callback();
    },
    onMailFrom(_address, _session, callback) {
      if (down === 'tempfail') {
        refusals++;
        callback(fail(451, '4.3.0 Temporary local problem, try again later'));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            messages.push({
              raw,
              parsed,
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              receivedAt: new Date(),
            });
            for (const wake of [...waiters]) wake();
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  server.on('error', () => {}); // client resets during fault tests are expected

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  const waitForCount = (count: number, predicate: (m: CapturedMessage) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS) =>
    new Promise<CapturedMessage[]>((resolve, reject) => {
      const check = () => {
        const matching = messages.filter(predicate);
        if (matching.length < count) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(matching);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`SMTP capture: ${messages.filter(predicate).length} of ${count} expected messages after ${timeoutMs} ms (${messages.length} captured in all)`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    host: '127.0.0.1',
    port,
    messages,
    get refusals() {
      return refusals;
    },
    async waitFor(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      const matching = await waitForCount(1, predicate, timeoutMs);
      return matching[0]!;
    },
    waitForCount,
    clear() {
      messages.length = 0;
    },
    setDown(value) {
      down = value;
    },
    stop() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

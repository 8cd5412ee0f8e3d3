/**
 * The contract between the three inbound sources (IMAP, embedded SMTP, file/stdin) and the
 * processor that the worker plugs in. A source only transports: it hands over the raw message
 * and acts on the outcome (move to Processed/Failed, 250/451, exit code). Everything about what
 * the message means — dedupe, classify, authenticate, apply — is the handler's.
 *
 * The handler must record its outcome (journal) BEFORE it resolves: a source acknowledges the
 * message (IMAP move, SMTP 250) only after that, so a crash in between means the message comes
 * again (at-least-once delivery) and the handler's dedupe turns it into a no-op.
 */
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';

export type MessageSourceKind = 'imap' | 'smtp' | 'file';

export interface MessageMeta {
  source: MessageSourceKind;
  /** When the source received it (IMAP: the server's INTERNALDATE; SMTP/file: the clock). */
  receivedAt: Date;
  /** The SMTP envelope, when the message came over SMTP. */
  envelope?: { from?: string; to: string[] };
}

export interface HandledOutcome {
  /**
   * `processed`: applied, ignored, rejected or a duplicate — done with, outcome recorded.
   * `failed`: could not be processed; kept for the CSM (IMAP: moved to the Failed folder).
   */
  disposition: 'processed' | 'failed';
  /** A reason code for logs (for example `applied`, `duplicate`, `auto_reply`). */
  reason?: string;
}

/** Resolves once the outcome is recorded; throws when the message should be tried again later. */
export type MessageHandler = (raw: Buffer, meta: MessageMeta) => Promise<HandledOutcome>;

/**
 * A message a source refused without handing it to the handler (too large, or failed too many
 * times). The worker tells the CSM; the message itself is kept (IMAP Failed folder) or bounced
 * by the sending MTA (SMTP 552).
 */
export interface RefusedMessage {
  source: MessageSourceKind;
  code: Extract<ErrorCode, 'MAIL_MESSAGE_TOO_LARGE' | 'MAIL_MESSAGE_POISON'>;
  receivedAt: Date;
  size?: number;
  limit?: number;
  attempts?: number;
  messageId?: string;
  from?: string;
  subject?: string;
  /** The last handler error, for a poison message. */
  lastError?: string;
}

export type RefusalReporter = (refused: RefusedMessage) => Promise<void> | void;

/** One structured event per line in the worker log (`{"event":"imap.connected",...}`). */
export interface SourceEvent {
  event: string;
  /** A catalog code on every failure or refusal. */
  code?: ErrorCode;
  [field: string]: unknown;
}

export type SourceLog = (event: SourceEvent) => void;

/**
 * 25 MB: common MTA limits, and room for the 10 MB attachment of a real reply (base64 adds a
 * third). Larger messages are refused before their body is read.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

/** Writes each event as one JSON line (the worker passes its stdout). */
export function jsonLineLog(write: (line: string) => void, now: () => Date = () => new Date()): SourceLog {
  return (event) => write(`${JSON.stringify({ ts: now().toISOString(), ...event })}\n`);
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

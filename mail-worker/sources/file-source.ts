/**
 * One message from a file or standard input, for `twofold mail ingest [file|-]` — the way an MTA
 * pipe transport (Postfix `pipe`, procmail, .forward `|command`) hands mail over. The size cap
 * is checked before reading a file and while reading stdin, so a huge input is refused early.
 *
 * Exit codes follow sysexits.h, which MTAs understand: 0 done, 65 refused for good (bounce),
 * 66 no input, 75 temporary failure (the MTA keeps the message and retries).
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { isTwofoldError, TwofoldError } from '../../site/core/errors/problem.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, type HandledOutcome, type MessageHandler, type RefusalReporter } from './message-handler.ts';

export interface IngestOptions {
  /** Default 25 MB (DEFAULT_MAX_MESSAGE_BYTES). */
  maxBytes?: number;
  /** Read for `-`; default process.stdin (the CLI is the only caller that has one). */
  stdin?: Readable;
  now?: () => Date;
  onRefused?: RefusalReporter;
}

export const INGEST_EXIT = { ok: 0, refused: 65, noInput: 66, tempFail: 75 } as const;

export async function ingestFile(pathOrDash: string, handler: MessageHandler, options: IngestOptions = {}): Promise<HandledOutcome> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const receivedAt = (options.now ?? (() => new Date()))();
  const what = pathOrDash === '-' ? 'standard input' : pathOrDash;
  let raw: Buffer;
  try {
    raw = pathOrDash === '-' ? await readCapped(options.stdin ?? process.stdin, maxBytes) : await readFileCapped(pathOrDash, maxBytes);
  } catch (err) {
    if (err instanceof TooLarge) {
      await options.onRefused?.({ source: 'file', code: 'MAIL_MESSAGE_TOO_LARGE', receivedAt, size: err.size, limit: maxBytes });
      throw new TwofoldError('MAIL_MESSAGE_TOO_LARGE', `${what}: the message is larger than ${maxBytes} bytes (${err.size} bytes or more); it was not processed`);
    }
    throw new TwofoldError('MAIL_INGEST_UNREADABLE', `${what}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((err as Error).message ?? err)}`, { cause: err });
  }
  if (raw.length === 0 || raw.toString('latin1').trim() === '') {
    throw new TwofoldError('MAIL_INGEST_EMPTY', `${what}: the message is empty`);
  }
  return handler(raw, { source: 'file', receivedAt });
}

/** The exit code for an MTA pipe: what `twofold mail ingest` returns after ingestFile(). */
export function ingestExitCode(result: HandledOutcome | unknown): number {
  if (isOutcome(result)) return INGEST_EXIT.ok; // failed messages are kept for the CSM: done for the MTA
  if (isTwofoldError(result)) {
    if (result.code === 'MAIL_MESSAGE_TOO_LARGE' || result.code === 'MAIL_INGEST_EMPTY') return INGEST_EXIT.refused;
    if (result.code === 'MAIL_INGEST_UNREADABLE') return INGEST_EXIT.noInput;
  }
  return INGEST_EXIT.tempFail;
}

function isOutcome(value: unknown): value is HandledOutcome {
  return typeof value === 'object' && value !== null && 'disposition' in value;
}

class TooLarge extends Error {
  constructor(readonly size: number) {
    super('too large');
  }
}

async function readFileCapped(file: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (isFile && size > maxBytes) throw new TooLarge(size);
    // A FIFO or device reports no size: read it like stdin.
    return await readCapped(handle.createReadStream({ autoClose: false }), maxBytes);
  } finally {
    await handle.close();
  }
}

async function readCapped(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new TooLarge(total);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

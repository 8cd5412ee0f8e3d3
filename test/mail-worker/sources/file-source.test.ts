import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestExitCode, ingestFile, INGEST_EXIT } from '../../../mail-worker/sources/file-source.ts';
import type { MessageHandler, MessageMeta } from '../../../mail-worker/sources/message-handler.ts';
import { TwofoldError } from '../../../site/core/errors/problem.ts';
import { testMessage } from '../../helpers/test-messages.ts';

describe('ingestFile (twofold mail ingest)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-ingest-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function recorder() {
    const calls: { raw: Buffer; meta: MessageMeta }[] = [];
    const handler: MessageHandler = async (raw, meta) => {
      calls.push({ raw, meta });
      return { disposition: 'processed', reason: 'applied' };
    };
    return { calls, handler };
  }

  it('reads a message file and hands it over unchanged', async () => {
    const message = testMessage({ body: 'blocked: waiting on IT\r\n' });
    const file = path.join(dir, 'reply.eml');
    await writeFile(file, message.raw);
    const { calls, handler } = recorder();
    const now = new Date('2026-03-02T09:00:00Z');
    const outcome = await ingestFile(file, handler, { now: () => now });
    expect(outcome).toEqual({ disposition: 'processed', reason: 'applied' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.raw.equals(message.raw)).toBe(true);
    expect(calls[0]!.meta).toEqual({ source: 'file', receivedAt: now });
    expect(ingestExitCode(outcome)).toBe(INGEST_EXIT.ok);
  });

  it('reads `-` from standard input, in chunks', async () => {
    const message = testMessage();
    const chunks = [message.raw.subarray(0, 10), message.raw.subarray(10, 50), message.raw.subarray(50)];
    const { calls, handler } = recorder();
    await ingestFile('-', handler, { stdin: Readable.from(chunks) });
    expect(calls[0]!.raw.equals(message.raw)).toBe(true);
  });

  it.each([
    { name: 'a missing file', setup: async (d: string) => path.join(d, 'nope.eml'), code: 'MAIL_INGEST_UNREADABLE', exit: INGEST_EXIT.noInput },
    { name: 'a directory', setup: async (d: string) => d, code: 'MAIL_INGEST_UNREADABLE', exit: INGEST_EXIT.noInput },
    {
      name: 'an empty file',
      setup: async (d: string) => {
        await writeFile(path.join(d, 'empty.eml'), '');
        return path.join(d, 'empty.eml');
      },
      code: 'MAIL_INGEST_EMPTY',
      exit: INGEST_EXIT.refused,
    },
    {
      name: 'a file of blank lines',
      setup: async (d: string) => {
        await writeFile(path.join(d, 'blank.eml'), '\r\n\r\n  \n');
        return path.join(d, 'blank.eml');
      },
      code: 'MAIL_INGEST_EMPTY',
      exit: INGEST_EXIT.refused,
    },
    {
      name: 'a file over the size limit',
      setup: async (d: string) => {
        await writeFile(path.join(d, 'big.eml'), testMessage({ minBytes: 2_000 }).raw);
        return path.join(d, 'big.eml');
      },
      code: 'MAIL_MESSAGE_TOO_LARGE',
      exit: INGEST_EXIT.refused,
    },
  ])('refuses $name with $code and never calls the handler', async ({ setup, code, exit }) => {
    const target = await setup(dir);
    const { calls, handler } = recorder();
    const error = await ingestFile(target, handler, { maxBytes: 1_000 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TwofoldError);
    expect((error as TwofoldError).code).toBe(code);
    expect((error as TwofoldError).message).toContain(target);
    expect(ingestExitCode(error)).toBe(exit);
    expect(calls).toHaveLength(0);
  });

  it('stops reading standard input as soon as it passes the size limit', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x61));
      },
    });
    const refused: unknown[] = [];
    const { calls, handler } = recorder();
    const error = await ingestFile('-', handler, { stdin: endless, maxBytes: 1_000_000, onRefused: (r) => void refused.push(r) }).catch((err: unknown) => err);
    expect((error as TwofoldError).code).toBe('MAIL_MESSAGE_TOO_LARGE');
    expect(produced).toBeLessThan(2_000_000);
    expect(refused).toEqual([expect.objectContaining({ source: 'file', code: 'MAIL_MESSAGE_TOO_LARGE', limit: 1_000_000 })]);
    expect(calls).toHaveLength(0);
  });

  it('lets a handler failure through, which an MTA pipe turns into a retry (exit 75)', async () => {
    const file = path.join(dir, 'retry.eml');
    await writeFile(file, testMessage().raw);
    const error = await ingestFile(file, async () => {
      throw new Error('journal locked');
    }).catch((err: unknown) => err);
    expect((error as Error).message).toBe('journal locked');
    expect(ingestExitCode(error)).toBe(INGEST_EXIT.tempFail);
  });

  it('counts a message kept as failed as done for the MTA (exit 0): the CSM has it', () => {
    expect(ingestExitCode({ disposition: 'failed', reason: 'apply_error' })).toBe(0);
  });
});

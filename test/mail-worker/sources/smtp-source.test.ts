/**
 * The embedded SMTP inbox, driven by a real SMTP client (nodemailer) and by raw SMTP dialogues
 * where the exact reply code and its timing matter (SIZE refusal before DATA).
 */
import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandledOutcome, MessageMeta, RefusedMessage, SourceEvent } from '../../../mail-worker/sources/message-handler.ts';
import { createSmtpSource, type SmtpSource, type SmtpSourceOptions } from '../../../mail-worker/sources/smtp-source.ts';
import { isTwofoldError } from '../../../site/core/errors/problem.ts';
import { testMessage } from '../../helpers/test-messages.ts';

const REPLY_DOMAIN = 'twofold.localhost';
const REPLY_TO = `twofold+t0ken@${REPLY_DOMAIN}`;

interface Received {
  raw: Buffer;
  meta: MessageMeta;
  resolvedAt?: number;
}

describe('the SMTP source', () => {
  const running: SmtpSource[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });

  async function start(options: Partial<SmtpSourceOptions> = {}, behaviour: (raw: Buffer, call: number) => Promise<HandledOutcome | void> | HandledOutcome | void = () => {}) {
    const received: Received[] = [];
    const events: SourceEvent[] = [];
    const refused: RefusedMessage[] = [];
    const source = createSmtpSource({
      port: 0,
      replyDomains: [REPLY_DOMAIN],
      log: (e) => events.push(e),
      onRefused: (r) => {
        refused.push(r);
      },
      handler: async (raw, meta) => {
        const entry: Received = { raw, meta };
        received.push(entry);
        const outcome = (await behaviour(raw, received.length)) ?? { disposition: 'processed' as const, reason: 'applied' };
        entry.resolvedAt = Date.now();
        return outcome;
      },
      ...options,
    });
    running.push(source);
    const { host, port } = await source.start();
    const transport = nodemailer.createTransport({ host, port, secure: false, ignoreTLS: true, ...(options.auth ? { auth: options.auth } : {}) });
    return { source, host, port, received, events, refused, transport };
  }

  it('hands a reply with its envelope to the handler and answers 250 only after the handler resolved', async () => {
    const { port, received, transport, events } = await start({}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    const message = testMessage({ subject: 'Re: T3', to: REPLY_TO });
    const info = await transport.sendMail({ envelope: { from: 'client@customer.test', to: [REPLY_TO] }, raw: message.raw });
    const acceptedAt = Date.now();
    expect(port).toBeGreaterThan(0);
    expect(info.response).toMatch(/^250 /);
    expect(received).toHaveLength(1);
    expect(received[0]!.raw.equals(message.raw)).toBe(true);
    expect(received[0]!.meta).toMatchObject({ source: 'smtp', envelope: { from: 'client@customer.test', to: [REPLY_TO] } });
    expect(received[0]!.meta.receivedAt).toBeInstanceOf(Date);
    expect(received[0]!.resolvedAt!).toBeLessThanOrEqual(acceptedAt);
    expect(events.find((e) => e.event === 'smtp.handled')).toMatchObject({ disposition: 'processed', reason: 'applied', to: [REPLY_TO] });
  });

  it('passes the message bytes through unchanged: dot-stuffed lines, 8-bit text, bare header folding', async () => {
    const { received, transport } = await start();
    const raw = Buffer.from(
      [
        'From: =?utf-8?q?Zo=C3=AB?= <zoe@customer.test>',
        `To: ${REPLY_TO}`,
        'Subject: Re: the plan',
        '\tcontinued subject',
        'Message-ID: <dots@customer.test>',
        'Content-Type: text/plain; charset=utf-8',
        '',
        '.done',
        '..two dots',
        '.',
        'Grüße — ✅',
        '',
      ].join('\r\n'),
    );
    await transport.sendMail({ envelope: { from: 'zoe@customer.test', to: [REPLY_TO] }, raw });
    expect(received[0]!.raw.equals(raw)).toBe(true);
  });

  it('reports "failed" outcomes with a 250 too: the message is kept for the CSM, not bounced', async () => {
    const { transport, received } = await start({}, () => ({ disposition: 'failed', reason: 'apply_error' }));
    const info = await transport.sendMail({ envelope: { from: 'client@customer.test', to: [REPLY_TO] }, raw: testMessage().raw });
    expect(info.response).toMatch(/^250 .*failed/);
    expect(received).toHaveLength(1);
  });

  it.each([
    { name: 'another domain', to: 'someone@example.com', reply: '550' },
    { name: 'a subdomain of the reply domain', to: `x@evil.${REPLY_DOMAIN}`, reply: '550' },
    { name: 'a look-alike domain', to: `x@${REPLY_DOMAIN}.example.com`, reply: '550' },
    { name: 'a bare local part', to: 'postmaster', reply: '550' },
    { name: 'a quoted local part hiding the reply domain', to: `"x@${REPLY_DOMAIN}"@example.com`, reply: '501' },
    { name: 'the reply domain in capitals', to: `TwoFold+ABC@${REPLY_DOMAIN.toUpperCase()}`, reply: '250' },
  ])('answers RCPT TO $name with $reply', async ({ to, reply }) => {
    const { port, received, events } = await start();
    const replies = await smtpDialogue(port, ['EHLO client.test', 'MAIL FROM:<client@customer.test>', `RCPT TO:<${to}>`, 'QUIT']);
    expect(replies[3]!.slice(0, 4)).toBe(`${reply} `);
    expect(received).toHaveLength(0);
    if (reply === '550') expect(events.find((e) => e.event === 'smtp.refused')).toMatchObject({ code: 'MAIL_RECIPIENT_UNKNOWN', to });
  });

  it('refuses a message that is not addressed to a reply domain at all, through a real client', async () => {
    const { transport, received } = await start();
    await expect(transport.sendMail({ envelope: { from: 'a@customer.test', to: ['ceo@example.com'] }, raw: testMessage().raw })).rejects.toMatchObject({ responseCode: 550 });
    expect(received).toHaveLength(0);
  });

  it('announces SIZE and refuses an oversized message with 552 at MAIL FROM, before any body is sent', async () => {
    const { port, received, events } = await start({ maxMessageBytes: 100_000 });
    const replies = await smtpDialogue(port, ['EHLO mta.test', 'MAIL FROM:<client@customer.test> SIZE=5000000', 'QUIT']);
    expect(replies[1]).toMatch(/SIZE 100000/);
    expect(replies[2]).toMatch(/^552 /);
    expect(received).toHaveLength(0);
    expect(events.filter((e) => e.event === 'smtp.handled')).toHaveLength(0);
  });

  it('refuses an oversized body with 552 when the client did not announce its size, and hands nothing over', async () => {
    const { transport, received, refused } = await start({ maxMessageBytes: 100_000 });
    const big = testMessage({ to: REPLY_TO, minBytes: 300_000 });
    await expect(transport.sendMail({ envelope: { from: 'client@customer.test', to: [REPLY_TO] }, raw: big.raw })).rejects.toMatchObject({ responseCode: 552 });
    expect(received).toHaveLength(0);
    expect(refused).toEqual([expect.objectContaining({ source: 'smtp', code: 'MAIL_MESSAGE_TOO_LARGE', limit: 100_000, from: 'client@customer.test' })]);
    // The connection stays usable for the next, normal message.
    const small = testMessage({ to: REPLY_TO });
    await transport.sendMail({ envelope: { from: 'client@customer.test', to: [REPLY_TO] }, raw: small.raw });
    expect(received).toHaveLength(1);
  });

  it('answers 451 when the handler throws, so the sender retries, and the retry succeeds', async () => {
    const { transport, received, events } = await start({}, (_raw, call) => {
      if (call === 1) throw new Error('journal locked');
    });
    const message = testMessage({ to: REPLY_TO });
    const send = () => transport.sendMail({ envelope: { from: 'client@customer.test', to: [REPLY_TO] }, raw: message.raw });
    await expect(send()).rejects.toMatchObject({ responseCode: 451 });
    expect(events.find((e) => e.event === 'smtp.handler_failed')).toMatchObject({ code: 'MAIL_HANDLER_FAILED', error: 'journal locked' });
    const retried = await send();
    expect(retried.response).toMatch(/^250 /);
    expect(received.map((r) => r.raw.equals(message.raw))).toEqual([true, true]);
    expect(received[1]!.resolvedAt).toBeDefined();
  });

  it('handles many senders at once', async () => {
    const { transport, received } = await start({}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const messages = Array.from({ length: 20 }, (_, i) => testMessage({ subject: `parallel ${i}`, to: REPLY_TO }));
    await Promise.all(messages.map((m) => transport.sendMail({ envelope: { from: 'client@customer.test', to: [REPLY_TO] }, raw: m.raw })));
    expect(received.map((r) => r.raw.toString()).sort()).toEqual(messages.map((m) => m.raw.toString()).sort());
  });

  describe('with auth configured', () => {
    const auth = { user: 'mta', pass: 's3cret' };
    it.each([
      { name: 'no credentials', credentials: undefined, code: 530 },
      { name: 'a wrong password', credentials: { user: 'mta', pass: 'guess' }, code: 535 },
      { name: 'a wrong user', credentials: { user: 'root', pass: 's3cret' }, code: 535 },
    ])('refuses $name', async ({ credentials, code }) => {
      const { host, port, received } = await start({ auth });
      const transport = nodemailer.createTransport({ host, port, secure: false, ignoreTLS: true, ...(credentials ? { auth: credentials } : {}) });
      await expect(transport.sendMail({ envelope: { from: 'a@customer.test', to: [REPLY_TO] }, raw: testMessage().raw })).rejects.toMatchObject({ responseCode: code });
      expect(received).toHaveLength(0);
    });

    it('accepts the configured credentials', async () => {
      const { transport, received } = await start({ auth });
      await transport.sendMail({ envelope: { from: 'a@customer.test', to: [REPLY_TO] }, raw: testMessage().raw });
      expect(received).toHaveLength(1);
    });
  });

  it('fails to start with MAIL_SMTP_LISTEN_FAILED when the port is taken', async () => {
    const { port } = await start();
    const second = createSmtpSource({ port, replyDomains: [REPLY_DOMAIN], handler: async () => ({ disposition: 'processed' }) });
    const error = await second.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isTwofoldError(error) && error.code).toBe('MAIL_SMTP_LISTEN_FAILED');
    expect(String((error as Error).message)).toContain(String(port));
  });

  it('stops listening on stop()', async () => {
    const { source, port } = await start();
    expect(source.status()).toMatchObject({ listening: true, port });
    await source.stop();
    expect(source.status().listening).toBe(false);
    await expect(smtpDialogue(port, ['QUIT'])).rejects.toThrow(/ECONNREFUSED/);
  });
});

/** Send SMTP commands one at a time; returns the greeting and each (possibly multi-line) reply. */
function smtpDialogue(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      // A reply is complete at a line "NNN text" (a space after the code, not a dash).
      while (/^\d{3} .*\r\n/m.test(buffer)) {
        const match = /^(?:\d{3}-.*\r\n)*\d{3} .*\r\n/.exec(buffer);
        if (!match) break;
        replies.push(match[0].trimEnd());
        buffer = buffer.slice(match[0].length);
        if (next < commands.length) socket.write(`${commands[next++]}\r\n`);
        else {
          socket.end();
          resolve(replies);
        }
      }
    });
    socket.on('close', () => resolve(replies));
  });
}

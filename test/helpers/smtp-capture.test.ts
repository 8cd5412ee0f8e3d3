import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture.ts';

describe('the SMTP capture helper', () => {
  let capture: SmtpCapture;
  beforeAll(async () => {
    capture = await startSmtpCapture();
  });
  afterAll(async () => {
    await capture?.stop();
  });

  const transport = () => nodemailer.createTransport({ host: capture.host, port: capture.port, secure: false, ignoreTLS: true, auth: { user: 'any', pass: 'thing' } });
  const send = (subject: string) =>
    transport().sendMail({ from: 'Twofold <twofold@twofold.localhost>', to: 'ana@customer.test', cc: 'ben@vendor.test', subject, text: `body of ${subject}` });

  it('captures raw, parsed and envelope of every message', async () => {
    capture.clear();
    await send('first');
    await send('second');
    const [first, second] = await capture.waitForCount(2);
    expect(first!.parsed.subject).toBe('first');
    expect(first!.parsed.text?.trim()).toBe('body of first');
    expect(first!.envelope).toEqual({ from: 'twofold@twofold.localhost', to: ['ana@customer.test', 'ben@vendor.test'] });
    expect(first!.raw.toString()).toContain('Subject: first');
    expect(second!.parsed.subject).toBe('second');
  });

  it('waits for a message that arrives later, and times out with a clear message', async () => {
    const waiting = capture.waitFor((m) => m.parsed.subject === 'later', 5_000);
    setTimeout(() => void send('later'), 100);
    expect((await waiting).parsed.subject).toBe('later');
    await expect(capture.waitFor((m) => m.parsed.subject === 'never', 200)).rejects.toThrow(/0 of 1 expected messages after 200 ms/);
  });

  it.each([
    { name: 'down (421 at connect)', down: true as const, code: 421 },
    { name: 'failing temporarily (451 at MAIL FROM)', down: 'tempfail' as const, code: 451 },
  ])('refuses while $name and accepts again when back up', async ({ down, code }) => {
    capture.clear();
    const refusalsBefore = capture.refusals;
    capture.setDown(down);
    await expect(send('refused')).rejects.toMatchObject({ responseCode: code });
    expect(capture.refusals).toBe(refusalsBefore + 1);
    expect(capture.messages).toHaveLength(0);
    capture.setDown(false);
    await send('accepted');
    expect(capture.messages.map((m) => m.parsed.subject)).toEqual(['accepted']);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stableMessageId } from '../../../mail-worker/mailer/message-id.ts';
import { MAX_REFERENCES, normaliseMessageId, normaliseReferences } from '../../../mail-worker/pipeline/normalise-message-id.ts';
import { MAX_CALENDAR_BYTES, MAX_MESSAGE_BYTES, messageKey, parseMessage, type InboundMessage } from '../../../mail-worker/pipeline/parse-message.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../../mail-worker/sources/message-handler.ts';

async function parsed(raw: string | Buffer, options?: Parameters<typeof parseMessage>[1]): Promise<InboundMessage> {
  const result = await parseMessage(raw, options);
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.message;
}

const HEAD = 'From: Raj Patel <raj@acme.example>\r\nTo: twofold+abc@twofold.localhost\r\nSubject: Re: T3\r\n';

describe('normaliseMessageId', () => {
  it.each([
    // Kept byte for byte, domain case included: clients thread by comparing ids as strings.
    { name: 'a plain id', value: '<abc@Mail.Example.COM>', id: '<abc@Mail.Example.COM>' },
    { name: 'surrounding white space and a comment', value: '  (sent by x) <Abc.Def@Example.com> ', id: '<Abc.Def@Example.com>' },
    { name: 'the first of two ids', value: '<a@x.example> <b@x.example>', id: '<a@x.example>' },
    { name: 'an id without brackets', value: 'abc@example.com', id: '<abc@example.com>' },
    { name: 'an id without a domain', value: '<4597127794206131679unknownmsgid>', id: '<4597127794206131679unknownmsgid>' },
    { name: 'words, not an id', value: 'not an id', id: undefined },
    { name: 'nothing', value: '', id: undefined },
    { name: 'empty brackets', value: '<>', id: undefined },
    { name: 'a control character', value: '<a\u0001b@x.example>', id: undefined },
    { name: 'an overlong id', value: `<${'a'.repeat(1000)}@x.example>`, id: undefined },
  ])('$name → $id', ({ value, id }) => {
    expect(normaliseMessageId(value)).toBe(id);
  });

  it('leaves the ids Twofold generates as they are, so replies match them', () => {
    const id = stableMessageId(['acme-logistics', 'T3', 'raj', 4], 'twofold.localhost');
    expect(normaliseMessageId(id)).toBe(id);
  });

  it(`keeps the newest ${MAX_REFERENCES} references, once each`, () => {
    const ids = Array.from({ length: 150 }, (_, i) => `<m${i}@x.example>`);
    const refs = normaliseReferences([ids.join(' '), '<m149@x.example>']);
    expect(refs).toHaveLength(MAX_REFERENCES);
    expect(refs[0]).toBe('<m50@x.example>');
    expect(refs.at(-1)).toBe('<m149@x.example>');
  });
});

describe('parseMessage', () => {
  it('uses the sources\' 25 MB limit', () => {
    expect(MAX_MESSAGE_BYTES).toBe(DEFAULT_MAX_MESSAGE_BYTES);
    expect(MAX_MESSAGE_BYTES).toBe(25 * 1024 * 1024);
  });

  it('keys by Message-ID, else by the digest of the raw bytes', async () => {
    const withId = await parsed(`${HEAD}Message-ID: <X1@Acme.Example>\r\n\r\ndone`);
    expect(messageKey(withId)).toBe('<X1@Acme.Example>');
    const a = await parsed(`${HEAD}\r\ndone`);
    const b = await parsed(`${HEAD}\r\ndone.`);
    expect(messageKey(a)).toBe(`digest:${a.digest}`);
    expect(messageKey(a)).not.toBe(messageKey(b));
    expect(a.digest).toBe(createHash('sha256').update(`${HEAD}\r\ndone`).digest('hex'));
  });

  it('gives access to every header by lowercase name, topmost first, unfolded', async () => {
    const message = await parsed(`Received: from a by b;\r\n\tMon, 2 Mar 2026 09:00:00 +0000\r\nReceived: from c by d\r\n${HEAD}X-Custom: one\r\n  two\r\n\r\ndone`);
    expect(message.headers.getAll('RECEIVED')).toEqual(['from a by b; Mon, 2 Mar 2026 09:00:00 +0000', 'from c by d']);
    expect(message.headers.get('x-custom')).toBe('one two');
    expect(message.headers.has('x-missing')).toBe(false);
    expect(message.headers.names()).toEqual(['received', 'from', 'to', 'subject', 'x-custom']);
  });

  it('decodes raw UTF-8 header fields (SMTPUTF8)', async () => {
    const message = await parsed(Buffer.from('From: Jörg Müller <jörg@kunde.example>\r\nTo: twofold+abc@twofold.localhost\r\nSubject: Re: Grüße\r\n\r\nerledigt'));
    expect(message.from).toEqual({ address: 'jörg@kunde.example', name: 'Jörg Müller' });
    expect(message.subject).toBe('Re: Grüße');
    expect(message.headers.get('from')).toBe('Jörg Müller <jörg@kunde.example>');
  });

  it('takes the envelope of an SMTP delivery as return path and recipient', async () => {
    const message = await parsed(`${HEAD}\r\ndone`, { envelope: { from: '', to: ['Twofold+ABC@twofold.localhost', 'other@twofold.localhost'] } });
    expect(message.returnPath).toBe('');
    expect(message.deliveredTo).toEqual(['twofold+abc@twofold.localhost', 'other@twofold.localhost']);
    expect(message.recipients).toEqual(['twofold+abc@twofold.localhost', 'other@twofold.localhost']);
  });

  it('never invents a date: a missing or unreadable Date header is undefined', async () => {
    expect((await parsed(`${HEAD}\r\ndone`)).date).toBeUndefined();
    const bad = await parsed(`${HEAD}Date: yesterday-ish\r\n\r\ndone`);
    expect(bad.date).toBeUndefined();
    expect(bad.repairs).toEqual(['Date header "yesterday-ish" does not parse']);
    expect((await parsed(`${HEAD}Date: Thu,  7 Apr 2016 19:04:30 +0900 (JST)\r\n\r\ndone`)).date?.toISOString()).toBe('2016-04-07T10:04:30.000Z');
  });

  it('reads a message whose header block starts after blank lines', async () => {
    const message = await parsed(`\r\n\r\n${HEAD}\r\ndone`);
    expect(message.subject).toBe('Re: T3');
    expect(message.repairs).toContain('leading blank lines before the header removed');
  });

  it('lists attachments without their content and keeps calendar text only up to its limit', async () => {
    const big = `BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nX-PAD:${'x'.repeat(MAX_CALENDAR_BYTES)}\r\nEND:VCALENDAR`;
    const raw = [HEAD.trimEnd(), 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'done', '--b', 'Content-Type: text/calendar; method=REPLY', '', big, '--b', 'Content-Type: image/png; name=a.png', 'Content-Transfer-Encoding: base64', '', 'iVBORw0KGgo=', '--b--', ''].join('\r\n');
    const message = await parsed(raw);
    expect(message.calendar).toEqual([]);
    expect(message.attachments).toEqual([
      { contentType: 'text/calendar', size: expect.any(Number), oversize: false },
      { contentType: 'image/png', filename: 'a.png', size: 8, oversize: false },
    ]);
    expect(message.attachments[0]!.size).toBeGreaterThan(MAX_CALENDAR_BYTES);
    expect(message.attachmentCount).toBe(2);
  });

  it.each([
    { name: 'an empty input', raw: '' },
    { name: 'a body without headers', raw: 'done' },
    { name: 'binary bytes', raw: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0d, 0x0a, 0x0d, 0x0a, 0x41]) },
    { name: 'only blank lines', raw: '\r\n\r\n\r\n' },
  ])('returns MAIL_MALFORMED for $name, with the digest', async ({ raw }) => {
    const result = await parseMessage(raw);
    expect(result).toMatchObject({ ok: false, code: 'MAIL_MALFORMED' });
    expect(result.ok === false && result.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('returns MAIL_MALFORMED when the MIME structure breaks the parser limits', async () => {
    const parts = Array.from({ length: 600 }, () => '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n').join('');
    const result = await parseMessage(`${HEAD}Content-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`);
    expect(result).toMatchObject({ ok: false, code: 'MAIL_MALFORMED' });
  });

  it('refuses a message over the size limit before parsing', async () => {
    const result = await parseMessage(`${HEAD}\r\n${'x'.repeat(2000)}`, { maxBytes: 1000 });
    expect(result).toMatchObject({ ok: false, code: 'MAIL_MESSAGE_TOO_LARGE' });
    expect(result.ok === false && result.message).toMatch(/more than the 1000 bytes/);
  });

  it('gives up with MAIL_PARSE_TIMEOUT when parsing takes longer than allowed', async () => {
    const raw = `${HEAD}Content-Type: text/plain\r\n\r\n${'done and more\r\n'.repeat(400_000)}`;
    const result = await parseMessage(raw, { timeoutMs: 1 });
    expect(result).toMatchObject({ ok: false, code: 'MAIL_PARSE_TIMEOUT' });
  });
});

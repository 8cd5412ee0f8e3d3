/**
 * Twofold's own fixtures, one `.eml` per scenario (test/fixtures/mail), through parse →
 * classify → extract: out-of-office replies in eight languages with and without auto headers,
 * bounces, list mail, our own mail, HTML-only Outlook, legacy charsets, malformed MIME, no
 * Message-ID, iTIP replies. The large messages (10 MB attachment, 30 MB message) are generated
 * here rather than committed.
 */
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../../mail-worker/pipeline/classify-message.ts';
import { dmarcVerdict } from '../../../mail-worker/pipeline/dmarc.ts';
import { extractReplyText } from '../../../mail-worker/pipeline/extract-reply-text.ts';
import {
  MAX_ATTACHMENT_BYTES,
  MAX_MESSAGE_BYTES,
  messageKey,
  parseMessage,
  type InboundMessage,
} from '../../../mail-worker/pipeline/parse-message.ts';
import { mailFixtures } from '../../helpers/corpus-messages.ts';

const OWN = { ownAddresses: ['Twofold@twofold.localhost'] };
const REPLY = 'twofold+k7qm2xzpa4bcdefghijklmnopqrstu23@twofold.localhost';
const fixtures = new Map(mailFixtures().map((f) => [f.name, f.raw]));

async function parsed(name: string): Promise<InboundMessage> {
  const raw = fixtures.get(name);
  if (!raw) throw new Error(`${name} is not in test/fixtures/mail`);
  const result = await parseMessage(raw);
  if (!result.ok) throw new Error(`${name}: ${result.code} ${result.message}`);
  return result.message;
}

interface Scenario {
  name: string;
  kind: 'process' | 'ignore' | 'calendar-reply';
  code?: string;
  /** A phrase of the reason (what made the decision). */
  because?: string;
  /** Exact new text, checked for processed messages. */
  text?: string;
}

const SCENARIOS: Scenario[] = [
  // out of office: headers, or the subject alone, in eight languages
  { name: 'ooo-english-exchange-headers.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'Auto-Submitted: auto-replied' },
  { name: 'ooo-german-subject-only.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'Abwesenheitsnotiz' },
  { name: 'ooo-french-subject-only.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'Réponse automatique' },
  { name: 'ooo-spanish-auto-submitted.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'Auto-Submitted' },
  { name: 'ooo-dutch-subject-prefix.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'Afwezig' },
  { name: 'ooo-swedish-x-autoreply.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'x-autoreply' },
  { name: 'ooo-italian-precedence.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'Precedence: auto_reply' },
  { name: 'ooo-japanese-subject-only.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: '自動応答' },
  { name: 'ooo-chinese-subject-only.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: '自动回复' },
  // a vacation responder keeps "Re:" in the subject: only its header gives it away
  { name: 'ooo-gmail-vacation-re-subject.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', because: 'Auto-Submitted: auto-replied' },
  // bounces: a DSN of our own task email (the embedded original carries our marker), an Exchange NDR
  { name: 'bounce-dsn-of-our-task-email.eml', kind: 'ignore', code: 'MAIL_BOUNCE', because: 'delivery-status' },
  { name: 'bounce-exchange-ndr-plain.eml', kind: 'ignore', code: 'MAIL_BOUNCE', because: 'postmaster@acme.example' },
  // list mail with "done" in it must not complete anything
  { name: 'list-message.eml', kind: 'ignore', code: 'MAIL_LIST', because: 'List-Id' },
  { name: 'own-message.eml', kind: 'ignore', code: 'MAIL_OWN_MESSAGE', because: 'X-Twofold-Generated' },
  // replies
  { name: 'reply-gmail-done.eml', kind: 'process', text: 'done, metadata is uploaded. thanks!' },
  { name: 'outlook-html-only-reply.eml', kind: 'process', text: 'blocked: waiting on IT for the signing certificate' },
  { name: 'reply-iso-8859-15.eml', kind: 'process', text: 'erledigt\n\nDas Zertifikat hat 50 € gekostet, die Rechnung geht an Jörg.' },
  { name: 'reply-iso-2022-jp.eml', kind: 'process', text: '完了しました。証明書を送付済みです。' },
  { name: 'reply-shift-jis.eml', kind: 'process', text: 'done\n対応が完了しました。' },
  { name: 'no-message-id.eml', kind: 'process', text: 'in progress' },
  // malformed MIME, read leniently where the sender's words are still there
  { name: 'malformed-broken-boundary.eml', kind: 'process', text: 'done' },
  { name: 'malformed-bad-base64.eml', kind: 'process', text: 'done' },
  { name: 'malformed-header-without-colon.eml', kind: 'process', text: 'done' },
  { name: 'malformed-nul-bytes.eml', kind: 'process', text: 'done' },
  { name: 'malformed-everything.eml', kind: 'process', text: 'blocked: waiting on IT' },
  // iTIP replies go to the calendar code, never to the reply grammar
  { name: 'itip-reply-outlook.eml', kind: 'calendar-reply', code: 'MAIL_CALENDAR_REPLY', because: 'METHOD:REPLY' },
  { name: 'itip-reply-google.eml', kind: 'calendar-reply', code: 'MAIL_CALENDAR_REPLY', because: 'METHOD:REPLY' },
];

describe('Twofold mail fixtures', () => {
  it('has a scenario for every fixture file', () => {
    expect(SCENARIOS.map((s) => s.name).sort()).toEqual([...fixtures.keys()].sort());
  });

  it.each(SCENARIOS)('$name: $kind', async (s) => {
    const message = await parsed(s.name);
    const verdict = classifyMessage(message, OWN);
    expect(verdict.kind).toBe(s.kind);
    if (s.code) expect(verdict).toMatchObject({ code: s.code });
    if (s.because) expect(verdict.reason).toContain(s.because);
    if (s.text !== undefined) expect(extractReplyText(message).text).toBe(s.text);
  });
});

describe('what parse reports about a reply', () => {
  it('normalises ids, addresses and dates, and keeps every recipient', async () => {
    const message = await parsed('reply-gmail-done.eml');
    expect(message).toMatchObject({
      messageId: '<CAE7x2+Qk9vB=Lh1@mail.gmail.com>',
      inReplyTo: '<acme-logistics.Zr8kQ2mB7xVt4nLp9sWd1A@twofold.localhost>',
      references: ['<acme-logistics.digest.1@twofold.localhost>', '<acme-logistics.Zr8kQ2mB7xVt4nLp9sWd1A@twofold.localhost>'],
      from: { address: 'raj@acme.example', name: 'Raj Patel' },
      returnPath: 'raj@acme.example',
      to: [REPLY],
      cc: ['dana@northwind.example'],
      deliveredTo: [REPLY],
      recipients: [REPLY, 'dana@northwind.example'],
      subject: 'Re: [Acme Logistics] T3 Send the SSO metadata',
      contentType: 'multipart/alternative',
      isMultipartReport: false,
      attachments: [],
      calendar: [],
      repairs: [],
    });
    expect(message.date?.toISOString()).toBe('2026-03-03T14:41:12.000Z');
    expect(messageKey(message)).toBe('<CAE7x2+Qk9vB=Lh1@mail.gmail.com>');
    expect(message.headers.get('X-Original-To')).toBe(REPLY);
    expect(message.authenticationResults[0]).toContain('dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=acme.example');
    expect(dmarcVerdict(message, { authservId: 'mx.twofold.example' })).toEqual({ verdict: 'pass', reason: 'mx.twofold.example: dmarc=pass', headerFrom: 'acme.example' });
  });

  it('keys a message without a Message-ID by the sha256 of its bytes', async () => {
    const message = await parsed('no-message-id.eml');
    expect(message.messageId).toBeUndefined();
    expect(messageKey(message)).toMatch(/^digest:[0-9a-f]{64}$/);
    const again = await parseMessage(fixtures.get('no-message-id.eml') as Buffer);
    expect(again.ok && messageKey(again.message)).toBe(messageKey(message));
  });

  it('decodes the subject and sender name in their legacy charsets', async () => {
    expect((await parsed('reply-iso-8859-15.eml')).from).toEqual({ address: 'joerg@kunde.example', name: 'Jörg Müller' });
    expect((await parsed('reply-iso-8859-15.eml')).subject).toBe('AW: [Acme Logistics] T3 Send the SSO metadata');
    expect((await parsed('reply-iso-2022-jp.eml')).from?.name).toBe('山田 太郎');
    expect((await parsed('ooo-japanese-subject-only.eml')).text).toBe('3月9日まで不在にしております。\n');
  });

  it('says what it repaired in malformed messages', async () => {
    expect((await parsed('malformed-broken-boundary.eml')).repairs).toEqual([
      'multipart boundary "==Boundary_DECLARED==" does not occur; used "==Boundary_USED==" found in the body',
    ]);
    expect((await parsed('malformed-header-without-colon.eml')).repairs).toEqual(['a header line without a colon was skipped']);
    const nul = await parsed('malformed-nul-bytes.eml');
    expect(nul.repairs).toEqual(['NUL bytes in the body removed']);
    expect(nul.subject).not.toContain('\u0000');
    const everything = await parsed('malformed-everything.eml');
    expect(everything.date).toBeUndefined();
    expect(everything.attachments).toEqual([{ contentType: 'application/pdf', filename: 'cert.pdf', size: expect.any(Number), oversize: false }]);
    expect(everything.repairs).toHaveLength(3);
  });

  it('keeps the text of iTIP replies with their method, from Outlook and from Google', async () => {
    const outlook = await parsed('itip-reply-outlook.eml');
    expect(outlook.calendar).toHaveLength(1);
    expect(outlook.calendar[0]).toMatchObject({ method: 'REPLY', contentType: 'text/calendar' });
    expect(outlook.calendar[0]?.text).toContain('ATTENDEE;PARTSTAT=ACCEPTED;CN=Raj Patel:mailto:raj@acme.example');
    const google = await parsed('itip-reply-google.eml');
    expect(google.calendar.map((c) => [c.contentType, c.method, c.filename])).toEqual([
      ['text/calendar', 'REPLY', undefined],
      ['application/ics', 'REPLY', 'invite.ics'],
    ]);
    expect(google.calendar[0]?.text).toContain('PARTSTAT=ACCEPTED;CN=Dana F\r\n ox');
    expect(google.sender).toEqual({ address: 'calendar-notification@google.com', name: 'Google Calendar' });
  });

  it('reports a DSN as a delivery-status report with an empty return path', async () => {
    const message = await parsed('bounce-dsn-of-our-task-email.eml');
    expect(message).toMatchObject({ isMultipartReport: true, reportType: 'delivery-status', returnPath: '' });
    expect(message.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status', 'message/rfc822']);
    // the embedded original is not parsed into the text: a forwarded message is not the reply
    expect(message.text).not.toContain('Reply done when it is');
  });
});

describe('large messages', () => {
  it('accepts a reply with a 10 MB attachment without keeping the attachment', async () => {
    const attachment = Buffer.alloc(MAX_ATTACHMENT_BYTES, 0x25);
    const raw = withAttachment('done', 'application/pdf', 'contract.pdf', attachment);
    const started = Date.now();
    const result = await parseMessage(raw);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.message.attachments).toEqual([{ contentType: 'application/pdf', filename: 'contract.pdf', size: MAX_ATTACHMENT_BYTES, oversize: false }]);
    expect(JSON.stringify(result.message).length).toBeLessThan(10_000); // no content kept anywhere
    expect(extractReplyText(result.message).text).toBe('done');
  });

  it('marks an attachment above the limit as oversize and still reads the reply', async () => {
    const raw = withAttachment('done', 'application/zip', 'logs.zip', Buffer.alloc(MAX_ATTACHMENT_BYTES + 1, 1));
    const result = await parseMessage(raw);
    expect(result.ok && result.message.attachments[0]).toMatchObject({ size: MAX_ATTACHMENT_BYTES + 1, oversize: true });
  });

  it('refuses a 30 MB message before parsing it', async () => {
    const raw = withAttachment('done', 'application/octet-stream', 'big.bin', Buffer.alloc(22 * 1024 * 1024, 2));
    expect(raw.length).toBeGreaterThan(30 * 1024 * 1024 - 1024 * 1024);
    expect(raw.length).toBeGreaterThan(MAX_MESSAGE_BYTES);
    const started = Date.now();
    const result = await parseMessage(raw);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({ ok: false, code: 'MAIL_MESSAGE_TOO_LARGE', sizeBytes: raw.length });
    expect(result.ok === false && result.digest).toMatch(/^[0-9a-f]{64}$/);
  });
});

function withAttachment(text: string, type: string, filename: string, content: Buffer): Buffer {
  const base64 = content.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: Raj Patel <raj@acme.example>',
      `To: ${REPLY}`,
      'Subject: Re: [Acme Logistics] T3 Send the SSO metadata',
      'Message-ID: <big-1@acme.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--b1',
      `Content-Type: ${type}; name="${filename}"`,
      `Content-Disposition: attachment; filename="${filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      base64,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

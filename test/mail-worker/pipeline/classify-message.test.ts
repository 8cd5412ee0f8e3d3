import { describe, expect, it } from 'vitest';
import {
  classifyMessage,
  TWOFOLD_GENERATED_HEADER,
  TWOFOLD_GENERATED_VALUE,
  type Classification,
} from '../../../mail-worker/pipeline/classify-message.ts';
import { parseMessage } from '../../../mail-worker/pipeline/parse-message.ts';

const OWN = { ownAddresses: ['twofold@twofold.localhost', 'csm-bot@northwind.example'] };
const TASK_SUBJECT = 'Re: [Acme Logistics] T3 Send the SSO metadata';

/** A reply from Raj with the given extra header lines (and subject, when given). */
async function classify(headers: readonly string[], options: { subject?: string; from?: string; body?: string; type?: string } = {}): Promise<Classification> {
  const lines = [
    `From: ${options.from ?? 'Raj Patel <raj@acme.example>'}`,
    'To: twofold+k7qm2xzpa4bcdefghijklmnopqrstu23@twofold.localhost',
    `Subject: ${options.subject ?? TASK_SUBJECT}`,
    'Message-ID: <r1@acme.example>',
    ...headers,
    `Content-Type: ${options.type ?? 'text/plain; charset=utf-8'}`,
    '',
    options.body ?? 'done',
  ];
  const result = await parseMessage(lines.join('\r\n'));
  if (!result.ok) throw new Error(result.message);
  return classifyMessage(result.message, OWN);
}

describe('classifyMessage', () => {
  it('processes a plain reply from a person', async () => {
    expect(await classify([])).toEqual({ kind: 'process', reason: 'a reply written by a person' });
  });

  it.each([
    { name: 'Auto-Submitted: auto-replied', header: 'Auto-Submitted: auto-replied' },
    { name: 'Auto-Submitted: auto-generated', header: 'Auto-Submitted: auto-generated' },
    { name: 'Auto-Submitted: auto-notified (RFC 3834 extension)', header: 'Auto-Submitted: auto-notified; owner-email="x@example.com"' },
    { name: 'X-Autoreply', header: 'X-Autoreply: yes' },
    { name: 'X-Autorespond', header: 'X-Autorespond: Out of office' },
    { name: 'X-Autoresponder', header: 'X-Autoresponder: 1' },
    { name: 'Precedence: bulk', header: 'Precedence: bulk' },
    { name: 'Precedence: junk', header: 'Precedence: junk' },
    { name: 'Precedence: auto_reply', header: 'Precedence: auto_reply' },
    { name: 'X-Precedence: bulk', header: 'X-Precedence: bulk' },
    { name: 'X-Auto-Response-Suppress: All', header: 'X-Auto-Response-Suppress: All' },
    { name: 'X-Auto-Response-Suppress: OOF', header: 'X-Auto-Response-Suppress: DR, OOF' },
    { name: 'X-Auto-Response-Suppress: AutoReply', header: 'X-Auto-Response-Suppress: RN, NRN, AutoReply' },
  ])('ignores an auto-reply marked by $name', async ({ header }) => {
    expect(await classify([header])).toMatchObject({ kind: 'ignore', code: 'MAIL_AUTO_REPLY' });
  });

  it.each([
    { name: 'Auto-Submitted: no', header: 'Auto-Submitted: no' },
    { name: 'X-Autoreply: no', header: 'X-Autoreply: no' },
    { name: 'Precedence: first-class', header: 'Precedence: first-class' },
    { name: 'X-Auto-Response-Suppress: DR, RN (read receipts only)', header: 'X-Auto-Response-Suppress: DR, RN' },
    { name: 'List-Unsubscribe alone (transactional senders add it)', header: 'List-Unsubscribe: <mailto:leave@acme.example>' },
  ])('still processes a reply with $name', async ({ header }) => {
    expect((await classify([header])).kind).toBe('process');
  });

  it.each([
    'Out of Office: [Acme Logistics] T3 Send the SSO metadata',
    'Automatic reply: [Acme Logistics] T3 Send the SSO metadata',
    'Auto-Reply: [Acme Logistics] T3',
    'AutoReply: T3',
    'I am out of the office until Monday',
    'Away from the office until 9 March',
    'On vacation until 9 March',
    'Abwesenheitsnotiz: T3',
    'Automatische Antwort: T3',
    'Nicht im Büro: T3',
    'Réponse automatique : T3',
    'Absence du bureau',
    'Absent : T3',
    'Respuesta automática: T3',
    'Fuera de la oficina: T3',
    'Automatisch antwoord: T3',
    'Afwezig: T3',
    'Risposta automatica: T3',
    'Fuori sede: T3',
    'Resposta automática: T3',
    'Ausente: T3',
    'Automatiskt svar: T3',
    'Fraværende: T3',
    'Autosvar: T3',
    'Frånvaro: T3',
    '自動応答: T3',
    '【不在】T3',
    '自动回复: T3',
    '[EXTERNAL] Automatic reply: T3',
  ])('ignores an out-of-office subject without auto headers: %s', async (subject) => {
    expect(await classify([], { subject })).toMatchObject({ kind: 'ignore', code: 'MAIL_AUTO_REPLY' });
  });

  it.each([
    'Re: [Acme Logistics] T9 Configure auto-reply rules for the support inbox',
    'AW: [Acme Logistics] T7 Cover while Raj is on vacation',
    'Re: Absent minded question',
    'Absentee list for the training',
    'Re: Out of office handover for T4',
    '回复: 自动回复设置',
    'Autopilot rollout',
  ])('processes a reply whose subject only mentions such words: %s', async (subject) => {
    expect((await classify([], { subject })).kind).toBe('process');
  });

  it.each([
    { name: 'a multipart/report delivery status', headers: [], type: 'multipart/report; report-type=delivery-status; boundary=x' },
    { name: 'a read receipt (disposition-notification report)', headers: [], type: 'multipart/report; report-type=disposition-notification; boundary=x' },
    { name: 'a sender MAILER-DAEMON', headers: [], from: 'Mail Delivery System <MAILER-DAEMON@mx.acme.example>' },
    { name: 'a sender postmaster', headers: [], from: 'postmaster@acme.example' },
    { name: 'the null return path', headers: ['Return-Path: <>'] },
    { name: 'X-Failed-Recipients', headers: ['X-Failed-Recipients: rajj@acme.example'] },
    { name: 'a VERP recipient', headers: ['Delivered-To: bounces+k7qm2x@twofold.localhost'] },
    { name: 'a bounce subject', headers: [], subject: 'Undeliverable: [Acme Logistics] T3' },
    { name: 'a German bounce subject', headers: [], subject: 'Unzustellbar: [Acme Logistics] T3' },
  ])('ignores a bounce recognised by $name', async ({ headers, type, from, subject }) => {
    const options: { type?: string; from?: string; subject?: string } = {};
    if (type) options.type = type;
    if (from) options.from = from;
    if (subject) options.subject = subject;
    expect(await classify(headers, options)).toMatchObject({ kind: 'ignore', code: 'MAIL_BOUNCE' });
  });

  it.each([
    { name: 'List-Id', headers: ['List-Id: Onboarding <onboarding.lists.acme.example>'] },
    { name: 'List-Unsubscribe with Precedence: list', headers: ['List-Unsubscribe: <mailto:leave@lists.acme.example>', 'Precedence: list'] },
  ])('ignores list mail marked by $name', async ({ headers }) => {
    expect(await classify(headers)).toMatchObject({ kind: 'ignore', code: 'MAIL_LIST' });
  });

  it('ignores our own messages by the header the mailer sets', async () => {
    expect(TWOFOLD_GENERATED_HEADER).toBe('X-Twofold-Generated');
    const verdict = await classify([`${TWOFOLD_GENERATED_HEADER}: ${TWOFOLD_GENERATED_VALUE}`]);
    expect(verdict).toMatchObject({ kind: 'ignore', code: 'MAIL_OWN_MESSAGE' });
  });

  it.each(['Twofold <twofold@twofold.localhost>', 'TWOFOLD@Twofold.Localhost', 'csm-bot@northwind.example'])(
    'ignores mail from one of our own sending addresses: %s',
    async (from) => {
      expect(await classify([], { from })).toMatchObject({ kind: 'ignore', code: 'MAIL_OWN_MESSAGE' });
    },
  );

  it('puts our own mail before everything else, even when it looks automatic', async () => {
    expect(await classify(['Auto-Submitted: auto-generated', 'Precedence: bulk'], { from: 'twofold@twofold.localhost' })).toMatchObject({ code: 'MAIL_OWN_MESSAGE' });
  });

  it('hands an iTIP reply to the calendar code even when it carries auto headers', async () => {
    const type = 'multipart/mixed; boundary=c';
    const body = ['--c', 'Content-Type: text/plain', '', 'Accepted', '--c', 'Content-Type: text/calendar; method=REPLY', '', 'BEGIN:VCALENDAR', 'METHOD:REPLY', 'END:VCALENDAR', '--c--'].join('\r\n');
    const verdict = await classify(['Auto-Submitted: auto-generated'], { type, body, subject: 'Accepted: Stage 2 check-in' });
    expect(verdict).toEqual({ kind: 'calendar-reply', code: 'MAIL_CALENDAR_REPLY', reason: 'an iTIP reply (METHOD:REPLY) to a check-in invitation' });
  });

  it('does not take an invitation (METHOD:REQUEST) for a calendar reply', async () => {
    const type = 'multipart/mixed; boundary=c';
    const body = ['--c', 'Content-Type: text/plain', '', 'done', '--c', 'Content-Type: text/calendar; method=REQUEST', '', 'BEGIN:VCALENDAR', 'METHOD:REQUEST', 'END:VCALENDAR', '--c--'].join('\r\n');
    expect((await classify([], { type, body })).kind).toBe('process');
  });

  it('ignores a message without a From address', async () => {
    const result = await parseMessage('To: twofold+x@twofold.localhost\r\nSubject: Re: T3\r\n\r\ndone');
    expect(result.ok && classifyMessage(result.message, OWN)).toMatchObject({ kind: 'ignore', code: 'MAIL_NO_SENDER' });
  });
});

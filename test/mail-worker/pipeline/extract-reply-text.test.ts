import { describe, expect, it } from 'vitest';
import { extractFromPlainText, extractReplyText } from '../../../mail-worker/pipeline/extract-reply-text.ts';
import { MAX_REPLY_CHARS } from '../../../site/core/reply/reply-grammar.ts';

const QUOTE = '> T3 Send the SSO metadata is yours.\n> Reply done when it is.';
const ORIGINAL = 'T3 Send the SSO metadata is yours.\nReply done when it is.';

const reply = (body: string) => extractFromPlainText(body).text;

describe('extractFromPlainText: quote headers', () => {
  it.each([
    { name: 'English, one line', header: 'On Mon, Mar 2, 2026 at 9:15 AM Twofold <twofold@twofold.localhost> wrote:' },
    { name: 'English, over two lines', header: 'On Mon, Mar 2, 2026 at 9:15 AM Twofold <\ntwofold+k7qm@twofold.localhost> wrote:' },
    { name: 'English, over three lines', header: 'On Mar 2, 2026, at 9:15 AM, Twofold\n<twofold@twofold.localhost>\nwrote:' },
    { name: 'English, address glued to wrote', header: 'On Mon, Mar 2, 2026 at 9:15 AM, Twofold\n<twofold@twofold.localhost>wrote:' },
    { name: 'German Am … schrieb …:', header: 'Am 02.03.2026 um 09:15 schrieb Twofold <twofold@twofold.localhost>:' },
    { name: 'German, name before schrieb', header: 'Am Mo., 2. März 2026 um 09:15 Uhr schrieb Twofold <\ntwofold@twofold.localhost>:' },
    { name: 'French Le … a écrit :', header: 'Le lun. 2 mars 2026 à 09:15, Twofold <twofold@twofold.localhost> a écrit :' },
    { name: 'Spanish El … escribió:', header: 'El lun, 2 mar 2026 a las 9:15, Twofold (<twofold@twofold.localhost>) escribió:' },
    { name: 'Italian Il … ha scritto:', header: 'Il giorno lun 2 mar 2026 alle ore 09:15 Twofold <twofold@twofold.localhost> ha scritto:' },
    { name: 'Dutch Op … schreef …:', header: 'Op ma 2 mrt 2026 om 09:15 schreef Twofold <twofold@twofold.localhost>:' },
    { name: 'Portuguese Em … escreveu:', header: 'Em seg., 2 de mar. de 2026 às 09:15, Twofold <\ntwofold@twofold.localhost> escreveu:' },
    { name: 'Finnish … kirjoitti:', header: 'ma 2. maalisk. 2026 klo 9.15 Twofold (twofold@twofold.localhost) kirjoitti:' },
    { name: 'Swedish Den … skrev …:', header: 'Den mån 2 mars 2026 kl 09:15 skrev Twofold <twofold@twofold.localhost>:' },
    { name: 'Norwegian … skrev …:', header: 'man. 2. mar. 2026 kl. 09:15 skrev Twofold <twofold@twofold.localhost\n>:' },
    { name: 'Danish … skrev …:', header: 'Den 2. mar. 2026 kl. 09.15 skrev Twofold <twofold@twofold.localhost>:' },
    { name: 'Polish W dniu … napisał:', header: 'W dniu 2.03.2026 o 09:15, Twofold <twofold@twofold.localhost> napisał:' },
    { name: 'Russian … написал:', header: 'пн, 2 мар. 2026 г. в 09:15, Twofold <twofold@twofold.localhost>:' },
    { name: 'Chinese 在 … 写道：', header: '在 2026年3月2日 09:15，Twofold <twofold@twofold.localhost> 写道：' },
    { name: 'Japanese … のメッセージ:', header: '2026/03/02 9:15、Twofold <twofold@twofold.localhost> のメッセージ:' },
    { name: 'Japanese, Gmail', header: '2026年3月2日(月) 9:15 Twofold <twofold@twofold.localhost>:' },
    { name: 'Chinese, Gmail', header: 'Twofold <twofold@twofold.localhost> 于2026年3月2日周一 09:15写道：' },
    { name: 'a name and address only', header: 'Twofold <twofold@twofold.localhost> wrote:' },
    { name: 'Yahoo with leading dashes', header: '--- On Mon, 3/2/26, Twofold <twofold@twofold.localhost> wrote:' },
  ])('cuts at a $name quote header', ({ header }) => {
    expect(reply(`done\n\n${header}\n\n${QUOTE}\n`)).toBe('done');
    expect(extractFromPlainText(`done\n${header}\n${QUOTE}`)).toEqual({ text: 'done', trimmed: true });
  });

  it.each([
    { name: 'German (Am … schrieb) over an unquoted original', header: 'Am 02.03.2026 21:11 schrieb "Twofold <twofold@twofold.localhost>:' },
    { name: 'Finnish over two lines', header: 'pe 20. lokakuuta 2017 klo 17.50 Twofold\n<twofold@twofold.localhost> kirjoitti:' },
    { name: 'Portuguese over two lines', header: 'Em 10 de julho de 2017 às 16:32:35, Twofold (\ntwofold@twofold.localhost) escreveu:' },
  ])('cuts an unquoted original under a $name header', ({ header }) => {
    expect(reply(`blocked: waiting on IT\n\n${header}\n\n${ORIGINAL}`)).toBe('blocked: waiting on IT');
  });

  it.each([
    { name: 'Outlook From/Sent/To/Subject', block: 'From: Twofold <twofold@twofold.localhost>\nSent: Monday, March 2, 2026 9:15 AM\nTo: Raj Patel\nSubject: T3' },
    { name: 'Outlook bold *From:*', block: '*From:* Twofold [mailto:twofold@twofold.localhost]\n*Sent:* Monday, March 2, 2026 9:15 AM\n*To:* raj@acme.example\n*Subject:* T3' },
    { name: 'From: Name [mailto:…]', block: 'From: Twofold [mailto:twofold@twofold.localhost]\nSent: March-02-26 9:15 AM\nTo: Raj Patel' },
    { name: 'From wrapped over two lines', block: 'From: Twofold \n<twofold+a-really-long-token@twofold.localhost> \nSent: Monday, March 2, 2026 9:15 AM' },
    { name: 'German Von:/Gesendet:', block: 'Von: Twofold <twofold@twofold.localhost>\nGesendet: Montag, 2. März 2026 09:15\nAn: Raj Patel\nBetreff: T3' },
    { name: 'French De :/Envoyé :', block: 'De : Twofold <twofold@twofold.localhost>\nEnvoyé : lundi 2 mars 2026 09:15\nÀ : Raj Patel\nObjet : T3' },
    { name: 'Dutch Van:/Verzonden:', block: 'Van: Twofold <twofold@twofold.localhost>\nVerzonden: maandag 2 maart 2026 09:15\nAan: Raj Patel\nOnderwerp: T3' },
    { name: 'Norwegian Fra:/Sendt:', block: 'Fra: Twofold <twofold@twofold.localhost>\nSendt: mandag 2. mars 2026 09:15\nTil: Raj Patel\nEmne: T3' },
    { name: 'Swedish Från:/Skickat:', block: 'Från: Twofold <twofold@twofold.localhost>\nSkickat: den 2 mars 2026 09:15\nTill: Raj Patel\nÄmne: T3' },
    { name: 'Spanish De:/Enviado:', block: 'De: Twofold <twofold@twofold.localhost>\nEnviado: lunes, 2 de marzo de 2026 9:15\nPara: Raj Patel\nAsunto: T3' },
    { name: 'Hotmail order Subject/From/To/Date', block: 'Subject: T3\nFrom: twofold@twofold.localhost\nTo: raj@acme.example\nDate: Mon, 2 Mar 2026 09:15:00 +0000' },
    { name: '-----Original Message-----', block: '-----Original Message-----\nFrom: Twofold\nSubject: T3' },
    { name: '----- Original Message -----', block: '----- Original Message -----\nFrom: Twofold' },
    { name: 'German ----- Ursprüngliche Nachricht -----', block: '-----Ursprüngliche Nachricht-----\nVon: Twofold' },
    { name: 'a Gmail forward', block: '---------- Forwarded message ---------\nFrom: Twofold <twofold@twofold.localhost>' },
    { name: 'an underscore rule and a header block', block: '________________________________\nFrom: Twofold <twofold@twofold.localhost>\nSent: Monday, March 2, 2026 9:15 AM' },
    { name: 'a dash rule and a bold header block', block: ' ------------------------------\n\n*From:* Twofold\n*Sent:* Monday' },
  ])('cuts the unquoted original under a $name block', ({ block }) => {
    expect(extractFromPlainText(`due: next friday\n\n${block}\n\n${ORIGINAL}`)).toEqual({ text: 'due: next friday', trimmed: true });
  });

  it('keeps a reply line directly above a wrapped header out of the header', () => {
    expect(reply('done\npe 20. lokakuuta 2017 klo 17.50 Twofold\n<twofold@twofold.localhost> kirjoitti:\n\nThanks!')).toBe('done');
    expect(reply('Hello\n02.04.2012 14:20 пользователь "bob@example.com" <\nbob@example.com> написал:\n\n> Hi')).toBe('Hello');
  });

  it('keeps answers written under the quote (bottom-posting) and between quotes', () => {
    expect(reply(`On Mon, Mar 2, 2026 at 9:15 AM Twofold <twofold@twofold.localhost> wrote:\n${QUOTE}\n\ndone`)).toBe('done');
    expect(reply(`On Mon, Mar 2, 2026 at 9:15 AM Twofold <t@twofold.localhost> wrote:\n> T3 metadata?\nT3 done\n> T4 training?\nT4 due: friday\n`)).toBe('T3 done\nT4 due: friday');
  });

  it('finds nothing new in a message that is only a forwarded original', () => {
    expect(extractFromPlainText(`-----Original Message-----\nFrom: Twofold\n\n${ORIGINAL}`)).toEqual({ text: '', trimmed: true });
  });

  it.each([
    { name: '"One" is not "On"', body: 'One more thing: done\n\nOne question I had:\nwhen?' },
    { name: 'a sentence ending in "wrote:" without a date', body: 'done\n\nHere is what Bob wrote:\nplease check' },
    { name: 'a colon line without a quote below', body: 'note: meeting moved to 14:30 on 3 March:\nroom 2' },
    { name: 'a From: line that is not a header block', body: 'From: next week we start\nthe rollout' },
  ])('does not cut at $name', ({ body }) => {
    expect(extractFromPlainText(body)).toEqual({ text: body, trimmed: false });
  });
});

describe('extractFromPlainText: signatures', () => {
  it.each([
    '-- \nRaj Patel\nIT Director',
    '--\nRaj',
    'Sent from my iPhone',
    'Sent from my iPad',
    'Sent from my Android phone',
    'Sent from my mobile device',
    'Sent from my Samsung Galaxy smartphone.',
    'Get Outlook for iOS<https://aka.ms/o0ukef>',
    'Get Outlook for Android',
    'Sent with Sparrow (http://www.sparrowmailapp.com/?sig)',
    'Sent from Mail for Windows 10',
    'Von meinem iPhone gesendet',
    'Envoyé de mon iPhone',
    'Enviado desde mi iPhone',
    'Verstuurd vanaf mijn iPhone',
    'Inviato da iPhone',
    'Skickat från min iPhone',
    'iPhoneから送信',
    'Best regards,\nRaj Patel\nAcme Logistics',
  ])('cuts the signature %j', (signature) => {
    expect(extractFromPlainText(`blocked: waiting on IT\n\n${signature}\n`)).toEqual({ text: 'blocked: waiting on IT', trimmed: true });
  });

  it('finds no command in a reply that is only a phone signature', () => {
    expect(reply('Sent from my iPhone')).toBe('');
    expect(reply('\n\nVon meinem iPhone gesendet\n\nAm 02.03.2026 um 09:15 schrieb Twofold <t@twofold.localhost>:\n> T3')).toBe('');
  });

  it.each([
    'Sent from my desk, is much easier then my mobile phone.',
    'Sent via FedEx this morning',
    'Sent from the warehouse this morning\nTracking number 1Z999',
    'Sent with the courier, tracking 1Z999',
    'And here is a fix -- this is not a signature.',
    'done -- thanks',
  ])('keeps %j, which is not a signature', (line) => {
    expect(reply(line)).toBe(line);
    expect(reply(`done\n\n${line}`)).toBe(`done\n\n${line}`);
  });
});

describe('extractFromPlainText: what it does to the text itself', () => {
  it('normalises line breaks, no-break spaces and invisible characters', () => {
    expect(reply('done\r\n\u00a0\r\nthanks\u200b\u202e!\r\n')).toBe('done\n\nthanks!');
  });

  it('drops lines of undecodable bytes but keeps words with a wrong-charset letter', () => {
    expect(reply('done\n\ufffd\ufffd[j\u01fa\ufffdZ\ufffd')).toBe('done');
    expect(reply('Gr\ufffd\ufffde, done')).toBe('Gr\ufffd\ufffde, done');
  });

  it(`keeps at most ${MAX_REPLY_CHARS} characters of new text, and says it cut`, () => {
    const long = Array.from({ length: 400 }, (_, i) => `line ${i} of a very long note`).join('\n');
    const result = extractFromPlainText(long);
    expect(result.trimmed).toBe(true);
    expect(result.overLimit).toBe(true);
    expect(extractFromPlainText(`done\n\nOn Mon, Mar 2, 2026 at 9:15 AM Twofold <twofold@twofold.localhost> wrote:\n${long}`).overLimit).toBeUndefined();
    // Past the scan with no quote boundary first: unread reply text, so over the limit too.
    expect(extractFromPlainText(`blocked: waiting on the print shop${' '.repeat(300_000)}\ndue: Dec 18`).overLimit).toBe(true);
    expect(extractFromPlainText(`done\n\nOn Mon, Mar 2, 2026 at 9:15 AM Twofold <twofold@twofold.localhost> wrote:\n${'> history\n'.repeat(40_000)}`)).toEqual({ text: 'done', trimmed: true });
    const image = `<img src="data:image/png;base64,${'A'.repeat(600_000)}">`;
    expect(extractReplyText({ html: `<div>done</div><div>here is the screenshot:</div>${image}<div>blocked: waiting on IT</div>` }).overLimit).toBe(true);
    expect(extractReplyText({ html: `<div>done</div><div class="gmail_quote">${image}</div>` }).overLimit).toBeUndefined();
    expect(result.text.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
    expect(result.text.startsWith('line 0 of a very long note\nline 1')).toBe(true);
  });

  it('returns nothing for an empty or blank body', () => {
    expect(extractFromPlainText('')).toEqual({ text: '', trimmed: false });
    expect(extractFromPlainText(' \n\t\n')).toEqual({ text: '', trimmed: false });
  });
});

describe('extractReplyText', () => {
  it('prefers the text part and falls back to the HTML part', () => {
    expect(extractReplyText({ text: 'done\n', html: '<p>blocked</p>' })).toEqual({ text: 'done', source: 'text', trimmed: false });
    expect(extractReplyText({ text: ' \n', html: '<p>blocked: waiting on IT</p>' })).toEqual({ text: 'blocked: waiting on IT', source: 'html', trimmed: false });
    expect(extractReplyText({})).toEqual({ text: '', source: 'text', trimmed: false });
  });

  it('cuts HTML quote containers and then text-level headers', () => {
    const html = '<div>done</div><div><br></div><div class="gmail_quote"><div class="gmail_attr">On Mon wrote:</div><blockquote>blocked</blockquote></div>';
    expect(extractReplyText({ html })).toEqual({ text: 'done', source: 'html', trimmed: true });
    const outlook = '<p>in progress</p><p><b>From:</b> Twofold<br><b>Sent:</b> Monday<br><b>Subject:</b> T3</p><p>done</p>';
    expect(extractReplyText({ html: outlook })).toEqual({ text: 'in progress', source: 'html', trimmed: true });
  });
});

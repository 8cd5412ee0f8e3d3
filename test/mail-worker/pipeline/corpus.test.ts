/**
 * Every file of the reply corpus goes through parse → classify → extract, and its outcome is
 * the one a person reading the message would give: whether Twofold should act on it, and what
 * the sender newly wrote. The expected texts were decided by reading each fixture (the upstream
 * projects' own expectations are not part of the copy).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../../mail-worker/pipeline/classify-message.ts';
import { dmarcVerdict } from '../../../mail-worker/pipeline/dmarc.ts';
import { extractReplyText } from '../../../mail-worker/pipeline/extract-reply-text.ts';
import { parseMessage, type InboundMessage } from '../../../mail-worker/pipeline/parse-message.ts';
import { CORPUS_DIR, corpusMessages } from '../../helpers/corpus-messages.ts';

const OWN = { ownAddresses: ['twofold@twofold.localhost'] };

// The reply paragraph of the crisp-im fixtures, above their (localized) quote headers.
const FUSCE = [
  'Fusce bibendum, quam hendrerit sagittis tempor, dui turpis tempus erat, pharetra sodales ante sem sit amet metus.',
  'Nulla malesuada, orci non vulputate lobortis, massa felis pharetra ex, convallis consectetur ex libero eget ante.',
  'Nam vel turpis posuere, rhoncus ligula in, venenatis orci. Duis interdum venenatis ex a rutrum.',
  'Duis ut libero eu lectus consequat consequat ut vel lorem. Vestibulum convallis lectus urna,',
  'et mollis ligula rutrum quis. Fusce sed odio id arcu varius aliquet nec nec nibh.',
].join('\n');

const ANDROID_GMAIL = [
  '### this is a reply from Android 5 gmail',
  '',
  'The quick brown fox jumps over the lazy dog. The quick brown fox jumps over',
  'the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown',
  'fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.',
  'The quick brown fox jumps over the lazy dog.',
  '',
  'This is **bold** in Markdown.',
  '',
  'This is a link to http://example.com',
].join('\n');

const BOOKING = [
  "Hi Katharine.  Sounds great.  Are there and dietry restrictions or things your husband does/doesn't like to eat?  Would you like to do a few hors d oeuvres and then a 3 or 4 course dinner?  Let me know what you think will work best and I will start working on a menu and proposal.  Thanks so much and look forward to hearing from you soon.",
  '',
  'Joe XXX',
].join('\n');

interface Expected {
  name: string;
  /** What classify decides. */
  kind: 'process' | 'ignore' | 'calendar-reply';
  code?: string;
  source: 'text' | 'html';
  /** The exact new text. */
  text: string;
  /** Whether quotes or signatures were cut. */
  trimmed: boolean;
  /** What a cut must have removed (proof that the quote or signature went, not just some text). */
  gone?: string[];
}

const CASES: Expected[] = [
  { name: 'discourse-android_gmail.eml', kind: 'process', source: 'text', text: ANDROID_GMAIL, trimmed: true, gone: ['Arpit Jalan', 'Test reply.'] },
  { name: 'discourse-auto_reply.eml', kind: 'ignore', code: 'MAIL_AUTO_REPLY', source: 'text', text: 'Test reply to Discourse email digest', trimmed: false },
  { name: 'discourse-bounced_email.eml', kind: 'ignore', code: 'MAIL_BOUNCE', source: 'text', text: 'Your email bounced', trimmed: false },
  // charset=Big5 on bytes that are UTF-8: read as UTF-8, not as mojibake
  { name: 'discourse-chinese_reply.eml', kind: 'process', source: 'text', text: '您好！ 你今天好吗？', trimmed: false },
  // DMARC is the authenticate step's business (see below): classify processes it
  { name: 'discourse-dmarc_fail.eml', kind: 'process', source: 'text', text: 'Hey, this is a topic from an existing user ;)', trimmed: false },
  // the whole body sits in the section Exchange/Spark use for the quoted original: nothing new
  { name: 'discourse-exchange_html_reply.eml', kind: 'process', source: 'html', text: '', trimmed: true, gone: ['body !!'] },
  { name: 'discourse-hard_bounce_via_verp.eml', kind: 'ignore', code: 'MAIL_BOUNCE', source: 'text', text: 'Your email bounced', trimmed: false },
  // a blank first line and a multipart type without parts: read leniently, the two-line "wrote:" cut
  { name: 'discourse-multiline_wrote.eml', kind: 'process', source: 'text', text: 'Thanks!', trimmed: true, gone: ['You look great today Walter.'] },
  { name: 'email-reply-parser-email_finnish.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['kirjoitti', 'John Coe'] },
  { name: 'email-reply-parser-email_german.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['schrieb', 'Hi there!'] },
  { name: 'email-reply-parser-email_gmail_split_line_from.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['Hiring Engine', 'Respond'] },
  { name: 'email-reply-parser-email_ios_outlook.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['Get Outlook for iOS', 'Chauffeur'] },
  { name: 'email-reply-parser-email_msn.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['____', 'Hi Kevin'] },
  { name: 'email-reply-parser-email_norwegian_gmail.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['skrev', 'Ok. Thanks.'] },
  { name: 'email-reply-parser-email_outlook_split_line_from.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['Human Resources', 'really cool'] },
  { name: 'email-reply-parser-email_portuguese.txt', kind: 'process', source: 'text', text: FUSCE, trimmed: true, gone: ['escreveu', 'Hi there!'] },
  // "-Abhishek Kona" is the sender signing off, not a signature block; the list footer is history
  { name: 'email_reply_parser-email_1_3.txt', kind: 'process', source: 'text', text: 'Oh thanks.\n\nHaving the function would be great.\n\n-Abhishek Kona', trimmed: true, gone: ['riak-users mailing list', 'Russell Brown'] },
  // a custom phone signature below the text, then a three-line attribution
  { name: 'email_reply_parser-email_1_6.txt', kind: 'process', source: 'text', text: 'I get proper rendering as well.', trimmed: true, gone: ['torch of pixels', 'Corey Donohoe'] },
  { name: 'email_reply_parser-email_1_7.txt', kind: 'process', source: 'text', text: ':+1:', trimmed: true, gone: ['Chris Wanstrath', 'Steps 0-2'] },
  // inline answers between quotes are the reply; the trailing "--" signature is not
  { name: 'email_reply_parser-email_1_8.txt', kind: 'process', source: 'text', text: 'I will reply under this one\n\nand under this.', trimmed: true, gone: ['Hey there, this is my signature', 'okay?'] },
  { name: 'email_reply_parser-email_2_1.txt', kind: 'process', source: 'text', text: 'Outlook with a reply', trimmed: true, gone: ['Google Apps Sync', '------'] },
  { name: 'email_reply_parser-email_2_2.txt', kind: 'process', source: 'text', text: 'Outlook with a reply directly above line', trimmed: true, gone: ['CRM Comments', '____'] },
  { name: 'email_reply_parser-email_2_3.txt', kind: 'process', source: 'text', text: 'Outlook with a reply directly above line', trimmed: true, gone: ['CRM Comments', 'new comment'] },
  // "One outstanding question" must not be taken for an "On … wrote:" header
  { name: 'email_reply_parser-email_one_is_not_on.txt', kind: 'process', source: 'text', text: 'Thank, this is really helpful.\n\nOne outstanding question I had:\n\nLocally (on development), when I run...', trimmed: true, gone: ['Dave Tapley', 'lastLocation'] },
  { name: 'email_reply_parser-email_sent_from_my_not_signature.txt', kind: 'process', source: 'text', text: 'Here is another email\n\nSent from my desk, is much easier then my mobile phone.', trimmed: false },
  { name: 'email_reply_parser-email_sig_delimiter_in_middle_of_line.txt', kind: 'process', source: 'text', text: 'Hi there!\n\nStuff happened.\n\nAnd here is a fix -- this is not a signature.\n\nkthxbai', trimmed: false },
  // base64 UTF-8, Russian attribution wrapped over two lines
  { name: 'talon-android.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['написал', 'Hi'] },
  { name: 'talon-aol.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Original Message'] },
  { name: 'talon-apple_mail.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['bob wrote'] },
  { name: 'talon-comcast.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Original Message'] },
  { name: 'talon-gmail.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Megan One'] },
  { name: 'talon-hotmail.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Subject: Test'] },
  // "Sent from my iPhone", then an attribution split by a quoted-printable soft break
  { name: 'talon-iphone.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Sent from my iPhone', 'wrote'] },
  { name: 'talon-ms_outlook_2010.html', kind: 'process', source: 'html', text: 'Hi. I am fine.\nThanks,\nAlex', trimmed: true, gone: ['On Behalf Of', 'How are you'] },
  { name: 'talon-outlook.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['mailto:', 'Loop details'] },
  { name: 'talon-reply-quotations-share-block.eml', kind: 'process', source: 'text', text: BOOKING, trimmed: true, gone: ['New Booking Inquiry', 'wrote:'] },
  { name: 'talon-sparrow.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Sparrow', 'xxx'] },
  // bottom-posted under the quote
  { name: 'talon-thunderbird.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Megan One', 'Hi'] },
  // Windows Mail: header block in a div with a top border, in Russian
  { name: 'talon-windows_mail.html', kind: 'process', source: 'html', text: 'Hi. I am fine.\n\nThanks,\nAlex', trimmed: true, gone: ['От:', 'How are you'] },
  { name: 'talon-yahoo.eml', kind: 'process', source: 'text', text: 'Hello', trimmed: true, gone: ['Original Message'] },
];

const messages = new Map(corpusMessages().map((m) => [m.name, m.raw]));

async function parsed(name: string): Promise<InboundMessage> {
  const raw = messages.get(name);
  if (!raw) throw new Error(`${name} is not in test/fixtures/corpus/replies`);
  const result = await parseMessage(raw);
  if (!result.ok) throw new Error(`${name}: ${result.code} ${result.message}`);
  return result.message;
}

describe('the reply corpus', () => {
  it('has an expected outcome for every file of the corpus, and nothing else', () => {
    const files = readdirSync(CORPUS_DIR).filter((name) => name !== 'SOURCES.md').sort();
    expect(CASES.map((c) => c.name).sort()).toEqual(files);
  });

  it('is a byte-for-byte copy of the shared corpus, with its sources and licences', () => {
    const sources = readFileSync(`${CORPUS_DIR}SOURCES.md`, 'utf8');
    for (const c of CASES) expect(sources).toContain(`\`${c.name}\``);
    expect(sources).toMatch(/license/i);
  });

  it.each(CASES)('$name: $kind', async (c) => {
    const message = await parsed(c.name);
    const verdict = classifyMessage(message, OWN);
    expect(verdict.kind).toBe(c.kind);
    if (c.code) expect(verdict).toMatchObject({ code: c.code });
    const reply = extractReplyText(message);
    expect(reply).toEqual({ text: c.text, source: c.source, trimmed: c.trimmed });
    for (const cut of c.gone ?? []) expect(reply.text).not.toContain(cut);
    // and the cut text was really in the message: the expectation is not vacuous
    for (const cut of c.gone ?? []) expect(`${message.text ?? ''}${message.html ?? ''}`).toContain(cut);
  });
});

describe('what the corpus shows besides the reply text', () => {
  it('reads the Big5-labelled UTF-8 body as UTF-8 and says so', async () => {
    const message = await parsed('discourse-chinese_reply.eml');
    expect(message.repairs).toEqual(['body labelled Big5 read as UTF-8']);
  });

  it('decodes iso-8859-1, quoted-printable soft breaks and format=flowed as the client meant', async () => {
    expect((await parsed('talon-iphone.eml')).text).toContain('bob <bob@example.com> wrote:');
    expect((await parsed('talon-thunderbird.eml')).text).toBe('On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi \nHello');
    expect((await parsed('email_reply_parser-email_2_1.txt')).text).toContain('Microsoft Outlook®');
  });

  it('finds the same reply in the HTML alternative as in the text part', async () => {
    for (const name of ['talon-gmail.eml', 'talon-android.eml', 'talon-aol.eml', 'talon-comcast.eml', 'talon-hotmail.eml', 'talon-sparrow.eml']) {
      const message = await parsed(name);
      expect(extractReplyText({ html: message.html as string }), name).toEqual({ text: 'Hello', source: 'html', trimmed: true });
    }
  });

  it('tells a DSN sent to a VERP address from a reply', async () => {
    const verdict = classifyMessage(await parsed('discourse-hard_bounce_via_verp.eml'), OWN);
    expect(verdict).toEqual({ kind: 'ignore', code: 'MAIL_BOUNCE', reason: 'a delivery-status report (multipart/report)' });
    const plainVerp = classifyMessage({ ...(await parsed('discourse-dmarc_fail.eml')), recipients: ['foo+verp-14b08c855160d67f2e0c2f8ef36e251e@discourse.org'] }, OWN);
    expect(plainVerp).toMatchObject({ kind: 'ignore', code: 'MAIL_BOUNCE' });
  });

  it('reads the dmarc=fail of the fixture only when its authserv-id is the trusted one', async () => {
    const message = await parsed('discourse-dmarc_fail.eml');
    expect(dmarcVerdict(message, { authservId: 'example.com' })).toMatchObject({ verdict: 'fail', code: 'MAIL_DMARC_FAIL' });
    expect(dmarcVerdict(message, { authservId: 'mx.twofold.example' }).verdict).toBe('none');
  });
});

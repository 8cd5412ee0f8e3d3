import { describe, expect, it } from 'vitest';
import { decodeEntities } from '../../../mail-worker/pipeline/html-entities.ts';
import { htmlReplyToText, htmlToText, MAX_HTML_CHARS } from '../../../mail-worker/pipeline/html-to-text.ts';

describe('htmlToText', () => {
  it.each([
    { name: 'blocks become lines', html: '<div>done</div><div>T4 blocked: IT</div>', text: 'done\nT4 blocked: IT' },
    { name: 'br is a line break, an empty div with br a blank line', html: 'a<br>b<div><br></div><div>c</div>', text: 'a\nb\n\nc' },
    { name: 'white space collapses outside pre', html: '<p>  done \n\t and   dusted </p>', text: 'done and dusted' },
    { name: 'pre keeps its lines', html: '<pre>T3 done\nT4 due: friday</pre>', text: 'T3 done\nT4 due: friday' },
    { name: 'script, style, head and title are dropped', html: '<html><head><title>x</title><style>p{}</style></head><body><script>alert(1)</script><p>done</p></body></html>', text: 'done' },
    { name: 'comments and conditional comments are dropped', html: '<!--[if gte mso 9]><xml><o:x/></xml><![endif]--><p>done<!-- hidden --></p>', text: 'done' },
    { name: 'hidden elements are dropped', html: '<div style="display: none">preheader</div><span hidden>x</span><p>done</p>', text: 'done' },
    { name: 'entities are decoded', html: '<p>R&amp;D &lt;ok&gt; caf&eacute; &#8211; &#x1F44D; &rsquo;&nbsp;&euro;5</p>', text: 'R&D <ok> café – 👍 ’\u00a0€5' },
    { name: 'table cells are spaced, rows are lines', html: '<table><tr><td>T3</td><td>done</td></tr><tr><td>T4</td><td>due</td></tr></table>', text: 'T3 done\nT4 due' },
    { name: 'Outlook empty paragraphs are blank lines', html: '<p class=MsoNormal>Hi<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Thanks</p>', text: 'Hi\n\nThanks' },
    { name: 'a stray < is text', html: '<p>a < b and 3<4</p>', text: 'a < b and 3<4' },
    { name: 'unclosed tags end with the input', html: '<div><p>done', text: 'done' },
  ])('$name', ({ html, text }) => {
    expect(htmlToText(html)).toBe(text);
  });
});

describe('htmlReplyToText: cutting the quoted history', () => {
  it.each([
    { name: 'Gmail gmail_quote', html: '<div dir="ltr">done</div><br><div class="gmail_quote"><div class="gmail_attr">On Mon wrote:<br></div><blockquote class="gmail_quote">T3</blockquote></div>' },
    { name: 'Apple Mail blockquote type=cite', html: '<div>done</div><div><br><blockquote type="cite"><div>On Mar 2, Twofold wrote:</div>T3</blockquote></div>' },
    { name: 'Thunderbird moz-cite-prefix', html: '<p>done</p><div class="moz-cite-prefix">On 02/03/2026 09:15, Twofold wrote:<br></div><blockquote type="cite">T3</blockquote>' },
    { name: 'Yahoo yahoo_quoted', html: '<div>done</div><div class="yahoo_quoted"><div>On Monday, Twofold wrote:</div>T3</div>' },
    { name: 'Outlook divRplyFwdMsg (original follows as siblings)', html: '<div>done</div><hr><div id="divRplyFwdMsg"><b>From:</b> Twofold</div><div>T3 original</div>' },
    { name: 'Outlook appendonsend', html: '<div>done</div><div id="appendonsend"></div><hr><div>From: Twofold</div><div>T3 original</div>' },
    { name: 'Outlook x_ prefixed ids (reply of a reply)', html: '<div>done</div><div id="x_divRplyFwdMsg">From: Twofold</div><div>T3 original</div>' },
    { name: 'old Outlook OutlookMessageHeader', html: '<div>done</div><div class="OutlookMessageHeader">From: Twofold</div><div>T3 original</div>' },
    { name: 'Exchange/Spark messageReplySection', html: '<div>done</div><div name="messageReplySection">On Mar 2, Twofold wrote:<blockquote>T3</blockquote></div>' },
    { name: 'Outlook desktop border-top header div', html: '<p>done</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in"><p><b>From:</b> Twofold<br><b>Sent:</b> Monday</p></div><p>T3 original</p>' },
    { name: 'German Outlook border-top header div', html: '<p>done</p><div style="border-top-style: solid; border-top-width: 1px"><b>Von:</b> Twofold</div><p>T3 original</p>' },
    { name: 'Zimbra hr#zwchr', html: '<div>done<br><hr id="zwchr"><b>From: </b>Twofold<br>T3 original</div>' },
  ])('cuts at $name', ({ html }) => {
    expect(htmlReplyToText(html)).toEqual({ text: 'done', cut: true });
    expect(htmlToText(html)).toContain('T3'); // the cut part was there
  });

  it('keeps a div with a top border that is not a header block', () => {
    const html = '<p>done</p><div style="border-top: 1px solid #ccc">Raj Patel, IT Director</div>';
    expect(htmlReplyToText(html)).toEqual({ text: 'done\nRaj Patel, IT Director', cut: false });
  });

  it('skips marked signature blocks wherever they are', () => {
    expect(htmlReplyToText('<div>done</div><div id="Signature">Raj Patel | IT</div>')).toEqual({ text: 'done', cut: true });
    expect(htmlReplyToText('<div>done</div><div class="gmail_signature" data-smartmail="gmail_signature">Raj</div>')).toEqual({ text: 'done', cut: true });
    expect(htmlReplyToText('<div name="messageSignatureSection">Ani</div><div>done</div>')).toEqual({ text: 'done', cut: true });
  });

  it('keeps the answer under a quote when nothing comes before it (bottom-posting)', () => {
    const html = '<div class="moz-cite-prefix">On 02/03/2026, Twofold wrote:</div><blockquote type="cite">T3 original</blockquote><p>done</p>';
    expect(htmlReplyToText(html)).toEqual({ text: 'done', cut: true });
  });

  it('finds nothing new when the message starts with the Outlook header of the original', () => {
    expect(htmlReplyToText('<div id="divRplyFwdMsg">From: Twofold</div><div>done</div>')).toEqual({ text: '', cut: true });
  });

  it('skips a plain blockquote where it stands: what it quotes never acts, the lines after it still do', () => {
    expect(htmlReplyToText('<blockquote>done</blockquote>')).toEqual({ text: '', cut: true });
    expect(htmlReplyToText('<div>blocked: waiting on IT</div><blockquote><div>done</div></blockquote>')).toEqual({ text: 'blocked: waiting on IT', cut: true });
    expect(htmlReplyToText('<div>note: the printer says</div><blockquote>done</blockquote><div>blocked: waiting on the printer</div>')).toEqual({ text: 'note: the printer says\nblocked: waiting on the printer', cut: true });
  });
});

describe('hostile HTML', () => {
  it.each([
    { name: 'deep nesting', html: `${'<div>'.repeat(50_000)}done${'</div>'.repeat(50_000)}` },
    { name: 'thousands of unmatched end tags', html: `done${'</span>'.repeat(100_000)}` },
    { name: 'an unterminated attribute', html: `<p>done</p><div title="${'x'.repeat(200_000)}` },
    { name: 'an unterminated comment', html: `<p>done</p><!--${'-'.repeat(200_000)}` },
    { name: 'a raw-text element never closed', html: `<p>done</p><style>${'</a>'.repeat(50_000)}` },
    { name: 'many attributes', html: `<p ${'a=1 '.repeat(100_000)}>done</p>` },
  ])('converts $name quickly and without throwing', ({ html }) => {
    const started = performance.now();
    const result = htmlReplyToText(html);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.text.startsWith('done') || result.text === '').toBe(true);
  });

  it(`reads at most ${MAX_HTML_CHARS} characters of HTML`, () => {
    const html = `<p>done</p>${'<p>x</p>'.repeat(MAX_HTML_CHARS / 8)}<p>tail</p>`;
    expect(htmlToText(html)).not.toContain('tail');
  });

  it('leaves unknown and malformed character references as written', () => {
    expect(decodeEntities('&bogus; &#xZZ; &#0; &#55296; &amp &copy2026 &#150;')).toBe('&bogus; &#xZZ; \ufffd \ufffd & &copy2026 –');
  });
});

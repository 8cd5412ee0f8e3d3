/**
 * The one email renderer: each block to a phone-width text part and a small, escaped HTML part.
 */
import { describe, expect, it } from 'vitest';
import { REPLY_COMMAND_LINES, renderEmail, safeHref, sentence, TEXT_WIDTH, wrap, type EmailBlock } from '../../../mail-worker/mail/email-layout.ts';
import { REPLY_GRAMMAR_HELP } from '../../../site/core/reply/reply-grammar.ts';

const LONG_URL = 'https://plans.kestrelbyte.example/p/ummxo6y5njoi7lcusm6imfmxmi/#u=pngi4hm2c3lyg.mif2pd5ppujfs3shlrh5u2odjy';

describe('wrap', () => {
  it.each([
    { name: 'a short line stays', line: 'T3: Share the file', expected: ['T3: Share the file'] },
    { name: 'a long line breaks at spaces', line: 'Connect the Corvina Rx dispensing feed so alerts open urgent tickets', expected: ['Connect the Corvina Rx dispensing feed', 'so alerts open urgent tickets'] },
    { name: 'a URL longer than the width stays whole', line: `Open: ${LONG_URL} now`, expected: ['Open:', LONG_URL, 'now'] },
    { name: 'an empty line stays one empty line', line: '', expected: [''] },
    { name: 'runs of spaces collapse', line: 'a    b', expected: ['a b'] },
  ])('$name', ({ line, expected }) => {
    expect(wrap(line)).toEqual(expected);
    for (const out of wrap(line)) if (out.includes(' ')) expect(out.length).toBeLessThanOrEqual(TEXT_WIDTH);
  });
});

describe('renderEmail', () => {
  const blocks: EmailBlock[] = [
    { kind: 'heading', text: 'T3: Share the SSO metadata file' },
    { kind: 'fields', fields: [{ label: 'Due', value: 'Mon, Dec 14, 2026' }] },
    { kind: 'commands', intro: 'Reply to this email with one line:', lines: ['done', 'blocked: <what it is waiting on>'] },
    { kind: 'paragraph', text: 'First paragraph,\nstill the first.\n\nSecond paragraph.' },
    { kind: 'list', items: ['T2: blocked → done', 'a long item that has to wrap onto a second line of text'] },
    { kind: 'tasks', title: 'Technical setup', tasks: [{ id: 'T10', title: 'Connect the feed', facts: ['due Mon, Nov 30, 2026', '3 days overdue'], flag: 'overdue' }] },
    { kind: 'quote', label: 'You wrote:', text: 'blocked\nthanks' },
    { kind: 'button', label: 'Open the plan', url: LONG_URL, note: 'This link is yours.' },
    { kind: 'footer', lines: ['Sent by Twofold.', 'Docs: https://twofold.example/help'] },
  ];

  it('writes the text part for a phone: blocks apart, quotes marked, the footer after "-- "', () => {
    const { text } = renderEmail(blocks);
    expect(text).toBe(
      [
        'T3: Share the SSO metadata file',
        '',
        'Due: Mon, Dec 14, 2026',
        '',
        'Reply to this email with one line:',
        'done',
        'blocked: <what it is waiting on>',
        '',
        'First paragraph, still the first.',
        '',
        'Second paragraph.',
        '',
        '- T2: blocked → done',
        '- a long item that has to wrap onto a',
        '  second line of text',
        '',
        'Technical setup',
        '',
        'T10: Connect the feed',
        'due Mon, Nov 30, 2026 · 3 days overdue',
        '',
        'You wrote:',
        '> blocked',
        '> thanks',
        '',
        'Open the plan:',
        LONG_URL,
        'This link is yours.',
        '',
        '-- ',
        'Sent by Twofold.',
        'Docs: https://twofold.example/help',
        '',
      ].join('\n'),
    );
  });

  it('writes the HTML part with inline styles only, every value escaped', () => {
    const { html } = renderEmail(blocks, { title: 'Subject <b>' });
    expect(html).toMatch(/^<!doctype html><html><head><meta charset="utf-8">/);
    expect(html).toContain('<title>Subject &lt;b&gt;</title>');
    expect(html).toContain('blocked: &lt;what it is waiting on&gt;');
    expect(html).toContain(`<a href="${LONG_URL}" style="`);
    expect(html).toContain('<a href="https://twofold.example/help" style="');
    expect(html).toContain('border-left-color:#c62828;');
    expect(html).not.toMatch(/<(style|link|img|script)\b|class=/);
  });

  it.each([
    { name: 'control characters', input: 'a\u0000b\u0007c\u001bd', text: 'a b c d' },
    { name: 'bidi overrides and zero-width characters', input: 'pay\u202Eexe.txt\u200B', text: 'pay exe.txt' },
    { name: 'CR/LF inside a heading', input: 'T1\r\nBcc: x@evil.example', text: 'T1 Bcc: x@evil.example' },
  ])('cleans $name from both parts', ({ input, text }) => {
    const out = renderEmail([{ kind: 'heading', text: input }]);
    expect(out.text).toBe(`${text}\n`);
    expect(out.html).toContain(`<h1 style="margin:0 0 12px;font-size:19px;line-height:1.3;font-weight:600;color:#111111;">${text}</h1>`);
  });

  it('shows a link that is not http(s) or mailto as text, never as a link', () => {
    const out = renderEmail([{ kind: 'button', label: 'Link for this task', url: 'javascript:alert(1)' }]);
    expect(out.html).not.toContain('<a ');
    expect(out.html).toContain('Link for this task: javascript:alert(1)');
  });
});

describe('safeHref', () => {
  it.each([
    { url: 'https://example.com/a?b=1#c', ok: true },
    { url: 'http://localhost:4321/p/x/', ok: true },
    { url: 'mailto:raj@acme.example', ok: true },
    { url: 'javascript:alert(1)', ok: false },
    { url: 'JaVaScRiPt:alert(1)', ok: false },
    { url: ' javascript:alert(1)', ok: false },
    { url: 'data:text/html,<script>alert(1)</script>', ok: false },
    { url: 'vbscript:msgbox', ok: false },
    { url: '/relative/path', ok: false },
  ])('$url → $ok', ({ url, ok }) => {
    expect(safeHref(url) !== undefined).toBe(ok);
  });
});

describe('the words the layout borrows', () => {
  it('takes the reply commands from the grammar help, not a copy', () => {
    expect(REPLY_GRAMMAR_HELP).toContain(REPLY_COMMAND_LINES.join('\n'));
    expect(REPLY_COMMAND_LINES[0]).toBe('done');
    expect(REPLY_COMMAND_LINES).toContain('help');
  });

  it.each([
    { input: 'the token expired', expected: 'The token expired.' },
    { input: 'what is it waiting on?', expected: 'What is it waiting on?' },
    { input: 'its tasks are T1, T2, …', expected: 'Its tasks are T1, T2, …' },
  ])('makes "$input" a sentence', ({ input, expected }) => {
    expect(sentence(input)).toBe(expected);
  });
});

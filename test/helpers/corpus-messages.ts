/**
 * The reply corpus (test/fixtures/corpus/replies, a copy of ../shared/corpus) as raw messages.
 * `.eml` files are messages already; `.txt` files are bodies, wrapped here as text/plain
 * messages, and `.html` files HTML bodies, wrapped as text/html-only messages — the way a mail
 * client would have sent them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = fileURLToPath(new URL('../fixtures/corpus/replies/', import.meta.url));
export const MAIL_FIXTURES_DIR = fileURLToPath(new URL('../fixtures/mail/', import.meta.url));

export interface RawFixture {
  name: string;
  raw: Buffer;
}

/** Every message file of the corpus (SOURCES.md aside), wrapped where it is a bare body. */
export function corpusMessages(): RawFixture[] {
  return readdirSync(CORPUS_DIR)
    .filter((name) => /\.(eml|txt|html)$/.test(name))
    .sort()
    .map((name) => ({ name, raw: asMessage(name, readFileSync(CORPUS_DIR + name)) }));
}

/** Every `.eml` under test/fixtures/mail. */
export function mailFixtures(): RawFixture[] {
  return readdirSync(MAIL_FIXTURES_DIR)
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .map((name) => ({ name, raw: readFileSync(MAIL_FIXTURES_DIR + name) }));
}

export function asMessage(name: string, body: Buffer): Buffer {
  if (name.endsWith('.eml')) return body;
  const type = name.endsWith('.html') ? 'text/html' : 'text/plain';
  return Buffer.concat([Buffer.from(wrapperHead(type), 'utf8'), body]);
}

/** A message head like a mail client writes, for a body of the given type (8-bit UTF-8). */
export function wrapperHead(type: string, extra = ''): string {
  return [
    'From: Raj Patel <raj@acme.example>',
    'To: twofold+token@twofold.localhost',
    'Subject: Re: [Acme Logistics] T3 Send the SSO metadata',
    'Date: Tue, 3 Mar 2026 08:41:12 -0600',
    'MIME-Version: 1.0',
    `Content-Type: ${type}; charset=utf-8`,
    'Content-Transfer-Encoding: 8bit',
    ...(extra ? [extra] : []),
    '',
    '',
  ].join('\r\n');
}

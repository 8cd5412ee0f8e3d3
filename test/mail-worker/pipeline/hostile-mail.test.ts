/**
 * Fuzzing the mail-reading half of the pipeline: random bytes, and every corpus and fixture
 * message truncated, with bytes flipped, with headers and MIME boundaries mutated. Seeded, so a
 * failure reproduces. For every case: parse returns (a message or a typed failure) and never
 * throws, classify and extract never throw, all of it within a time bound, and the extracted
 * text never holds a word that is not in the message — garbage cannot produce a command from
 * nowhere.
 */
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../../mail-worker/pipeline/classify-message.ts';
import { dmarcVerdict } from '../../../mail-worker/pipeline/dmarc.ts';
import { extractReplyText, normaliseText } from '../../../mail-worker/pipeline/extract-reply-text.ts';
import { htmlToText } from '../../../mail-worker/pipeline/html-to-text.ts';
import { parseMessage } from '../../../mail-worker/pipeline/parse-message.ts';
import { corpusMessages, mailFixtures } from '../../helpers/corpus-messages.ts';

const SEED = 0x7f0_1d;
const CASE_TIME_LIMIT_MS = 2_000;
const MIN_CASES = 2_000;
const FAILURE_CODES = new Set(['MAIL_MALFORMED', 'MAIL_PARSE_TIMEOUT', 'MAIL_MESSAGE_TOO_LARGE']);

/** mulberry32: small, fast, and the same sequence on every run for a seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}

type Rng = ReturnType<typeof prng>;

interface Case {
  family: string;
  label: string;
  raw: Buffer;
}

const CONTENT_TYPES = [
  'multipart/mixed',
  'multipart/mixed; boundary=""',
  'multipart/alternative; boundary="x"',
  'multipart/report; report-type=delivery-status; boundary=zz',
  'text/html; charset=utf-7',
  'text/plain; charset=big5',
  'text/plain; charset=iso-2022-jp',
  'text/plain; charset=utf-16',
  'text/plain; charset=x-no-such-charset',
  'text/plain; format=flowed; delsp=yes',
  'text/calendar; method=REPLY',
  'message/rfc822',
  'application/octet-stream',
  'multipart/related; boundary="' + 'b'.repeat(200) + '"',
];
const TRANSFER_ENCODINGS = ['base64', 'quoted-printable', 'x-uuencode', '8bit', 'binary', 'garbage'];
const HEADER_GARBAGE = ['', ':', '\u0000', '=?utf-8?B?ZG9uZQ==?=', '=?x?q?=ZZ?=', '<>', 'a'.repeat(5000), '\r\n\r\n', '(((', '"'];

function splitHead(raw: Buffer): { head: string; body: Buffer } {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  if (end < 0) return { head: text, body: Buffer.alloc(0) };
  return { head: text.slice(0, end), body: raw.subarray(Buffer.byteLength(text.slice(0, end), 'latin1')) };
}

function join(head: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

function mutateHeader(raw: Buffer, rng: Rng): Buffer {
  const { head, body } = splitHead(raw);
  const lines = head.split(/\r?\n/);
  const k = rng.int(lines.length);
  const line = lines[k] ?? '';
  switch (rng.int(7)) {
    case 0:
      lines.splice(k, 1);
      break;
    case 1:
      lines.splice(k, 0, ...Array.from({ length: 50 }, () => line));
      break;
    case 2:
      lines[k] = line.replace(':', '');
      break;
    case 3:
      lines[k] = `${line.split(':')[0] ?? 'X'}: ${rng.pick(HEADER_GARBAGE)}`;
      break;
    case 4:
      lines[k] = `${line.slice(0, rng.int(line.length + 1))}\r\n${line.slice(rng.int(line.length + 1))}`;
      break;
    case 5:
      lines.splice(k, 0, rng.pick(['Auto-Submitted: no', 'Content-Type: multipart/mixed', 'Date: \u0000', 'From: <>', 'Message-ID:', 'Authentication-Results: ;;;dmarc=']));
      break;
    default:
      lines[k] = `${line}\u0000${rng.pick(HEADER_GARBAGE)}`;
  }
  return join(lines.join('\r\n'), body);
}

function mutateContentType(raw: Buffer, rng: Rng): Buffer {
  const { head, body } = splitHead(raw);
  const replaced = head.replace(/^content-type[ \t]*:.*(?:\r?\n[ \t].*)*/im, `Content-Type: ${rng.pick(CONTENT_TYPES)}`);
  return join(replaced === head ? `Content-Type: ${rng.pick(CONTENT_TYPES)}\r\n${head}` : replaced, body);
}

function mutateTransferEncoding(raw: Buffer, rng: Rng): Buffer {
  const text = raw.toString('latin1');
  const encoding = rng.pick(TRANSFER_ENCODINGS);
  const replaced = text.replace(/^content-transfer-encoding[ \t]*:.*$/gim, `Content-Transfer-Encoding: ${encoding}`);
  if (replaced !== text) return Buffer.from(replaced, 'latin1');
  const { head, body } = splitHead(raw);
  return join(`${head}\r\nContent-Transfer-Encoding: ${encoding}`, body);
}

function mutateBoundary(raw: Buffer, rng: Rng): Buffer {
  const text = raw.toString('latin1');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(text)?.[1];
  if (!boundary) return mutateContentType(raw, rng);
  const delimiter = `--${boundary}`;
  switch (rng.int(5)) {
    case 0: // the closing delimiter is gone
      return Buffer.from(text.split(`${delimiter}--`).join(''), 'latin1');
    case 1: // one delimiter renamed
      return Buffer.from(text.replace(delimiter, `--${boundary}X`), 'latin1');
    case 2: {
      // a part repeated many times
      const start = text.indexOf(delimiter);
      const next = text.indexOf(delimiter, start + delimiter.length);
      if (start < 0 || next < 0) return Buffer.from(text.replace(boundary, ''), 'latin1');
      const part = text.slice(start, next);
      return Buffer.from(text.slice(0, start) + part.repeat(100) + text.slice(start), 'latin1');
    }
    case 3: // a part nested in a multipart with the same boundary
      return Buffer.from(text.replace(`${delimiter}\r\n`, `${delimiter}\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${delimiter}\r\n`), 'latin1');
    default: // the boundary parameter emptied
      return Buffer.from(text.replace(/boundary="?[^";\r\n]+"?/i, 'boundary=""'), 'latin1');
  }
}

function buildCases(): Case[] {
  const rng = prng(SEED);
  const sources = [...corpusMessages(), ...mailFixtures()];
  const cases: Case[] = [];
  for (const { name, raw } of sources) {
    for (let i = 0; i < 5; i++) {
      const at = rng.int(raw.length + 1);
      cases.push({ family: 'truncated', label: `${name} cut at ${at}`, raw: raw.subarray(0, at) });
    }
    for (let i = 0; i < 5; i++) {
      const copy = Buffer.from(raw);
      const flips = 1 + rng.int(16);
      for (let f = 0; f < flips && copy.length > 0; f++) copy[rng.int(copy.length)] = rng.int(256);
      cases.push({ family: 'bytes flipped', label: `${name} #${i} (${flips} bytes)`, raw: copy });
    }
    for (let i = 0; i < 3; i++) {
      const at = rng.int(raw.length + 1);
      cases.push({ family: 'garbage inserted', label: `${name} at ${at}`, raw: Buffer.concat([raw.subarray(0, at), rng.bytes(1 + rng.int(512)), raw.subarray(at)]) });
    }
    for (let i = 0; i < 5; i++) cases.push({ family: 'header mutated', label: `${name} #${i}`, raw: mutateHeader(raw, rng) });
    for (let i = 0; i < 3; i++) cases.push({ family: 'content type mutated', label: `${name} #${i}`, raw: mutateContentType(raw, rng) });
    for (let i = 0; i < 3; i++) cases.push({ family: 'boundary mutated', label: `${name} #${i}`, raw: mutateBoundary(raw, rng) });
    for (let i = 0; i < 2; i++) cases.push({ family: 'transfer encoding mutated', label: `${name} #${i}`, raw: mutateTransferEncoding(raw, rng) });
  }
  for (let i = 0; i < 200; i++) cases.push({ family: 'random bytes', label: `#${i}`, raw: rng.bytes(rng.int(4096)) });
  const alphabet = 'abcdefghijklmnopqrstuvwxyz:;<>@=?-\r\n\t "done blocked due note';
  for (let i = 0; i < 200; i++) {
    const length = rng.int(2048);
    const text = Array.from({ length }, () => alphabet[rng.int(alphabet.length)]).join('');
    cases.push({ family: 'random header-like text', label: `#${i}`, raw: Buffer.from(text, 'latin1') });
  }
  return cases;
}

/** How the cases ended, to prove the fuzz reaches the extractor and not only the parser. */
const tally = { parsed: 0, refused: 0, withText: 0, garbageNotProcessed: 0 };

/** What went wrong with one case, or undefined. */
async function check(raw: Buffer, garbage: boolean): Promise<string | undefined> {
  const started = performance.now();
  try {
    const result = await parseMessage(raw);
    if (!result.ok) {
      tally.refused++;
      if (garbage) tally.garbageNotProcessed++;
      if (!FAILURE_CODES.has(result.code)) return `unexpected failure code ${result.code}`;
      if (!/^[0-9a-f]{64}$/.test(result.digest)) return 'failure without a digest';
    } else {
      tally.parsed++;
      const message = result.message;
      const verdict = classifyMessage(message, { ownAddresses: ['twofold@twofold.localhost'] });
      if (garbage && verdict.kind === 'process') return `random bytes were taken for a reply (${JSON.stringify(message.headers.names())})`;
      if (garbage) tally.garbageNotProcessed++;
      dmarcVerdict(message, { authservId: 'mx.twofold.example' });
      const reply = extractReplyText(message);
      const source = normaliseText(reply.source === 'html' ? htmlToText(message.html ?? '') : (message.text ?? ''));
      const invented = reply.text.split(/\s+/).filter((word) => word !== '' && !source.includes(word));
      if (invented.length > 0) return `extracted words that are not in the message: ${JSON.stringify(invented.slice(0, 5))}`;
      if (reply.text !== '') tally.withText++;
    }
  } catch (err) {
    return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
  const elapsed = performance.now() - started;
  return elapsed > CASE_TIME_LIMIT_MS ? `took ${Math.round(elapsed)} ms` : undefined;
}

const CASES = buildCases();
const FAMILIES = [...new Set(CASES.map((c) => c.family))];

describe('hostile mail', () => {
  it(`tries at least ${MIN_CASES} seeded cases over every corpus and fixture message`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(MIN_CASES);
    expect(FAMILIES).toHaveLength(9);
  });

  it.each(FAMILIES)('%s: parse, classify and extract return in time, and invent nothing', async (family) => {
    const failures: string[] = [];
    for (const c of CASES.filter((x) => x.family === family)) {
      const problem = await check(c.raw, family === 'random bytes');
      if (problem) failures.push(`${c.label}: ${problem}`);
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('reached the extractor with most mutated messages, and acted on no random bytes', () => {
    expect(tally.parsed + tally.refused).toBe(CASES.length);
    expect(tally.parsed).toBeGreaterThan(CASES.length / 2);
    expect(tally.withText).toBeGreaterThan(CASES.length / 3);
    expect(tally.garbageNotProcessed).toBe(CASES.filter((c) => c.family === 'random bytes').length);
  });
});

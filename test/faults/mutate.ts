/**
 * Seeded randomness and message mutations for the fuzz tests of test/faults/: the same seed
 * gives the same cases on every run, so a failure names a case that reproduces.
 */

/** mulberry32: small, fast, and the same sequence on every run for a seed. */
export function prng(seed: number) {
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
  const text = (alphabet: string | readonly string[], length: number) => Array.from({ length }, () => pick(typeof alphabet === 'string' ? [...alphabet] : alphabet)).join('');
  return { next, int, pick, bytes, text };
}

export type Rng = ReturnType<typeof prng>;

const HEADER_GARBAGE = ['', ':', '\u0000', '=?utf-8?B?ZG9uZQ==?=', '=?x?q?=ZZ?=', '<>', 'a'.repeat(3000), '\r\n\r\n', '(((', '"', '=?UTF-8?Q?done=0D=0ABcc:_x@evil.example?='];

export function splitHead(raw: Buffer): { head: string; body: Buffer } {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  if (end < 0) return { head: text, body: Buffer.alloc(0) };
  return { head: text.slice(0, end), body: raw.subarray(end) };
}

function join(head: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export function truncate(raw: Buffer, rng: Rng): Buffer {
  return raw.subarray(0, rng.int(raw.length + 1));
}

export function flipBytes(raw: Buffer, rng: Rng, region: 'anywhere' | 'head' | 'body' = 'anywhere'): Buffer {
  const copy = Buffer.from(raw);
  const { head } = splitHead(raw);
  const headLength = Buffer.byteLength(head, 'latin1');
  const [from, to] = region === 'head' ? [0, headLength] : region === 'body' ? [headLength, copy.length] : [0, copy.length];
  if (to <= from) return copy;
  const flips = 1 + rng.int(12);
  for (let i = 0; i < flips; i++) copy[from + rng.int(to - from)] = rng.int(256);
  return copy;
}

export function insertGarbage(raw: Buffer, rng: Rng): Buffer {
  const at = rng.int(raw.length + 1);
  return Buffer.concat([raw.subarray(0, at), rng.bytes(1 + rng.int(400)), raw.subarray(at)]);
}

export function mutateHeader(raw: Buffer, rng: Rng): Buffer {
  const { head, body } = splitHead(raw);
  const lines = head.split(/\r?\n/);
  const k = rng.int(lines.length);
  const line = lines[k] ?? '';
  switch (rng.int(7)) {
    case 0:
      lines.splice(k, 1);
      break;
    case 1:
      lines.splice(k, 0, ...Array.from({ length: 30 }, () => line));
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
      lines.splice(k, 0, rng.pick(['Auto-Submitted: no', 'Content-Type: multipart/mixed', 'Date: \u0000', 'From: <>', 'Message-ID:', 'Content-Transfer-Encoding: base64', 'Content-Type: text/plain; charset=utf-7']));
      break;
    default:
      lines[k] = `${line}\u0000${rng.pick(HEADER_GARBAGE)}`;
  }
  return join(lines.join('\r\n'), body);
}

/** Any one of the mutations above. */
export function mutateAny(raw: Buffer, rng: Rng): { raw: Buffer; how: string } {
  switch (rng.int(6)) {
    case 0:
      return { raw: truncate(raw, rng), how: 'truncated' };
    case 1:
      return { raw: flipBytes(raw, rng, 'head'), how: 'header bytes flipped' };
    case 2:
      return { raw: flipBytes(raw, rng, 'body'), how: 'body bytes flipped' };
    case 3:
      return { raw: insertGarbage(raw, rng), how: 'garbage inserted' };
    default:
      return { raw: mutateHeader(raw, rng), how: 'header mutated' };
  }
}

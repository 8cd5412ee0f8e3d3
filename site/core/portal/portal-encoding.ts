/**
 * Byte encodings for portal secrets, pure and identical in Node 20 and the browser:
 * strict base64url (envelope fields, stored keys) and lowercase base32 (portal ids, link ids and
 * link secrets, which travel in URLs and must survive being typed or read aloud).
 *
 * Decoders are strict on purpose: a field that is not the canonical encoding of some bytes is
 * refused, so one envelope has exactly one spelling and a tampered page cannot smuggle extra bits.
 */

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_SHAPE = /^[A-Za-z0-9_-]*$/;
/** RFC 4648 base32 alphabet, lowercased: no 0/1/8/9, so it never collides with look-alikes. */
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const BASE32_SHAPE = /^[a-z2-7]*$/;

const B64URL_INDEX = indexOf(B64URL);
const B32_INDEX = indexOf(B32);

function indexOf(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

/**
 * Ciphertext runs to hundreds of kilobytes per portal: use the platform's native codec when
 * there is one (Node's Buffer, the browser's btoa/atob), else the portable bit loop. Either way
 * the result is the same canonical, unpadded base64url.
 */
const NodeBuffer = (globalThis as { Buffer?: { from(data: Uint8Array | string, encoding?: string): Uint8Array & { toString(encoding: string): string } } }).Buffer;
const NATIVE_MIN_BYTES = 64;

export function toBase64Url(bytes: Uint8Array): string {
  if (bytes.length >= NATIVE_MIN_BYTES) {
    if (NodeBuffer) return NodeBuffer.from(bytes.buffer instanceof ArrayBuffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes).toString('base64url');
    if (typeof btoa === 'function') return btoa(binaryString(bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  return encodeBits(bytes, 6, B64URL);
}

/** Bytes of a canonical, unpadded base64url string, or undefined. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (typeof text !== 'string' || !B64URL_SHAPE.test(text) || text.length % 4 === 1) return undefined;
  if (text.length >= NATIVE_MIN_BYTES) {
    // Canonical only: the shape was checked above; the last character must carry no stray low bits.
    const rest = text.length % 4;
    const last = B64URL_INDEX[text.charCodeAt(text.length - 1)]!;
    if ((rest === 2 && (last & 0x0f) !== 0) || (rest === 3 && (last & 0x03) !== 0)) return undefined;
    const decoded = nativeDecode(text);
    if (decoded) return decoded;
  }
  return decodeBits(text, 6, B64URL_INDEX);
}

function nativeDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (NodeBuffer) {
    const buf = NodeBuffer.from(text, 'base64url');
    const out = new Uint8Array(buf.length);
    out.set(buf);
    return out;
  }
  if (typeof atob === 'function') {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }
  return undefined;
}

function binaryString(bytes: Uint8Array): string {
  let out = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) out += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return out;
}

export function toBase32(bytes: Uint8Array): string {
  return encodeBits(bytes, 5, B32);
}

/** Bytes of a canonical, unpadded lowercase base32 string, or undefined. */
export function fromBase32(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (typeof text !== 'string' || !BASE32_SHAPE.test(text)) return undefined;
  return decodeBits(text, 5, B32_INDEX);
}

/** `bytes` random bytes as lowercase base32 (16 bytes → 26 characters, 128 bits). */
export function randomBase32(bytes: number): string {
  return toBase32(randomBytes(bytes));
}

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

function encodeBits(bytes: Uint8Array, bitsPerChar: number, alphabet: string): string {
  const mask = (1 << bitsPerChar) - 1;
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= bitsPerChar) {
      bits -= bitsPerChar;
      out += alphabet[(buffer >> bits) & mask];
    }
  }
  if (bits > 0) out += alphabet[(buffer << (bitsPerChar - bits)) & mask];
  return out;
}

function decodeBits(text: string, bitsPerChar: number, index: Int16Array): Uint8Array<ArrayBuffer> | undefined {
  const out = new Uint8Array(Math.floor((text.length * bitsPerChar) / 8));
  let buffer = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? index[code]! : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << bitsPerChar) | value) & 0xffff;
    bits += bitsPerChar;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (buffer >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero padding, and no whole character may be left over: otherwise two
  // spellings would decode to the same bytes.
  if (bits >= bitsPerChar || (buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/**
 * The text-body decoder handed to mailparser (its `Iconv` option): the same decoding mailparser
 * does by default (libmime), plus one repair. Mail clients, and the gateways in between, label
 * UTF-8 bodies with a legacy charset surprisingly often (the corpus has a `charset=Big5` reply
 * whose bytes are UTF-8). Decoding such a body as labelled turns it into mojibake, so a body that
 * is strictly valid UTF-8 and has non-ASCII bytes is read as UTF-8 whatever its label says.
 * Text in a real legacy charset is practically never valid UTF-8 (a Latin-1 `é` is one byte
 * 0xE9 that UTF-8 requires to be followed by two continuation bytes), so genuine labels win.
 *
 * mailparser only calls this for text parts (text/plain, text/html) whose label is not already
 * UTF-8 or ASCII, and the whole part is buffered here because the decision needs every byte;
 * text parts are bounded by the message size limit.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { decode as decodeCharset } from 'libmime/lib/charset.js';

// Charsets whose bytes do not look like UTF-8's at all (ASCII-range escape sequences, or two and
// four byte code units): the sniff could only be wrong for them.
const NEVER_SNIFF = /^(?:utf-?(?:16|32)|ucs-?[24]|iso-?2022|hz|utf-?7)/i;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** True when the bytes have at least one non-ASCII byte and are valid UTF-8 throughout. */
export function isLikelyUtf8(bytes: Uint8Array): boolean {
  if (!bytes.some((b) => b >= 0x80)) return false;
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Decodes a complete body: UTF-8 when the bytes are UTF-8, else the declared charset via libmime. */
export function decodeBodyBytes(bytes: Buffer, charset: string | undefined): { text: string; sniffedUtf8: boolean } {
  const label = (charset ?? '').trim();
  const declaredUtf8 = label === '' || /^(?:utf-?8|(?:us-?)?ascii)$/i.test(label);
  if (declaredUtf8) return { text: bytes.toString('utf8'), sniffedUtf8: false };
  if (!NEVER_SNIFF.test(label) && isLikelyUtf8(bytes)) return { text: bytes.toString('utf8'), sniffedUtf8: true };
  return { text: decodeCharset(bytes, label), sniffedUtf8: false };
}

/**
 * The stream mailparser builds per text part: `new Iconv(fromCharset, toCharset)`. It reports
 * through `onSniff` when it read a mislabelled body as UTF-8, so the parse result can say so.
 */
export function sniffingIconv(onSniff: (charset: string) => void) {
  return class SniffingBodyDecoder extends Transform {
    private readonly chunks: Buffer[] = [];
    constructor(private readonly charset: string, _toCharset?: string) {
      super();
    }
    override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      done();
    }
    override _flush(done: TransformCallback): void {
      try {
        const { text, sniffedUtf8 } = decodeBodyBytes(Buffer.concat(this.chunks), this.charset);
        if (sniffedUtf8) onSniff(this.charset);
        done(null, Buffer.from(text, 'utf8'));
      } catch (err) {
        done(err as Error);
      }
    }
  };
}

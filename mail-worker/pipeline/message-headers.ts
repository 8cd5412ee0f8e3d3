/**
 * Read access to the top-level header fields of an inbound message, keyed by lowercase name.
 * Values are unfolded and trimmed but not decoded (no RFC 2047 decoding): classification
 * compares tokens such as `auto-replied` or `bulk`, and a decoded value could smuggle in a
 * line break. Decoded forms of the fields that need them (Subject, addresses) live on
 * `InboundMessage` itself.
 */
export interface MessageHeaders {
  /** The first occurrence (the topmost line), or undefined. */
  get(name: string): string | undefined;
  /** Every occurrence, topmost first (Received, Authentication-Results and the like repeat). */
  getAll(name: string): readonly string[];
  has(name: string): boolean;
  /** The lowercase names present, in first-seen order. */
  names(): readonly string[];
}

/** One raw header line as mailparser reports it: lowercase key and the folded `Name: value` line. */
export interface RawHeaderLine {
  key: string;
  line: string;
}

// A header value may hold at most this much text; longer values are cut so that no single
// hostile header makes every later regex test expensive. 998 is RFC 5322's line limit; folded
// headers (References, Received) can be longer, so allow a few lines' worth.
const MAX_HEADER_VALUE_CHARS = 16 * 1024;

export function messageHeadersFrom(lines: readonly RawHeaderLine[]): MessageHeaders {
  const map = new Map<string, string[]>();
  for (const { key, line } of lines) {
    const name = key.trim().toLowerCase();
    if (!name) continue; // a line without a colon: mailparser keeps it under an empty key
    const colon = line.indexOf(':');
    const value = unfold(colon < 0 ? '' : line.slice(colon + 1)).slice(0, MAX_HEADER_VALUE_CHARS);
    const list = map.get(name);
    if (list) list.push(value);
    else map.set(name, [value]);
  }
  return {
    get: (name) => map.get(name.toLowerCase())?.[0],
    getAll: (name) => map.get(name.toLowerCase()) ?? [],
    has: (name) => map.has(name.toLowerCase()),
    names: () => [...map.keys()],
  };
}

/** Unfolding: a line break and the white space after it become one space (RFC 5322 §2.2.3). */
export function unfold(value: string): string {
  return value.replace(/\r?\n[ \t]+/g, ' ').replace(/[\r\n]+/g, ' ').trim();
}

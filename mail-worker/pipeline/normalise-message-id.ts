/**
 * One form for Message-IDs, so that dedupe keys and thread references compare equal however a
 * client wrote them: `<local@domain>` with the angle brackets, surrounding white space and
 * comments gone. The id itself is kept exactly as sent, domain case included: mail clients
 * thread by comparing ids as strings, so an answer must repeat the id it answers byte for byte.
 * The ids Twofold generates (`stableMessageId`) are already in this form.
 */

/** RFC 5322 caps a line at 998 characters; an id longer than that is not one. */
export const MAX_MESSAGE_ID_CHARS = 998;
/** References can grow without bound in long threads; the newest ids are the useful ones. */
export const MAX_REFERENCES = 100;

const BRACKETED = /<([^<>\s]+)>/g;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The normalised id of a Message-ID or In-Reply-To value, or undefined when it holds none. */
export function normaliseMessageId(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bracketed = [...value.matchAll(BRACKETED)][0]?.[1];
  const bare = value.replace(/\([^()]*\)/g, ' ').trim();
  const id = bracketed ?? (/^[^\s<>]+$/.test(bare) ? bare : undefined);
  return id === undefined ? undefined : canonical(id);
}

/** Every id of a References value, normalised, oldest first, at most MAX_REFERENCES (the newest). */
export function normaliseReferences(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const match of value.matchAll(BRACKETED)) {
      const id = canonical(match[1] ?? '');
      if (id && !out.includes(id)) out.push(id);
    }
  }
  return out.slice(-MAX_REFERENCES);
}

function canonical(id: string): string | undefined {
  if (!id || id.length > MAX_MESSAGE_ID_CHARS - 2 || CONTROL.test(id)) return undefined;
  return `<${id}>`;
}

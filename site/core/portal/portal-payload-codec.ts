/**
 * The sealed payload on the wire. The build seals it (`sealPortalPayload`), the unlock script
 * opens it (`decodePortalPayload`); its shape is `PortalPayload` (site/core/render/portal-payload.ts):
 *   UTF-8 JSON { v: 1, title, html, links: { [linkId]: personId }, calendar: { [stageId]: { filename, ics } } }
 * Decoding is strict and allocation-safe because a page can be served modified.
 */
import type { PortalPayload } from '../render/portal-payload.ts';
import { sealPayloadJson, type AesGcmEncrypt, type KeyWrap } from './portal-crypto.ts';

/** Type-checked against the renderer's PAYLOAD_VERSION: a version bump fails to compile here. */
const VERSION: PortalPayload['v'] = 1;
export const MAX_TITLE_CHARS = 300;
export const MAX_PAYLOAD_ENTRIES = 1_000;
export const MAX_ID_CHARS = 64;
export const MAX_FILENAME_CHARS = 120;

/** What sealing needs from the secret store (`PortalSecrets` from secret-store-fs.ts satisfies it). */
export interface PortalSealKeys {
  kid: string;
  contentKey: Uint8Array;
  wraps: readonly KeyWrap[];
}

const UTF8 = new TextEncoder();

export function encodePortalPayload(payload: PortalPayload): Uint8Array {
  return UTF8.encode(JSON.stringify(payload));
}

/** Seal a payload for a portal page; returns the envelope JSON for `<script id="twofold-sealed">`. No key derivation. */
export async function sealPortalPayload(keys: PortalSealKeys, payload: PortalPayload, encrypt?: AesGcmEncrypt): Promise<string> {
  // sealPayload has checked the envelope as every reader will (base64url and base32 fields only,
  // so the JSON holds no `<`): it needs no second check before it goes into the page.
  return sealPayloadJson(keys.contentKey, encodePortalPayload(payload), keys.kid, keys.wraps, encrypt);
}

/** Personal link id → plan person id; links of people no longer in the plan are left out. */
export function linkOwners(links: ReadonlyArray<{ id: string; person: string }>, people: ReadonlyArray<{ id: string; email: string }>): Record<string, string> {
  const byEmail = new Map(people.map((p) => [p.email.trim().toLowerCase(), p.id]));
  const out: Record<string, string> = {};
  for (const link of links) {
    const personId = byEmail.get(link.person.trim().toLowerCase());
    if (personId !== undefined) out[link.id] = personId;
  }
  return out;
}

/** Parse decrypted payload bytes; undefined when they are not a version-1 payload. */
export function decodePortalPayload(bytes: Uint8Array): PortalPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (!isObject(value) || value.v !== VERSION) return undefined;
  if (typeof value.title !== 'string' || value.title.length > MAX_TITLE_CHARS || typeof value.html !== 'string') return undefined;
  const links = record(value.links, (v) => (typeof v === 'string' && v.length <= MAX_ID_CHARS ? v : undefined));
  const calendar = record(value.calendar, (v) =>
    isObject(v) && typeof v.filename === 'string' && v.filename.length > 0 && v.filename.length <= MAX_FILENAME_CHARS && typeof v.ics === 'string'
      ? { filename: v.filename, ics: v.ics }
      : undefined,
  );
  if (!links || !calendar) return undefined;
  return { v: VERSION, title: value.title, html: value.html, links, calendar };
}

/** A copy with a null prototype, so keys such as `__proto__` stay plain data. */
function record<T>(value: unknown, item: (v: unknown) => T | undefined): Record<string, T> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length > MAX_PAYLOAD_ENTRIES) return undefined;
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) {
    const parsed = item(v);
    if (k.length > MAX_ID_CHARS || parsed === undefined) return undefined;
    out[k] = parsed;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

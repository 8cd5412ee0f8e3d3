import { beforeAll, describe, expect, it } from 'vitest';
import {
  generateContentKey,
  openEnvelope,
  parseEnvelope,
  PBKDF2_ITERATIONS,
  PortalCryptoError,
  sealPayload,
  serializeEnvelope,
  unwrapWithSecret,
  validateEnvelope,
  wrapContentKey,
  type ContentKey,
  type Envelope,
  type KeyWrap,
} from '../../../site/core/portal/portal-crypto.ts';
import { fromBase64Url, toBase64Url } from '../../../site/core/portal/portal-encoding.ts';

const PASSWORD = 'k7m2q-xp4rt-9hw3c-ndf6b';
const LINK = { id: 'abcdefghijklm', secret: 'qrstuvwxyz234567abcdefghij' };
const OTHER_LINK = { id: 'nopqrstuvwxyz', secret: 'abcdefghijklmnopqrstuvwxyz' };
const plaintext = new TextEncoder().encode(JSON.stringify({ v: 1, title: 'Acme onboarding', html: '<p>Secret plan</p>' }));

let key: ContentKey;
let wraps: KeyWrap[];
let envelope: Envelope;
let deriveMs: number;

beforeAll(async () => {
  key = generateContentKey();
  const t0 = performance.now();
  const passwordWrap = await wrapContentKey(key.raw, PASSWORD, { type: 'password' });
  deriveMs = performance.now() - t0;
  wraps = [
    passwordWrap,
    await wrapContentKey(key.raw, LINK.secret, { type: 'link', id: LINK.id }),
    await wrapContentKey(key.raw, OTHER_LINK.secret, { type: 'link', id: OTHER_LINK.id }),
  ];
  envelope = await sealPayload(key.raw, plaintext, key.kid, wraps);
});

/** Flip one bit of a base64url field. */
function flip(field: string, byte = 0): string {
  const bytes = fromBase64Url(field)!;
  bytes[byte] = bytes[byte]! ^ 0x01;
  return toBase64Url(bytes);
}

describe('portal envelope round trip', () => {
  it('opens with the password and returns the plaintext bytes', async () => {
    const unwrapped = await unwrapWithSecret(envelope, PASSWORD);
    expect(unwrapped.ok).toBe(true);
    if (!unwrapped.ok) return;
    expect(await openEnvelope(envelope, unwrapped.key)).toEqual(plaintext);
  });

  it('opens with each personal link', async () => {
    for (const link of [LINK, OTHER_LINK]) {
      const unwrapped = await unwrapWithSecret(envelope, link.secret, link.id);
      expect(unwrapped.ok).toBe(true);
      if (unwrapped.ok) expect(await openEnvelope(envelope, unwrapped.key)).toEqual(plaintext);
    }
  });

  it('forgives case, spaces and look-alike letters in a typed password', async () => {
    const typed = ' K7M2Q XP4RT 9HW3C NDF6B ';
    expect((await unwrapWithSecret(envelope, typed)).ok).toBe(true);
  });

  it('survives serialisation into a page and parsing back', async () => {
    const text = serializeEnvelope(envelope);
    expect(text).not.toMatch(/[<>&]/);
    // Put together by hand for speed: it must be exactly what JSON.stringify would write.
    expect(text).toBe(JSON.stringify(envelope));
    const parsed = parseEnvelope(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.envelope).toEqual(envelope);
  });

  it('unwraps into a non-extractable key that can only decrypt', async () => {
    const unwrapped = await unwrapWithSecret(envelope, PASSWORD);
    if (!unwrapped.ok) throw new Error('expected the password to open');
    expect(unwrapped.key.extractable).toBe(false);
    expect(unwrapped.key.usages).toEqual(['decrypt']);
    expect(unwrapped.key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    await expect(crypto.subtle.exportKey('raw', unwrapped.key)).rejects.toThrow();
  });

  it('pays one real PBKDF2 derivation per wrap (600,000 iterations)', () => {
    expect(wraps.every((w) => w.iter === PBKDF2_ITERATIONS && w.kdf === 'PBKDF2-SHA256')).toBe(true);
    // 600k SHA-256 HMAC rounds cannot finish in under 20 ms on any machine this runs on.
    expect(deriveMs).toBeGreaterThan(20);
    console.info(`[measure] Node ${process.version}: one PBKDF2-SHA256 x ${PBKDF2_ITERATIONS} wrap took ${deriveMs.toFixed(0)} ms`);
  });
});

describe('fresh randomness', () => {
  it('gives every wrap its own 128-bit salt', () => {
    const salts = wraps.map((w) => w.salt);
    expect(new Set(salts).size).toBe(salts.length);
    expect(salts.every((s) => fromBase64Url(s)!.length === 16)).toBe(true);
  });

  it('uses a fresh 96-bit IV for every seal of the same plaintext', async () => {
    const seals = await Promise.all([1, 2, 3].map(() => sealPayload(key.raw, plaintext, key.kid, wraps)));
    const ivs = [envelope, ...seals].map((e) => e.iv);
    expect(new Set(ivs).size).toBe(4);
    expect(ivs.every((iv) => fromBase64Url(iv)!.length === 12)).toBe(true);
    expect(new Set([envelope, ...seals].map((e) => e.ct)).size).toBe(4);
  });

  it('generates a new 256-bit key and key id every time', () => {
    const a = generateContentKey();
    const b = generateContentKey();
    expect(a.raw).toHaveLength(32);
    expect(a.kid).toMatch(/^[a-z2-7]{16}$/);
    expect(a.kid).not.toBe(b.kid);
    expect(toBase64Url(a.raw)).not.toBe(toBase64Url(b.raw));
  });

  it('seals fast, reusing the stored wraps (no key derivation)', async () => {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await sealPayload(key.raw, plaintext, key.kid, wraps);
    const perSeal = (performance.now() - t0) / 20;
    expect(perSeal).toBeLessThan(deriveMs / 4);
  });
});

describe('typed failures', () => {
  it.each([
    { name: 'a wrong password', secret: 'aaaaa-bbbbb-ccccc-ddddd', linkId: undefined, reason: 'wrong-secret', code: 'PORTAL_WRONG_SECRET' },
    { name: 'an empty password', secret: '', linkId: undefined, reason: 'wrong-secret', code: 'PORTAL_WRONG_SECRET' },
    { name: 'a password made only of dashes', secret: ' - - ', linkId: undefined, reason: 'wrong-secret', code: 'PORTAL_WRONG_SECRET' },
    { name: 'a huge password', secret: 'x'.repeat(5000), linkId: undefined, reason: 'wrong-secret', code: 'PORTAL_WRONG_SECRET' },
    { name: "one link's secret with another link's id", secret: LINK.secret, linkId: OTHER_LINK.id, reason: 'wrong-secret', code: 'PORTAL_WRONG_SECRET' },
    { name: 'the password used as a link secret', secret: PASSWORD, linkId: LINK.id, reason: 'wrong-secret', code: 'PORTAL_WRONG_SECRET' },
    { name: 'a revoked (unknown) link id', secret: LINK.secret, linkId: 'zzzzzzzzzzzzz', reason: 'no-such-link', code: 'PORTAL_LINK_REVOKED' },
  ])('refuses $name', async ({ secret, linkId, reason, code }) => {
    expect(await unwrapWithSecret(envelope, secret, linkId)).toMatchObject({ ok: false, reason, code });
  });

  it('says a portal without a password wrap opens with links only', async () => {
    const linksOnly = await sealPayload(key.raw, plaintext, key.kid, wraps.slice(1));
    expect(await unwrapWithSecret(linksOnly, PASSWORD)).toMatchObject({ ok: false, reason: 'wrong-secret' });
  });

  it('refuses to seal a portal nobody could open', async () => {
    await expect(sealPayload(key.raw, plaintext, key.kid, [])).rejects.toMatchObject({ code: 'PORTAL_NO_SECRET' });
  });

  it('refuses to wrap with fewer iterations than the floor', async () => {
    await expect(wrapContentKey(key.raw, PASSWORD, { type: 'password' }, { iterations: 100_000 })).rejects.toBeInstanceOf(PortalCryptoError);
  });
});

describe('tampering', () => {
  const tamper = (change: (e: Envelope) => Envelope) => change(structuredClone(envelope));

  it.each([
    { name: 'a flipped ciphertext bit', change: (e: Envelope) => ({ ...e, ct: flip(e.ct, 3) }) },
    { name: 'a flipped tag bit', change: (e: Envelope) => ({ ...e, ct: flip(e.ct, fromBase64Url(e.ct)!.length - 1) }) },
    { name: 'a changed IV', change: (e: Envelope) => ({ ...e, iv: flip(e.iv) }) },
    { name: 'a changed key id (bound into the GCM additional data)', change: (e: Envelope) => ({ ...e, kid: e.kid.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }) },
  ])('refuses $name at opening', async ({ change }) => {
    const unwrapped = await unwrapWithSecret(envelope, PASSWORD);
    if (!unwrapped.ok) throw new Error('expected the password to open');
    await expect(openEnvelope(tamper(change), unwrapped.key)).rejects.toMatchObject({ code: 'PORTAL_ENVELOPE_TAMPERED' });
  });

  it.each([
    { name: 'a flipped wrapped-key bit', change: (w: KeyWrap) => ({ ...w, wrapped: flip(w.wrapped, 5) }) },
    { name: 'a changed salt', change: (w: KeyWrap) => ({ ...w, salt: flip(w.salt) }) },
    { name: 'a raised iteration count', change: (w: KeyWrap) => ({ ...w, iter: PBKDF2_ITERATIONS + 1 }) },
  ])('refuses $name at unwrapping', async ({ change }) => {
    const e = tamper((x) => ({ ...x, wraps: [change(x.wraps[0]!), ...x.wraps.slice(1)] }));
    expect(await unwrapWithSecret(e, PASSWORD)).toMatchObject({ ok: false, reason: 'wrong-secret' });
  });

  it.each([
    { name: 'one fewer iteration', iter: PBKDF2_ITERATIONS - 1 },
    { name: 'a classic 100,000', iter: 100_000 },
    { name: 'a single iteration', iter: 1 },
    { name: 'zero', iter: 0 },
    { name: 'a fraction', iter: 600_000.5 },
    { name: 'a string', iter: '600000' },
    { name: 'an absurd count that would freeze the browser', iter: 1e12 },
  ])('refuses an iteration downgrade to $name before deriving anything', async ({ iter }) => {
    const e = tamper((x) => ({ ...x, wraps: x.wraps.map((w) => ({ ...w, iter: iter as number })) }));
    const t0 = performance.now();
    expect(await unwrapWithSecret(e, PASSWORD)).toMatchObject({ ok: false, reason: 'malformed', code: 'PORTAL_ENVELOPE_MALFORMED' });
    expect(performance.now() - t0).toBeLessThan(deriveMs / 2);
    expect(parseEnvelope(JSON.stringify(e)).ok).toBe(false);
  });
});

describe('strict envelope validation (hostile pages)', () => {
  const base = () => structuredClone(envelope) as any;
  it.each([
    { name: 'not JSON', text: '{"v":1,' },
    { name: 'an array', text: '[]' },
    { name: 'null', text: 'null' },
    { name: 'a huge string', text: `"${'a'.repeat(100)}"` },
    { name: 'an unknown top-level field', make: () => ({ ...base(), extra: 1 }) },
    { name: 'a __proto__ key', text: () => JSON.stringify(base()).replace('{', '{"__proto__":{"polluted":true},') },
    { name: 'version 2', make: () => ({ ...base(), v: 2 }) },
    { name: 'version "1"', make: () => ({ ...base(), v: '1' }) },
    { name: 'an uppercase key id', make: () => ({ ...base(), kid: base().kid.toUpperCase() }) },
    { name: 'a key id with a quote', make: () => ({ ...base(), kid: 'abcdefgh"<' }) },
    { name: 'an 8-byte IV', make: () => ({ ...base(), iv: toBase64Url(new Uint8Array(8)) }) },
    { name: 'a padded IV', make: () => ({ ...base(), iv: `${base().iv}==` }) },
    // 16 salt bytes are 22 characters with 4 padding bits, which must be zero: "…B" sets one.
    { name: 'a non-canonical base64url salt (stray padding bits)', make: () => ({ ...base(), wraps: [{ ...base().wraps[0], salt: `${base().wraps[0].salt.slice(0, 21)}B` }] }) },
    { name: 'standard base64 characters', make: () => ({ ...base(), ct: `${base().ct.slice(0, -2)}+/` }) },
    { name: 'a ciphertext shorter than the tag', make: () => ({ ...base(), ct: toBase64Url(new Uint8Array(15)) }) },
    { name: 'no wraps', make: () => ({ ...base(), wraps: [] }) },
    { name: 'wraps as an object', make: () => ({ ...base(), wraps: { 0: base().wraps[0] } }) },
    { name: 'two password wraps', make: () => ({ ...base(), wraps: [base().wraps[0], base().wraps[0]] }) },
    { name: 'a duplicated link id', make: () => ({ ...base(), wraps: [base().wraps[1], base().wraps[1]] }) },
    { name: 'a link wrap without id', make: () => ({ ...base(), wraps: [{ ...base().wraps[1], id: undefined }] }) },
    { name: 'a password wrap with an id', make: () => ({ ...base(), wraps: [{ ...base().wraps[0], id: 'abcdefghijklm' }] }) },
    { name: 'an unknown wrap type', make: () => ({ ...base(), wraps: [{ ...base().wraps[0], type: 'admin' }] }) },
    { name: 'another KDF', make: () => ({ ...base(), wraps: [{ ...base().wraps[0], kdf: 'PBKDF2-SHA1' }] }) },
    { name: 'an unknown wrap field', make: () => ({ ...base(), wraps: [{ ...base().wraps[0], hint: 'the password is…' }] }) },
    { name: 'a short salt', make: () => ({ ...base(), wraps: [{ ...base().wraps[0], salt: toBase64Url(new Uint8Array(8)) }] }) },
    { name: 'a short wrapped key', make: () => ({ ...base(), wraps: [{ ...base().wraps[0], wrapped: toBase64Url(new Uint8Array(32)) }] }) },
    { name: 'more wraps than allowed', make: () => ({ ...base(), wraps: Array.from({ length: 1001 }, (_, i) => ({ ...base().wraps[1], id: `link${String.fromCharCode(97 + (i % 26))}${i.toString(32).replace(/[018-9]/g, 'a')}aaaa` })) }) },
  ])('refuses $name', ({ text, make }) => {
    const input = typeof text === 'function' ? text() : text ?? JSON.stringify(make!());
    const parsed = parseEnvelope(input);
    expect(parsed).toMatchObject({ ok: false, reason: 'malformed', code: 'PORTAL_ENVELOPE_MALFORMED' });
    expect(({} as any).polluted).toBeUndefined();
  });

  it('accepts the untouched envelope (the table above tests real changes)', () => {
    expect(validateEnvelope(base()).ok).toBe(true);
  });

  it('refuses a malformed envelope at unwrapping and opening too', async () => {
    const broken = { ...base(), v: 2 };
    expect(await unwrapWithSecret(broken, PASSWORD)).toMatchObject({ ok: false, reason: 'malformed' });
    await expect(openEnvelope(broken, key.raw)).rejects.toMatchObject({ code: 'PORTAL_ENVELOPE_MALFORMED' });
  });
});

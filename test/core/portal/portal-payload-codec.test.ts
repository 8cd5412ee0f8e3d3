import { describe, expect, it } from 'vitest';
import { daysSince, localIsoDate } from '../../../site/core/portal/portal-age.ts';
import { generateContentKey, openEnvelope, parseEnvelope, unwrapWithSecret, wrapContentKey } from '../../../site/core/portal/portal-crypto.ts';
import { decodePortalPayload, encodePortalPayload, linkOwners, sealPortalPayload } from '../../../site/core/portal/portal-payload-codec.ts';
import { nodeAesGcmEncrypt } from '../../../site/lib/node-aes-gcm.ts';

const payload = {
  v: 1 as const,
  title: 'Acme — onboarding',
  html: '<p>Plan</p>',
  links: { abcdefghijklm: 'raj' },
  calendar: { kickoff: { filename: 'kickoff.ics', ics: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' } },
};
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('portal payload codec', () => {
  it('round-trips a payload', () => {
    expect(decodePortalPayload(encodePortalPayload(payload))).toEqual(payload);
  });

  it.each([
    { name: 'WebCrypto', encrypt: undefined },
    { name: "Node's AES-GCM", encrypt: nodeAesGcmEncrypt },
  ])('seals into page-safe envelope JSON (exactly JSON.stringify of it) that the password opens ($name)', async ({ encrypt }) => {
    const key = generateContentKey();
    const password = 'k7m2q-xp4rt-9hw3c-ndf6b';
    const wraps = [await wrapContentKey(key.raw, password, { type: 'password' })];
    const sealed = { ...payload, html: '<p>"Quotes", </script> & ünïcode ✅</p>' };
    const text = await sealPortalPayload({ kid: key.kid, contentKey: key.raw, wraps }, sealed, encrypt);
    expect(text).not.toMatch(/[<>&]/);
    const parsed = parseEnvelope(text);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(JSON.stringify(parsed.envelope)).toBe(text);
    const unwrapped = await unwrapWithSecret(parsed.envelope, password);
    if (!unwrapped.ok) throw new Error(unwrapped.message);
    expect(decodePortalPayload(await openEnvelope(parsed.envelope, unwrapped.key))).toEqual(sealed);
  });

  it.each([
    { name: 'invalid UTF-8', input: new Uint8Array([0xff, 0xfe]) },
    { name: 'not JSON', input: new TextEncoder().encode('{') },
    { name: 'version 2', input: bytes({ ...payload, v: 2 }) },
    { name: 'html that is not a string', input: bytes({ ...payload, html: 42 }) },
    { name: 'a huge title', input: bytes({ ...payload, title: 'x'.repeat(301) }) },
    { name: 'links as an array', input: bytes({ ...payload, links: ['raj'] }) },
    { name: 'a calendar entry without a file name', input: bytes({ ...payload, calendar: { kickoff: { ics: 'x' } } }) },
  ])('refuses $name', ({ input }) => {
    expect(decodePortalPayload(input)).toBeUndefined();
  });

  it('keeps a __proto__ key as plain data', () => {
    const text = JSON.stringify(payload).replace('"links":{', '"links":{"__proto__":"evil",');
    const decoded = decodePortalPayload(new TextEncoder().encode(text))!;
    expect(Object.hasOwn(decoded.links, '__proto__')).toBe(true);
    expect(({} as any).evil).toBeUndefined();
  });

  it('maps personal links to plan people by email, leaving out people who left', () => {
    const links = [
      { id: 'aaaaaaaaaaaaa', person: 'raj@acme.example' },
      { id: 'bbbbbbbbbbbbb', person: 'gone@acme.example' },
    ];
    expect(linkOwners(links, [{ id: 'raj', email: 'Raj@Acme.example' }])).toEqual({ aaaaaaaaaaaaa: 'raj' });
  });
});

describe('portal ages', () => {
  it.each([
    { name: 'the same day', since: '2026-12-07', today: '2026-12-07', want: 0 },
    { name: 'across a month', since: '2026-11-28', today: '2026-12-07', want: 9 },
    { name: 'across a leap day', since: '2028-02-28', today: '2028-03-01', want: 2 },
    { name: 'a date in the future', since: '2026-12-10', today: '2026-12-07', want: -3 },
    { name: 'an impossible date', since: '2026-02-30', today: '2026-03-01', want: undefined },
    { name: 'not a date', since: '<b>', today: '2026-03-01', want: undefined },
  ])('counts $name', ({ since, today, want }) => {
    expect(daysSince(since, today)).toBe(want);
  });

  it("formats the reader's local date", () => {
    expect(localIsoDate(new Date(2026, 0, 5, 23, 59))).toBe('2026-01-05');
  });
});

import { describe, expect, it } from 'vitest';
import { fromBase32, fromBase64Url, randomBase32, randomBytes, toBase32, toBase64Url } from '../../../site/core/portal/portal-encoding.ts';

describe('base64url and base32', () => {
  it.each([0, 1, 2, 3, 4, 5, 12, 16, 31, 32, 33, 40, 257].map((length) => ({ name: `${length} bytes`, length })))('round-trips $name', ({ length }) => {
    const bytes = randomBytes(length);
    expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
    expect(fromBase32(toBase32(bytes))).toEqual(bytes);
    expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
  });

  it.each([
    { name: 'padding', text: 'AAAA==' },
    { name: 'standard base64 +', text: 'AA+A' },
    { name: 'standard base64 /', text: 'AA/A' },
    { name: 'whitespace', text: 'AA AA' },
    { name: 'an impossible length', text: 'AAAAA' },
    { name: 'stray padding bits', text: 'AB' },
    { name: 'a non-ASCII letter', text: 'AAÄA' },
  ])('base64url refuses $name', ({ text }) => {
    expect(fromBase64Url(text)).toBeUndefined();
  });

  it.each([
    { name: 'uppercase', text: 'ABCDEFGH' },
    { name: 'digits outside the alphabet', text: 'abcd0189' },
    { name: 'padding', text: 'mzxq====' },
    { name: 'a leftover whole character', text: 'aaa' },
    { name: 'stray padding bits', text: 'ab' },
  ])('base32 refuses $name', ({ text }) => {
    expect(fromBase32(text)).toBeUndefined();
  });

  it('makes 128-bit ids of 26 lowercase base32 characters, all different', () => {
    const ids = Array.from({ length: 200 }, () => randomBase32(16));
    expect(ids.every((id) => /^[a-z2-7]{26}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

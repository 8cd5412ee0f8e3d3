import { describe, expect, it } from 'vitest';
import { canonicalPassword, generatePassword, PASSWORD_ALPHABET, PASSWORD_ENTROPY_BITS } from '../../../site/core/portal/portal-password.ts';

describe('generated portal passwords', () => {
  it('carry at least 80 bits (100: 20 characters of a 32-letter alphabet)', () => {
    expect(PASSWORD_ALPHABET).toHaveLength(32);
    expect(new Set(PASSWORD_ALPHABET).size).toBe(32);
    expect(PASSWORD_ENTROPY_BITS).toBe(100);
  });

  it('read as four groups of five unambiguous characters, and never repeat', () => {
    const passwords = Array.from({ length: 500 }, generatePassword);
    for (const p of passwords) expect(p).toMatch(/^[0-9a-hjkmnp-tv-z]{5}(-[0-9a-hjkmnp-tv-z]{5}){3}$/);
    expect(new Set(passwords).size).toBe(passwords.length);
  });

  it('use every character of the alphabet about equally (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) for (const c of generatePassword().replace(/-/g, '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(32);
    const expected = (2000 * 20) / 32;
    for (const n of counts.values()) expect(Math.abs(n - expected)).toBeLessThan(expected * 0.2);
  });

  it.each([
    { name: 'the printed form', typed: 'k7m2q-xp4rt-9hw3c-ndf6b' },
    { name: 'upper case with spaces', typed: 'K7M2Q XP4RT 9HW3C NDF6B' },
    { name: 'no separators', typed: 'k7m2qxp4rt9hw3cndf6b' },
    { name: 'an en dash and a non-breaking space', typed: 'k7m2q–xp4rt\u00a09hw3c-ndf6b' },
  ])('canonicalises $name to the same secret', ({ typed }) => {
    expect(canonicalPassword(typed)).toBe('k7m2qxp4rt9hw3cndf6b');
  });

  it('maps look-alike letters onto the digits they are mistaken for', () => {
    expect(canonicalPassword('OIl10')).toBe('01110');
  });
});

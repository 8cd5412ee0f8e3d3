/**
 * Generated portal passwords. People never choose them: a chosen password is the weak point of
 * any offline-guessable scheme, and a sealed portal can be copied and guessed at offline forever.
 *
 * Format: 4 groups of 5 characters from Crockford's base32 alphabet, e.g. `k7m2q-xp4rt-9hw3c-ndf6b`.
 * 20 characters × 5 bits = 100 bits of entropy (the requirement is at least 80). Crockford's
 * alphabet has no i, l, o or u, so what people read aloud or retype is unambiguous, and
 * `canonicalPassword` forgives case, spaces, dashes and the look-alikes o→0, i/l→1.
 *
 * Offline guessing cost at PBKDF2-SHA256 × 600,000: a current high-end GPU (hashcat mode 10900,
 * RTX 4090 class, ~9 million 999-iteration hashes/s) manages ~15,000 guesses per second.
 * 2^100 guesses take ~2.7 × 10^18 GPU-years (half that on average); even 2^80 is ~2.6 × 10^12
 * GPU-years. SECURITY.md carries the full figures.
 */
import { randomBytes } from './portal-encoding.ts';

export const PASSWORD_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const PASSWORD_GROUPS = 4;
export const PASSWORD_GROUP_LENGTH = 5;
/** log2(32) × 20 characters. */
export const PASSWORD_ENTROPY_BITS = Math.log2(PASSWORD_ALPHABET.length) * PASSWORD_GROUPS * PASSWORD_GROUP_LENGTH;

/** A fresh password: `xxxxx-xxxxx-xxxxx-xxxxx`, 100 bits. */
export function generatePassword(): string {
  // 32 divides 256, so `byte % 32` is uniform: no modulo bias.
  const bytes = randomBytes(PASSWORD_GROUPS * PASSWORD_GROUP_LENGTH);
  const chars = Array.from(bytes, (b) => PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length]!);
  const groups: string[] = [];
  for (let i = 0; i < PASSWORD_GROUPS; i++) groups.push(chars.slice(i * PASSWORD_GROUP_LENGTH, (i + 1) * PASSWORD_GROUP_LENGTH).join(''));
  return groups.join('-');
}

/**
 * The form of a password that is fed to the key derivation, used both when the store wraps the
 * key and when the browser unwraps it: lowercase, no whitespace or dashes, o→0, i/l→1. Typing
 * `K7M2Q XP4RT 9HW3C NDF6B` opens the same portal as `k7m2q-xp4rt-9hw3c-ndf6b`.
 */
export function canonicalPassword(input: string): string {
  return input
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\u00a0\u2010-\u2015-]+/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
}

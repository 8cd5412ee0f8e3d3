/**
 * A short, synchronous, non-cryptographic digest of a string, the same in Node and browsers.
 * For change detection only ("did what this invite says change?"), never for secrets: the
 * portal computes it in the browser, where WebCrypto's digest is async and needs a secure
 * context. Two independent 32-bit lanes (cyrb53-style mixing) give 64 bits: 16 hex chars.
 */
export function stableDigest(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

/**
 * AES-256-GCM through Node's OpenSSL binding, synchronous: for sealing many portals in the build
 * and the worker (WebCrypto's asynchronous calls cost more than the encryption itself). Output
 * is ciphertext followed by the 16-byte tag, exactly what WebCrypto produces and the browser opens.
 */
import { createCipheriv } from 'node:crypto';
import type { AesGcmEncrypt } from '../core/portal/portal-crypto.ts';

export const nodeAesGcmEncrypt: AesGcmEncrypt = (key, iv, additionalData, plaintext) => {
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(additionalData);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(body.length + final.length + tag.length);
  out.set(body, 0);
  out.set(final, body.length);
  out.set(tag, body.length + final.length);
  return out;
};

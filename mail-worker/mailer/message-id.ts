/**
 * Stable Message-IDs: the same logical email (task T3 of plan acme to raj, revision r) always
 * gets the same id, so threads hold together and a resend after a crash is recognisable.
 */
import { createHash } from 'node:crypto';

export function stableMessageId(parts: ReadonlyArray<string | number>, domain: string): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);
  const label = String(parts[0] ?? 'twofold').toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 16) || 'twofold';
  return `<${label}.${digest}@${domain}>`;
}

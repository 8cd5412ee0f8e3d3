/**
 * The fast path: re-seal one plan's portal in place after a reply changed it, without a full
 * build. The page shell stays exactly what the last full build wrote; only the sealed envelope
 * inside it is replaced (atomically), sealed by the same `sealPortal` the build uses.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { portalPath } from '../core/portal/portal-links.ts';
import { writeFileAtomic } from './atomic-write-fs.ts';
import { sealPortal, type SealContext } from './portal-seal-fs.ts';

const SEALED_OPEN = '<script type="application/json" id="twofold-sealed">';
const SEALED_CLOSE = '</script>';

export type ResealResult =
  | { status: 'resealed' | 'unchanged'; file: string }
  /** No password yet: the plan has no portal. */
  | { status: 'unpublished' }
  /** The portal was never built (a new plan): a full build is needed. */
  | { status: 'missing'; file: string };

export function portalFile(distDir: string, portalId: string): string {
  return path.join(distDir, ...portalPath(portalId).split('/').filter(Boolean), 'index.html');
}

export async function resealPortal(ctx: SealContext, slug: string): Promise<ResealResult> {
  const sealed = await sealPortal(ctx, slug);
  if (!sealed) return { status: 'unpublished' };
  const file = portalFile(ctx.paths.distDir, sealed.portalId);
  let page: string;
  try {
    page = await readFile(file, 'utf8');
  } catch (err: any) {
    if (err?.code === 'ENOENT') return { status: 'missing', file };
    throw err;
  }
  const open = page.indexOf(SEALED_OPEN);
  const close = open === -1 ? -1 : page.indexOf(SEALED_CLOSE, open);
  if (open === -1 || close === -1) return { status: 'missing', file };
  const start = open + SEALED_OPEN.length;
  if (page.slice(start, close) === sealed.envelope) return { status: 'unchanged', file };
  await writeFileAtomic(file, page.slice(0, start) + sealed.envelope + page.slice(close));
  return { status: 'resealed', file };
}

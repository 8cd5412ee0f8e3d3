/**
 * Scan a build's output for any plan's distinctive strings outside ciphertext: file contents
 * (with each portal's sealed envelope cut out after checking it is one), file and folder names.
 * Linear in the output size: needles are indexed by their longest word, and each word of the
 * output is looked up once.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface Leak {
  file: string;
  needle: string;
  /** Which plan the string belongs to. */
  plan: string;
  where: 'content' | 'name';
}

export interface LeakScanResult {
  files: number;
  bytes: number;
  needles: number;
  leaks: Leak[];
}

const SEALED_OPEN = '<script type="application/json" id="twofold-sealed">';
const SEALED_CLOSE = '</script>';
const WORD = /[\p{L}\p{N}]+/gu;
const MAX_LEAKS = 50;

interface Indexed {
  needle: string;
  lower: string;
  plan: string;
  /** Offset of the anchor word inside the needle. */
  anchorAt: number;
}

export function buildNeedleIndex(needlesByPlan: Map<string, string[]>): Map<string, Indexed[]> {
  const index = new Map<string, Indexed[]>();
  for (const [plan, needles] of needlesByPlan) {
    for (const needle of needles) {
      const lower = needle.toLowerCase();
      const words = lower.match(WORD) ?? [];
      const anchor = words.reduce((a, b) => (b.length > a.length ? b : a), '');
      if (!anchor) continue;
      const list = index.get(anchor) ?? [];
      list.push({ needle, lower, plan, anchorAt: lower.indexOf(anchor) });
      index.set(anchor, list);
    }
  }
  return index;
}

export function findNeedles(text: string, index: Map<string, Indexed[]>): Indexed[] {
  const lower = text.toLowerCase();
  const hits: Indexed[] = [];
  for (const m of lower.matchAll(WORD)) {
    const candidates = index.get(m[0]);
    if (!candidates) continue;
    for (const c of candidates) {
      const start = m.index! - c.anchorAt;
      if (start >= 0 && lower.startsWith(c.lower, start)) hits.push(c);
    }
  }
  return hits;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Cut out each sealed envelope, refusing anything in the sealed slot that is not an envelope. */
export function stripSealed(text: string, file: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const open = text.indexOf(SEALED_OPEN, from);
    if (open === -1) return out + text.slice(from);
    const start = open + SEALED_OPEN.length;
    const end = text.indexOf(SEALED_CLOSE, start);
    if (end === -1) throw new Error(`${file}: unterminated sealed block`);
    const body = text.slice(start, end);
    if (!/^\{"v":1,"kid":"[A-Za-z0-9_-]+","iv":"[A-Za-z0-9_-]+","ct":"[A-Za-z0-9_-]+","wraps":\[[\w",:{}\[\]-]*\]\}$/.test(body)) {
      // Not the exact envelope shape: scan it like any other text.
      out += text.slice(from, end);
    } else {
      out += text.slice(from, open + SEALED_OPEN.length);
    }
    from = end;
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

export async function scanForLeaks(distDir: string, needlesByPlan: Map<string, string[]>): Promise<LeakScanResult> {
  const index = buildNeedleIndex(needlesByPlan);
  const result: LeakScanResult = { files: 0, bytes: 0, needles: [...needlesByPlan.values()].reduce((n, l) => n + l.length, 0), leaks: [] };
  const report = (file: string, hit: Indexed, where: Leak['where']) => {
    if (result.leaks.length < MAX_LEAKS && !result.leaks.some((l) => l.file === file && l.needle === hit.needle)) {
      result.leaks.push({ file, needle: hit.needle, plan: hit.plan, where });
    }
  };
  for await (const file of walk(distDir)) {
    const rel = path.relative(distDir, file);
    result.files++;
    for (const hit of findNeedles(rel.replace(/[-_./]+/g, ' '), index)) report(rel, hit, 'name');
    const buf = await readFile(file);
    result.bytes += buf.length;
    let text = buf.toString('utf8');
    if (rel.endsWith('.html')) text = stripSealed(text, rel);
    const scanned = text.includes('&') ? `${text}\n${decodeEntities(text)}` : text;
    for (const hit of findNeedles(scanned, index)) report(rel, hit, 'content');
  }
  return result;
}

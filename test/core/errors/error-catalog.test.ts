/**
 * The error catalog and the sources stay in sync: every code the sources raise (a quoted
 * `AREA_SOMETHING` string whose area prefix the catalog uses, e.g. passed to problem() or
 * TwofoldError) is in the catalog, and every catalog code is used somewhere outside it.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../../site/core/errors/error-catalog.ts';
import { REPO_ROOT } from '../../helpers/run-twofold.ts';

const SOURCE_DIRS = ['site', 'scripts', 'mail-worker'];
const SOURCE_EXTENSIONS = ['.ts', '.mts', '.mjs', '.js', '.astro'];
const CATALOG_FILE = path.join('site', 'core', 'errors', 'error-catalog.ts');

const catalogCodes = Object.keys(errorCatalog);
/** `PLAN`, `CLI`, `PORTAL`… : a quoted string starting with one of these is a code. */
const prefixes = [...new Set(catalogCodes.filter((c) => c.includes('_')).map((c) => c.slice(0, c.indexOf('_'))))];
const QUOTED_CODE = new RegExp(`['"\`]((?:${prefixes.join('|')})_[A-Z0-9_]+)['"\`]`, 'g');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(rel)));
    else if (SOURCE_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) out.push(rel);
  }
  return out;
}

let sources: { file: string; text: string }[] = [];
beforeAll(async () => {
  const files = (await Promise.all(SOURCE_DIRS.map(sourceFiles))).flat().filter((f) => f !== CATALOG_FILE);
  sources = await Promise.all(files.map(async (file) => ({ file, text: await readFile(path.join(REPO_ROOT, file), 'utf8') })));
});

describe('the error catalog', () => {
  it('has the code areas the sources use', () => {
    expect(prefixes).toEqual(expect.arrayContaining(['PLAN', 'CLI']));
    expect(sources.length).toBeGreaterThan(10);
  });

  it('contains every code the sources raise', () => {
    const missing: string[] = [];
    for (const { file, text } of sources) {
      for (const m of text.matchAll(QUOTED_CODE)) if (!Object.hasOwn(errorCatalog, m[1]!)) missing.push(`${m[1]} (${file})`);
    }
    expect(missing).toEqual([]);
  });

  it.each(catalogCodes.map((code) => ({ code })))('$code is used outside the catalog', ({ code }) => {
    const word = new RegExp(`\\b${code}\\b`);
    const users = sources.filter((s) => word.test(s.text)).map((s) => s.file);
    expect(users.length, `${code} is in the catalog but no source uses it`).toBeGreaterThan(0);
  });

  it.each(Object.entries(errorCatalog).map(([code, spec]) => ({ code, spec })))('$code has an area, a severity and a one-line summary', ({ spec }) => {
    expect(['plan', 'cli', 'portal', 'mail', 'calendar', 'tick', 'config']).toContain(spec.area);
    expect(['error', 'warning']).toContain(spec.severity);
    expect(spec.summary).toMatch(/^[A-Z`"].*\.$/);
    expect(spec.summary).not.toContain('\n');
  });
});

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';
import { writeInDir } from '../../site/lib/ensure-dir-fs.ts';
import { withFileLock } from '../../site/lib/file-lock-fs.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('lands every one of many concurrent writes into one folder whole, and leaves no temporary files', async () => {
    // Directory syncs are shared between concurrent writers: none may resolve early or be lost.
    const writes = Array.from({ length: 120 }, (_, i) => ({ file: path.join(dir, 'out', `f${i % 30}.txt`), text: `write ${i} `.repeat(200) }));
    await Promise.all(writes.map((w) => writeFileAtomic(w.file, w.text)));
    const names = (await readdir(path.join(dir, 'out'))).sort();
    expect(names).toHaveLength(30);
    for (const name of names) {
      const text = await readFile(path.join(dir, 'out', name), 'utf8');
      expect(writes.filter((w) => path.basename(w.file) === name).map((w) => w.text)).toContain(text);
    }
  });

  it('makes its folder again when it was removed after an earlier write', async () => {
    const file = path.join(dir, 'gone', 'a.json');
    await writeFileAtomic(file, '1');
    await rm(path.join(dir, 'gone'), { recursive: true });
    await writeFileAtomic(file, '2');
    expect(await readFile(file, 'utf8')).toBe('2');
    await rm(path.join(dir, 'gone'), { recursive: true });
    await writeFileAtomic(file, '3', { durable: false });
    expect(await readFile(file, 'utf8')).toBe('3');
  });
});

describe('writeInDir', () => {
  it('makes the folder on first use and again after it was removed, and passes other errors on', async () => {
    const sub = path.join(dir, 'a', 'b');
    const made: string[] = [];
    await writeInDir(sub, async () => void made.push((await readdir(sub)).join(',')));
    await rm(path.join(dir, 'a'), { recursive: true });
    await expect(writeInDir(sub, () => readdir(sub))).resolves.toEqual([]);
    await expect(writeInDir(sub, () => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' })))).rejects.toThrow('no space');
    expect(made).toEqual(['']);
  });

  it('lets a file lock be taken in a locks folder removed since the last lock', async () => {
    const lock = path.join(dir, 'locks', 'x.lock');
    const onTimeout = () => new Error('locked');
    await withFileLock(lock, async () => {}, { onTimeout });
    await rm(path.join(dir, 'locks'), { recursive: true });
    await expect(withFileLock(lock, async () => 'held', { onTimeout })).resolves.toBe('held');
  });
});

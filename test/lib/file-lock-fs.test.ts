import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../site/lib/file-lock-fs.ts';

let dir: string;
let lock: string;
const onTimeout = (holder: string) => Object.assign(new Error(`locked by ${holder}`), { code: 'TEST_LOCKED' });

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-lock-'));
  lock = path.join(dir, 'x.lock');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('withFileLock', () => {
  it('lets one holder at a time run, and removes the lock afterwards', async () => {
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withFileLock(lock, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }, { onTimeout }),
      ),
    );
    expect(most).toBe(1);
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('releases the lock when the work throws', async () => {
    await expect(withFileLock(lock, async () => { throw new Error('boom'); }, { onTimeout })).rejects.toThrow('boom');
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('waits for a live holder and then gives up with the caller’s error naming the holder', async () => {
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'live', at: 'now' }));
    await expect(withFileLock(lock, async () => 1, { onTimeout, timeoutMs: 300 })).rejects.toMatchObject({ code: 'TEST_LOCKED', message: expect.stringContaining(`process ${process.pid}`) });
    expect(JSON.parse(await readFile(lock, 'utf8')).token).toBe('live');
  });

  it.each([
    { name: 'an old lock of a live process on another host', owner: { pid: 1, host: 'elsewhere', token: 'old', at: 'then' }, ageMs: 60_000 },
    { name: 'an old empty lock (crash between create and write)', owner: undefined, ageMs: 60_000 },
    { name: 'a fresh lock of a dead process on this host', owner: { pid: 4_194_305, host: os.hostname(), token: 'dead', at: 'now' }, ageMs: 0 },
  ])('takes over $name', async ({ owner, ageMs }) => {
    await writeFile(lock, owner ? JSON.stringify(owner) : '');
    const when = new Date(Date.now() - ageMs);
    await utimes(lock, when, when);
    expect(await withFileLock(lock, async () => 'ran', { onTimeout, timeoutMs: 2_000, staleMs: 30_000 })).toBe('ran');
  });

  it('does not remove a lock that another process took over meanwhile', async () => {
    await withFileLock(lock, async () => {
      await writeFile(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'someone-else', at: 'now' }));
    }, { onTimeout });
    expect(JSON.parse(await readFile(lock, 'utf8')).token).toBe('someone-else');
  });
});

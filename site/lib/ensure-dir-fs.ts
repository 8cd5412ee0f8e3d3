/**
 * Writes into a directory that is made on first use. `mkdir -p` before every write is two
 * system calls a reply pays several times over, so each directory is made once per process; a
 * directory removed since (a build swapped dist/, a test cleaned up) is made again when the
 * write fails with ENOENT.
 */
import { mkdir } from 'node:fs/promises';

const made = new Set<string>();

/** Run `write` (which creates something inside `dir`), making `dir` first when needed. */
export async function writeInDir<T>(dir: string, write: () => Promise<T>): Promise<T> {
  if (!made.has(dir)) {
    await mkdir(dir, { recursive: true });
    made.add(dir);
  }
  try {
    return await write();
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return write();
  }
}

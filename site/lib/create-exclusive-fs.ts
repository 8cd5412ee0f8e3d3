/**
 * Create a file that must not exist yet, atomically: write a temporary file beside it, then
 * hard-link it into place. link() fails with EEXIST when the target exists, so two processes
 * racing for the same name never overwrite each other and readers never see a torn file.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';

/** Returns false (and writes nothing) when `file` already exists. */
export async function createFileExclusive(file: string, data: string | Uint8Array): Promise<boolean> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, file);
    return true;
  } catch (err: any) {
    if (err?.code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

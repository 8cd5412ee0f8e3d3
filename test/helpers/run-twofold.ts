/**
 * Run the `twofold` bin as a real subprocess (`node scripts/twofold.mjs …`), as a CSM would, and
 * make throwaway project directories holding copies of the repository's content.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TWOFOLD_BIN = path.join(REPO_ROOT, 'scripts', 'twofold.mjs');
/** Generous: tsx compiles the CLI on first run, and two cores are shared. */
const RUN_TIMEOUT_MS = 60_000;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stack frame from a TypeScript source: the CLI must never print one for expected failures. */
export const STACK_FRAME = /at .*\.ts:\d+/;

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the command's stdin, which is then closed (`twofold mail ingest -`). */
  input?: string | Buffer;
}

export function runTwofold(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, TWOFOLD_DEBUG: '', NO_COLOR: '1', ...options.env };
  delete env.TWOFOLD_CONTENT_DIR;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [TWOFOLD_BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env, timeout: RUN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** A temporary project directory with copies of the given `content/` subdirectories. */
export async function tempProject(contentParts: string[] = ['plans', 'templates', 'activity']): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'twofold-cli-'));
  for (const part of contentParts) {
    try {
      await cp(path.join(REPO_ROOT, 'content', part), path.join(root, 'content', part), { recursive: true });
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw err;
    }
  }
  return root;
}

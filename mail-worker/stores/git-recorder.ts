/**
 * The repository holding content/ is the record: each applied reply becomes its own commit,
 * authored by the person who sent it and touching only that plan's files. Commits run one at a
 * time (git's index is shared by every plan).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { TwofoldError } from '../../site/core/errors/problem.ts';

const run = promisify(execFile);
const GIT_TIMEOUT_MS = 30_000;

export interface GitRecorder {
  readonly root: string;
  commit(files: string[], author: { name: string; email: string }, message: string): Promise<boolean>;
}

export async function createGitRecorder(contentDir: string): Promise<GitRecorder> {
  let root: string;
  try {
    root = (await run('git', ['-C', contentDir, 'rev-parse', '--show-toplevel'], { timeout: GIT_TIMEOUT_MS })).stdout.trim();
  } catch {
    throw new TwofoldError('CONFIG_INVALID', `git_commit is on, but ${contentDir} is not inside a git repository`, { hint: 'Run `git init` in the content repository, or turn git_commit off (TWOFOLD_GIT_COMMIT=0).' });
  }
  let queue: Promise<unknown> = Promise.resolve();
  const git = (args: string[]) => run('git', ['-C', root, ...args], { timeout: GIT_TIMEOUT_MS, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });

  return {
    root,
    commit(files, author, message) {
      const next = queue.then(async () => {
        const rel = files.map((f) => path.relative(root, f)).filter((f) => !f.startsWith('..'));
        // Only paths that exist or are tracked can be added; the records file may not exist yet.
        const present: string[] = [];
        for (const f of rel) {
          const tracked = await git(['ls-files', '--error-unmatch', '--', f]).then(() => true, () => false);
          const exists = await import('node:fs/promises').then((fs) => fs.stat(path.join(root, f)).then(() => true, () => false));
          if (tracked || exists) present.push(f);
        }
        if (!present.length) return false;
        await git(['add', '--', ...present]);
        const staged = await git(['diff', '--cached', '--quiet', '--', ...present]).then(() => false, () => true);
        if (!staged) return false;
        const name = author.name.replace(/[<>\r\n]/g, '').slice(0, 100) || author.email;
        await git(['-c', 'user.name=Twofold', '-c', 'user.email=twofold@localhost', 'commit', '--no-verify', '--quiet', '--author', `${name} <${author.email}>`, '-m', message.replace(/\r/g, '').slice(0, 2000), '--only', '--', ...present]);
        return true;
      });
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

/**
 * With git commits on, the repository holding content/ is the record: each applied reply is
 * its own commit, authored by the person who sent it, touching only that plan and its activity
 * log, and holding only that reply's change — also when two replies arrive at the same moment.
 * A reply that changes nothing commits nothing.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerCore } from '../../../mail-worker/worker.ts';
import { replyAs } from '../../helpers/reply-builder.ts';
import { lineDiff, workerConfig, workerProject, type WorkerProject } from '../../helpers/worker-project.ts';

const NOW = new Date('2026-12-03T09:00:00Z');
const SLUG = 'tamarind-vale';

let project: WorkerProject;
let core: WorkerCore;
const git = (...args: string[]) => execFileSync('git', ['-C', project.root, ...args], { encoding: 'utf8' });

beforeAll(async () => {
  project = await workerProject({ passwords: [] });
  git('init', '--quiet');
  git('add', 'content');
  git('-c', 'user.name=Wrenna Castellanos', '-c', 'user.email=wrenna.castellanos@kestrelbyte.example', 'commit', '--quiet', '-m', 'Plans as the CSM wrote them');
  ({ core } = await project.core({ clock: () => NOW, fullBuilds: false, config: workerConfig({ git_commit: true }) }));
});

afterAll(async () => {
  await core?.close();
  await project?.remove();
});

const reply = (task: string, text: string, from?: string) => replyAs({ paths: project.paths, store: project.store, identity: core.identity }, { slug: SLUG, task, text, date: NOW, ...(from ? { from } : {}) });
const handle = (raw: Buffer) => core.processor.handle(raw, { source: 'file', receivedAt: NOW });

describe('git commits of applied replies', () => {
  it('commits two replies that arrive together as two commits, each by its sender and holding only its own change', async () => {
    const head = git('rev-parse', 'HEAD').trim();
    const [a, b] = await Promise.all([reply('T9', 'blocked: waiting on IT'), reply('T16', 'in progress')]);
    await Promise.all([handle(a.raw), handle(b.raw)]);

    const commits = git('rev-list', '--reverse', `${head}..HEAD`).trim().split('\n');
    expect(commits).toHaveLength(2);
    const seen = commits.map((sha) => {
      const author = git('show', '-s', '--format=%an <%ae>', sha).trim();
      const files = git('show', '--name-only', '--format=', sha).trim().split('\n').sort();
      const before = git('show', `${sha}~1:content/plans/${SLUG}.mdx`);
      const after = git('show', `${sha}:content/plans/${SLUG}.mdx`);
      const changed = lineDiff(before, after).added.map((l) => l.text.match(/id: (T\d+)/)?.[1]);
      return { author, files, changed };
    });
    expect(seen.sort((x, y) => x.author.localeCompare(y.author))).toEqual([
      { author: 'Hamish Ferreira-Quaid <hamish.fq@tamarindvale.example>', files: ['content/activity/tamarind-vale.jsonl', 'content/plans/tamarind-vale.mdx'], changed: ['T9'] },
      { author: 'Kirra Woodbury <kirra.woodbury@tamarindvale.example>', files: ['content/activity/tamarind-vale.jsonl', 'content/plans/tamarind-vale.mdx'], changed: ['T16'] },
    ]);
    // Nothing of the plan is left uncommitted.
    expect(git('status', '--porcelain', '--', 'content')).toBe('');
  });

  it('commits nothing for a reply that changes nothing or is refused', async () => {
    const head = git('rev-parse', 'HEAD').trim();
    await handle((await reply('T9', 'help')).raw);
    await handle((await reply('T9', 'done', 'mallory@evil.example')).raw);
    expect(git('rev-parse', 'HEAD').trim()).toBe(head);
    expect(git('status', '--porcelain', '--', 'content')).toBe('');
  });
});

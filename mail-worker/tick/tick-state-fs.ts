/** The tick state on disk: `<stateDir>/tick/<slug>.json`, replaced atomically on every change. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { assertPlanSlug } from '../../site/core/plan/plan-slug.ts';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import { emptyTickState, parseTickState, pruneTickState, type TickState } from './tick-state.ts';

export function tickStateFile(paths: ProjectPaths, slug: string): string {
  return path.join(paths.stateDir, 'tick', `${assertPlanSlug(slug)}.json`);
}

/** The plan's tick state; empty when there is none yet; TICK_STATE_INVALID when the file is not one. */
export async function readTickState(paths: ProjectPaths, slug: string): Promise<TickState> {
  const file = tickStateFile(paths, slug);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: any) {
    if (err?.code === 'ENOENT') return emptyTickState();
    throw err;
  }
  let parsed: TickState | undefined;
  try {
    parsed = parseTickState(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed) throw new TwofoldError('TICK_STATE_INVALID', `${path.relative(paths.root, file) || file} is not a tick state file`);
  return parsed;
}

export async function writeTickState(paths: ProjectPaths, slug: string, state: TickState, now: Date): Promise<void> {
  await writeFileAtomic(tickStateFile(paths, slug), `${JSON.stringify(pruneTickState(state, now), null, 2)}\n`);
}

/** Plan records and activity logs on disk, beside the plans in `content/`. */
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatActivityLine, parseActivityLog, type ActivityEntry } from '../core/plan/activity.ts';
import { assertPlanSlug } from '../core/plan/plan-slug.ts';
import { normaliseRecords, type PlanRecords } from '../core/plan/plan-records.ts';
import { writeFileAtomic } from './atomic-write-fs.ts';
import { writeInDir } from './ensure-dir-fs.ts';
import type { ProjectPaths } from './project-paths.ts';

export function recordsFile(paths: ProjectPaths, slug: string): string {
  return path.join(paths.recordsDir, `${assertPlanSlug(slug)}.json`);
}

export function activityFile(paths: ProjectPaths, slug: string): string {
  return path.join(paths.activityDir, `${assertPlanSlug(slug)}.jsonl`);
}

export async function readRecords(paths: ProjectPaths, slug: string): Promise<PlanRecords> {
  try {
    return normaliseRecords(JSON.parse(await readFile(recordsFile(paths, slug), 'utf8')));
  } catch (err: any) {
    if (err?.code === 'ENOENT') return normaliseRecords({});
    throw err;
  }
}

export async function writeRecords(paths: ProjectPaths, slug: string, records: PlanRecords): Promise<void> {
  await writeFileAtomic(recordsFile(paths, slug), `${JSON.stringify(records, null, 2)}\n`);
}

export async function readActivity(paths: ProjectPaths, slug: string): Promise<ActivityEntry[]> {
  try {
    return parseActivityLog(await readFile(activityFile(paths, slug), 'utf8'));
  } catch (err: any) {
    if (err?.code === 'ENOENT') return [];
    throw err;
  }
}

/** Append entries in one write (O_APPEND), so concurrent appends never interleave within a line. */
export async function appendActivity(paths: ProjectPaths, slug: string, entries: ActivityEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const file = activityFile(paths, slug);
  const lines = entries.map(formatActivityLine).join('');
  await writeInDir(path.dirname(file), () => appendFile(file, lines, 'utf8'));
}

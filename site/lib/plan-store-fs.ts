/**
 * Plans on disk: `content/plans/<slug>.md` or `.mdx`. Reading and validating only; writes go
 * through the plan writer (per-plan lock + atomic write) in mail-worker/stores.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TwofoldError, type Problem } from '../core/errors/problem.ts';
import { isPlanSlug, assertPlanSlug } from '../core/plan/plan-slug.ts';
import { loadPlanText, type LoadedPlan } from '../core/plan/plan-validate.ts';
import type { ProjectPaths } from './project-paths.ts';

export const PLAN_EXTENSIONS = ['.md', '.mdx'] as const;

export interface PlanFile {
  slug: string;
  file: string;
  /** Path relative to the project root, for messages (`content/plans/acme.md`). */
  label: string;
}

export interface StoredPlan extends LoadedPlan {
  slug: string;
  file: string;
  label: string;
  text: string;
}

export type StoredPlanResult = { ok: true; value: StoredPlan } | { ok: false; file: PlanFile; problems: Problem[] };

export async function listPlanFiles(paths: ProjectPaths): Promise<PlanFile[]> {
  let names: string[];
  try {
    names = await readdir(paths.plansDir);
  } catch (err: any) {
    if (err?.code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => PLAN_EXTENSIONS.some((ext) => n.endsWith(ext)) && !n.startsWith('.') && !n.startsWith('_'))
    .sort()
    .map((n) => planFileFor(paths, path.join(paths.plansDir, n)));
}

export function planFileFor(paths: ProjectPaths, file: string): PlanFile {
  const slug = path.basename(file).replace(/\.mdx?$/, '');
  return { slug, file, label: path.relative(paths.root, file) || file };
}

/** The file of a plan by slug (refuses anything that is not a slug). */
export async function findPlanFile(paths: ProjectPaths, slug: string): Promise<PlanFile> {
  assertPlanSlug(slug);
  const files = await listPlanFiles(paths);
  const hit = files.find((f) => f.slug === slug);
  if (!hit) throw new TwofoldError('PLAN_NOT_FOUND', `no plan "${slug}" in ${path.relative(paths.root, paths.plansDir) || paths.plansDir}`);
  return hit;
}

export async function readPlanFile(file: PlanFile): Promise<StoredPlanResult> {
  let text: string;
  try {
    text = await readFile(file.file, 'utf8');
  } catch (err: any) {
    return { ok: false, file, problems: [{ code: 'PLAN_FILE_UNREADABLE', severity: 'error', message: `cannot read the file: ${err?.code ?? err}`, file: file.label }] };
  }
  if (!isPlanSlug(file.slug)) {
    return { ok: false, file, problems: [{ code: 'PLAN_SLUG_INVALID', severity: 'error', message: `the file name "${file.slug}" is not a valid plan slug (lowercase letters, digits and dashes)`, file: file.label }] };
  }
  const loaded = loadPlanText(text, file.label);
  if (!loaded.ok) return { ok: false, file, problems: loaded.problems };
  return { ok: true, value: { ...loaded.value, slug: file.slug, file: file.file, label: file.label, text } };
}

/** Read one plan by slug; throws a TwofoldError listing its problems when it is invalid. */
export async function readPlan(paths: ProjectPaths, slug: string): Promise<StoredPlan> {
  const result = await readPlanFile(await findPlanFile(paths, slug));
  if (!result.ok) {
    throw new TwofoldError(result.problems[0]?.code ?? 'PLAN_FIELD_INVALID', `${result.file.label} has ${result.problems.length} problem(s); run \`npx twofold check ${result.file.label}\``, { problems: result.problems });
  }
  return result.value;
}

/** Read every plan; invalid ones come back as failures, never thrown. */
export async function readAllPlans(paths: ProjectPaths): Promise<StoredPlanResult[]> {
  const files = await listPlanFiles(paths);
  return Promise.all(files.map(readPlanFile));
}

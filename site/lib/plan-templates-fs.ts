/** Plan templates on disk: `content/templates/<name>.md` (or `.mdx`). */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TwofoldError } from '../core/errors/problem.ts';
import { isPlanSlug } from '../core/plan/plan-slug.ts';
import { PLAN_EXTENSIONS } from './plan-store-fs.ts';
import type { ProjectPaths } from './project-paths.ts';

export interface PlanTemplate {
  name: string;
  file: string;
  text: string;
}

export async function listTemplateNames(paths: ProjectPaths): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(paths.templatesDir);
  } catch (err: any) {
    if (err?.code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => PLAN_EXTENSIONS.some((ext) => n.endsWith(ext)))
    .map((n) => n.replace(/\.mdx?$/, ''))
    .filter(isPlanSlug)
    .sort();
}

/** Read a template by name; an unknown (or path-like) name lists the templates there are. */
export async function readTemplate(paths: ProjectPaths, name: string): Promise<PlanTemplate> {
  const names = await listTemplateNames(paths);
  if (!isPlanSlug(name) || !names.includes(name)) {
    const where = path.relative(paths.root, paths.templatesDir) || paths.templatesDir;
    throw new TwofoldError('PLAN_TEMPLATE_UNKNOWN', `no template "${name.slice(0, 80)}" in ${where}; available: ${names.length ? names.join(', ') : 'none'}`);
  }
  for (const ext of PLAN_EXTENSIONS) {
    const file = path.join(paths.templatesDir, `${name}${ext}`);
    try {
      return { name, file, text: await readFile(file, 'utf8') };
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw err;
    }
  }
  throw new TwofoldError('PLAN_TEMPLATE_UNKNOWN', `template "${name}" disappeared while it was being read`);
}

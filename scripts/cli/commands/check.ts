/**
 * `twofold check [paths…] [--json]`: validate plan files. Each problem prints as
 * `file:line: field.path: severity: message [CODE]` with a hint; exit 1 on any error, 0 when
 * there are only warnings.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatProblem, problemToJson } from '../../../site/core/errors/format-problem.ts';
import { problem, type Problem } from '../../../site/core/errors/problem.ts';
import { plural } from '../../../site/core/util/format.ts';
import type { ProjectPaths } from '../../../site/lib/project-paths.ts';
import { planBodyProblems } from '../../../site/lib/plan-body-problems.ts';
import { listPlanFiles, PLAN_EXTENSIONS, planFileFor, readPlanFile, type PlanFile } from '../../../site/lib/plan-store-fs.ts';
import { print, type CliCommand } from '../cli-command.ts';

/** Directories given on the command line are searched this deep for plan files. */
const MAX_DIR_DEPTH = 8;

interface CheckedPlan {
  file: string;
  slug: string;
  problems: Problem[];
}

export const command: CliCommand = {
  name: 'check',
  summary: 'validate plan files (default: every plan in content/plans)',
  usage: [
    'npx twofold check [paths…] [--json]',
    '',
    '  paths    plan files (.md, .mdx) or directories to search for them (default: content/plans)',
    '  --json   print one JSON object: { ok, summary: { plans, errors, warnings }, plans: [{ file, slug, ok, errors, warnings, problems }] }',
    '',
    'Exit status: 0 when no plan has an error (warnings allowed), 1 otherwise.',
  ].join('\n'),
  options: { json: { type: 'boolean', default: false } },
  async run({ values, positionals }, ctx) {
    const { files, missing } = positionals.length > 0 ? await filesFrom(positionals, ctx.cwd, ctx.paths) : { files: await listPlanFiles(ctx.paths), missing: [] };
    const checked: CheckedPlan[] = [...missing];
    for (const file of files) {
      const result = await readPlanFile(file);
      checked.push({ file: file.label, slug: file.slug, problems: result.ok ? [...(await planBodyProblems(result.value)), ...result.value.warnings] : result.problems });
    }
    const count = (severity: Problem['severity']) => checked.reduce((n, c) => n + c.problems.filter((p) => p.severity === severity).length, 0);
    const summary = { plans: checked.length, errors: count('error'), warnings: count('warning') };

    if (values.json) {
      const plans = checked.map((c) => ({
        file: c.file,
        slug: c.slug,
        ok: !c.problems.some((p) => p.severity === 'error'),
        errors: c.problems.filter((p) => p.severity === 'error').length,
        warnings: c.problems.filter((p) => p.severity === 'warning').length,
        problems: c.problems.map(problemToJson),
      }));
      print(ctx.stdout, JSON.stringify({ ok: summary.errors === 0, summary, plans }, null, 2));
    } else {
      for (const c of checked) {
        // A hint is printed with the first problem of its code in a file, not twelve times.
        const hinted = new Set<string>();
        for (const p of c.problems) {
          const { hint, ...rest } = p;
          print(ctx.stdout, formatProblem(hint && !hinted.has(p.code) ? p : rest));
          hinted.add(p.code);
        }
      }
      if (checked.length === 0) print(ctx.stdout, `no plan files found in ${positionals.length > 0 ? positionals.join(', ') : path.relative(ctx.cwd, ctx.paths.plansDir) || '.'}`);
      print(ctx.stdout, `checked ${plural(summary.plans, 'plan')}: ${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')}`);
    }
    return summary.errors > 0 ? 1 : 0;
  },
};

async function filesFrom(args: string[], cwd: string, paths: ProjectPaths): Promise<{ files: PlanFile[]; missing: CheckedPlan[] }> {
  const found = new Map<string, PlanFile>();
  const missing: CheckedPlan[] = [];
  for (const arg of args) {
    const abs = path.resolve(cwd, arg);
    let kind: 'file' | 'dir';
    try {
      kind = (await stat(abs)).isDirectory() ? 'dir' : 'file';
    } catch (err: any) {
      const why = err?.code === 'ENOENT' ? 'no such file or directory' : `cannot read it (${err?.code ?? err})`;
      missing.push({ file: arg, slug: '', problems: [problem('PLAN_FILE_UNREADABLE', why, { file: arg })] });
      continue;
    }
    const list = kind === 'dir' ? await planFilesUnder(abs) : [abs];
    for (const file of list) found.set(file, planFileFor(paths, file));
  }
  return { files: [...found.values()].sort((a, b) => a.label.localeCompare(b.label)), missing };
}

/** Plan files under a directory, skipping hidden and `_draft` entries like content/plans does. */
async function planFilesUnder(dir: string, depth = 0): Promise<string[]> {
  if (depth > MAX_DIR_DEPTH) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name.startsWith('_') || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await planFilesUnder(full, depth + 1)));
    else if (entry.isFile() && PLAN_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) out.push(full);
  }
  return out;
}

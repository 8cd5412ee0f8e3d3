/**
 * The content loader for plans: reads `content/plans/*.md(x)` with Twofold's own parser (the same
 * the CLI and worker use), validates with the collection schema, and stores each plan with its
 * rendered narrative. Unchanged files are skipped by digest, so a rebuild renders only what moved.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Loader } from 'astro/loaders';
import { formatProblem } from '../core/errors/format-problem.ts';
import { parsePlanSource } from '../core/plan/plan-file.ts';
import { loadPlanText } from '../core/plan/plan-validate.ts';
import { bodyKindOf, renderPlanBody } from '../core/render/plan-body.ts';
import { listPlanFiles } from './plan-store-fs.ts';
import { buildPaths } from './build-context.ts';
import type { ProjectPaths } from './project-paths.ts';

export function plansLoader(): Loader {
  return {
    name: 'twofold-plans',
    async load({ store, parseData, generateDigest, logger, watcher }) {
      const paths: ProjectPaths = buildPaths();
      const sync = async () => {
        const files = await listPlanFiles(paths);
        const seen = new Set<string>();
        const problems: string[] = [];
        for (const file of files) {
          seen.add(file.slug);
          const text = await readFile(file.file, 'utf8');
          const digest = generateDigest(text);
          if (store.get(file.slug)?.digest === digest) continue;
          // Parse here, validate once through the collection (the same schema); the full report
          // with lines and hints is only needed when something is wrong.
          const parsed = parsePlanSource(text);
          let data: Record<string, unknown> | undefined;
          if (parsed.ok) data = await parseData({ id: file.slug, data: parsed.source.data as Record<string, unknown>, filePath: file.file }).catch(() => undefined);
          if (!parsed.ok || !data) {
            const loaded = loadPlanText(text, file.label);
            problems.push(...(loaded.ok ? [`${file.label}: invalid`] : loaded.problems.map(formatProblem)));
            store.delete(file.slug);
            continue;
          }
          const body = await renderPlanBody(parsed.source.body, bodyKindOf(file.file));
          if (body.problems.length) {
            const offset = text.slice(0, text.length - parsed.source.body.length).split('\n').length - 1;
            problems.push(...body.problems.map((p) => formatProblem({ ...p, file: file.label, ...(p.line ? { line: p.line + offset } : {}) })));
            store.delete(file.slug);
            continue;
          }
          store.set({ id: file.slug, data, body: parsed.source.body, rendered: { html: body.html }, digest, filePath: path.relative(paths.root, file.file) });
        }
        for (const id of store.keys()) if (!seen.has(id)) store.delete(id);
        if (problems.length) {
          // In a build this cannot happen (`twofold build` checks first); in `astro dev` the bad plan is left out.
          logger.error(`${problems.length} problem(s) in plans; run \`npx twofold check\`:\n${problems.join('\n')}`);
        }
      };
      await sync();
      watcher?.add(paths.plansDir);
      const onChange = (changed: string) => {
        if (path.dirname(changed) === paths.plansDir) void sync();
      };
      watcher?.on('change', onChange);
      watcher?.on('add', onChange);
      watcher?.on('unlink', onChange);
    },
  };
}

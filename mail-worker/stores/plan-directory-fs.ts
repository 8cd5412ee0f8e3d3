/**
 * The worker's view of the plans: parsed plans cached by file size and mtime (a stat per use, a
 * parse only when the file changed), and the index of reply-token plan references. At 1,000
 * plans a reply must not re-read every plan to find its own.
 */
import { stat } from 'node:fs/promises';
import { formatProblem } from '../../site/core/errors/format-problem.ts';
import { TwofoldError, type Problem } from '../../site/core/errors/problem.ts';
import { replyPlanRef, type ReplyTokenCandidate } from '../../site/core/reply/reply-token.ts';
import { listPlanFiles, readPlanFile, type PlanFile, type StoredPlan } from '../../site/lib/plan-store-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { PlanDirectory } from '../pipeline/evaluate-message.ts';

/** Re-list the plans folder at most this often (a new plan shows up within it). */
const LIST_TTL_MS = 1_000;

interface Cached {
  file: PlanFile;
  stamp: string;
  plan?: StoredPlan;
  /** Why the file did not load (it exists but has errors). */
  problems?: Problem[];
}

export interface CachedPlanDirectory extends PlanDirectory {
  /** Forget a plan so the next get() re-reads it. */
  invalidate(slug: string): void;
  /** Remember a plan the worker just wrote (its parse is already in hand). */
  put(plan: StoredPlan): Promise<void>;
  slugs(): Promise<string[]>;
}

export function openPlanDirectory(paths: ProjectPaths): CachedPlanDirectory {
  const cache = new Map<string, Cached>();
  const refs = new Map<string, Set<string>>();
  let listedAt = 0;
  let files = new Map<string, PlanFile>();

  async function list(): Promise<Map<string, PlanFile>> {
    if (Date.now() - listedAt < LIST_TTL_MS) return files;
    const next = new Map((await listPlanFiles(paths)).map((f) => [f.slug, f]));
    for (const slug of next.keys()) {
      if (files.has(slug)) continue;
      const ref = await replyPlanRef(slug);
      if (!refs.has(ref)) refs.set(ref, new Set());
      refs.get(ref)!.add(slug);
    }
    files = next;
    listedAt = Date.now();
    return files;
  }

  async function get(slug: string): Promise<StoredPlan | undefined> {
    const file = (await list()).get(slug);
    if (!file) return undefined;
    let stamp: string;
    try {
      const s = await stat(file.file);
      stamp = `${s.size}:${s.mtimeMs}`;
    } catch {
      return undefined;
    }
    const hit = cache.get(slug);
    if (hit && hit.stamp === stamp && hit.file.file === file.file) return hit.plan;
    const read = await readPlanFile(file);
    const entry: Cached = read.ok ? { file, stamp, plan: read.value } : { file, stamp, problems: read.problems };
    cache.set(slug, entry);
    return entry.plan;
  }

  return {
    get,
    async lookup(planRef: string): Promise<ReplyTokenCandidate[]> {
      await list();
      const out: ReplyTokenCandidate[] = [];
      const broken: string[] = [];
      for (const slug of refs.get(planRef) ?? []) {
        const plan = await get(slug);
        if (plan) out.push({ plan: slug, emails: plan.plan.people.map((p) => p.email), tasks: plan.plan.stages.flatMap((s) => s.tasks.map((t) => t.id)) });
        else if (cache.get(slug)?.problems?.length) broken.push(slug);
      }
      if (out.length === 0 && broken.length > 0) {
        // The token's plan exists but its file has errors (a hand edit in progress). Rejecting
        // the reply would lose it: throw, so the source keeps it and tries again (IMAP retry,
        // SMTP 451, exit 75 for an MTA pipe), and it applies once the plan is fixed.
        const problem = cache.get(broken[0]!)!.problems![0]!;
        throw new TwofoldError('MAIL_PLAN_INVALID', `plan ${broken[0]} has errors, so the reply waits until it is fixed: ${formatProblem(problem).split('\n')[0]}`, { hint: 'Run `npx twofold check` and fix the plan.' });
      }
      return out;
    },
    invalidate(slug) {
      cache.delete(slug);
    },
    async put(plan) {
      const file = (await list()).get(plan.slug);
      if (!file) return;
      try {
        const s = await stat(plan.file);
        cache.set(plan.slug, { file, stamp: `${s.size}:${s.mtimeMs}`, plan });
      } catch {
        cache.delete(plan.slug);
      }
    },
    async slugs() {
      listedAt = 0;
      return [...(await list()).keys()];
    },
  };
}

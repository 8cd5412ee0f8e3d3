/**
 * `twofold build`: check every plan, run Astro in-process to build the portal shells with each
 * plan sealed inside, scan the output for anything from a plan in the clear, then swap the new
 * output in place of the published `dist/`. A failed build (a bad plan, an Astro error, a leak)
 * leaves the last good `dist/` untouched.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem } from '../core/errors/format-problem.ts';
import { TwofoldError, type Problem } from '../core/errors/problem.ts';
import { leakNeedles } from '../core/portal/leak-needles.ts';
import { ASTRO_CACHE_ENV, ASTRO_OUT_ENV, BUILD_NOW_ENV, BUILD_PROGRESS_ENV, parseBuildEvent, type BuildEvent } from './build-context.ts';
import { scanForLeaks, type Leak } from './leak-scan-fs.ts';
import { planBodyProblems } from './plan-body-problems.ts';
import { listPlanFiles, readPlanFile, type StoredPlan } from './plan-store-fs.ts';
import type { ProjectPaths } from './project-paths.ts';
import { openSecretStore } from './secret-store-fs.ts';

/** Where Twofold's own code lives (astro.config.mjs, site/): the Astro root. */
export const CODE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ASTRO_BIN = path.join(CODE_ROOT, 'node_modules', 'astro', 'astro.js');

export interface BuildHooks {
  phase?(name: string, total?: number): void;
  tick?(done: number, total?: number, label?: string): void;
  /** Called with the staging directory before the leak scan (tests plant canaries here). */
  beforeScan?(stagingDir: string): Promise<void>;
}

export interface BuildOptions {
  paths: ProjectPaths;
  env: Record<string, string | undefined>;
  now: Date;
  hooks?: BuildHooks;
  /** Extra strings the leak scan must not find (tests plant canaries here). */
  canaries?: string[];
}

export interface BuildReport {
  plans: number;
  /** Portals sealed anew. */
  sealed: string[];
  /** Portals whose cached envelope was reused (nothing changed). */
  reused: string[];
  skipped: Array<{ slug: string; reason: string }>;
  leakScan: { files: number; bytes: number; needles: number };
  distDir: string;
}

export async function buildPortals(options: BuildOptions): Promise<BuildReport> {
  const { paths, hooks = {} } = options;

  // Astro starts at once, alongside the check (two cores, and the check is a fifth of the
  // build); if the check finds errors, Astro is stopped and its output thrown away unseen.
  const staging = path.join(CODE_ROOT, '.astro', `build-${process.pid}-${Date.now().toString(36)}`);
  const sealed: string[] = [];
  const reused: string[] = [];
  let total = 0;
  let showing = false;
  const onEvent = (event: BuildEvent) => {
    if (event.kind === 'skipped') return;
    (event.kind === 'reused' ? reused : sealed).push(event.slug);
    if (showing) hooks.tick?.(sealed.length + reused.length, total);
  };
  const astro = startAstroBuild(staging, paths, options.now, onEvent);
  let checked: Awaited<ReturnType<typeof checkPlans>>;
  try {
    checked = await checkPlans(options);
    total = checked.withPassword;
    hooks.phase?.('astro', total);
    showing = true;
    hooks.tick?.(sealed.length + reused.length, total);
    await astro.done;
  } catch (err) {
    astro.stop();
    await astro.done.catch(() => undefined);
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  const { plans, skipped } = checked;

  hooks.phase?.('leak scan');
  await hooks.beforeScan?.(staging);
  const needles = new Map(plans.map((p) => [p.slug, leakNeedles(p.plan, p.body)]));
  if (options.canaries?.length) needles.set('(canary)', options.canaries);
  const scan = await scanForLeaks(staging, needles);
  if (scan.leaks.length) {
    await rm(staging, { recursive: true, force: true });
    throw new TwofoldError('BUILD_LEAK', `the build output contained plan text in the clear, so it was deleted and dist/ was left as it was:\n${formatLeaks(scan.leaks)}`);
  }

  hooks.phase?.('swap into dist');
  await swapInto(staging, paths.distDir);
  return { plans: plans.length, sealed, reused, skipped, leakScan: { files: scan.files, bytes: scan.bytes, needles: scan.needles }, distDir: paths.distDir };
}

interface CheckedPlan {
  slug: string;
  plan: StoredPlan['plan'];
  body: string;
}

/** The check `twofold check` makes (frontmatter and body), then which plans have a password. */
async function checkPlans(options: BuildOptions): Promise<{ plans: CheckedPlan[]; skipped: BuildReport['skipped']; withPassword: number }> {
  const { paths, hooks = {} } = options;
  hooks.phase?.('check');
  const problems: Problem[] = [];
  // One plan at a time, keeping only what the leak scan needs: a thousand parsed YAML documents
  // held at once would cost more memory than the whole Astro build.
  const plans: CheckedPlan[] = [];
  for (const file of await listPlanFiles(paths)) {
    const r = await readPlanFile(file);
    if (!r.ok) {
      problems.push(...r.problems);
      continue;
    }
    problems.push(...(await planBodyProblems(r.value)));
    plans.push({ slug: r.value.slug, plan: r.value.plan, body: r.value.source.body });
  }
  if (problems.length) {
    throw new TwofoldError('BUILD_PLANS_INVALID', `${problems.filter((p) => p.severity === 'error').length} error(s) in plans; nothing was built and dist/ was left as it was`, { problems });
  }
  hooks.phase?.('keys', plans.length);
  const store = openSecretStore(paths, options.env);
  const skipped: BuildReport['skipped'] = [];
  let withPassword = 0;
  for (const [i, plan] of plans.entries()) {
    const secrets = await store.getPortal(plan.slug);
    if (secrets?.password) withPassword++;
    else skipped.push({ slug: plan.slug, reason: `no password yet — run \`npx twofold password ${plan.slug}\`` });
    hooks.tick?.(i + 1, plans.length);
  }
  return { plans, skipped, withPassword };
}

function formatLeaks(leaks: Leak[]): string {
  return leaks.map((l) => `  ${l.file}: "${l.needle}" (from ${l.plan}, in the ${l.where === 'name' ? 'file name' : 'file content'})`).join('\n');
}

/**
 * Astro runs in a child process, from the code root: its prerender chunks are written into the
 * output directory and imported, so the output must sit where Twofold's node_modules resolve and
 * inside Astro's working directory (else it detours through `.astro/` and copies its generated
 * files into the output). The child gets absolute project paths, so the plans it reads are the
 * project's wherever the CLI was started.
 */
function startAstroBuild(outDir: string, paths: ProjectPaths, now: Date, onEvent: (event: BuildEvent) => void): { done: Promise<void>; stop(): void } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ASTRO_TELEMETRY_DISABLED: '1',
    // Vite derives import.meta.env from NODE_ENV; a portal build is always a production build.
    NODE_ENV: 'production',
    TWOFOLD_CONTENT_DIR: paths.contentDir,
    TWOFOLD_HOME: paths.localDir,
    TWOFOLD_SECRETS_FILE: paths.secretsFile,
    TWOFOLD_OUTBOX_DIR: paths.outboxDir,
    TWOFOLD_DIST_DIR: paths.distDir,
    [ASTRO_OUT_ENV]: outDir,
    [ASTRO_CACHE_ENV]: path.join(paths.cacheDir, 'astro'),
    [BUILD_NOW_ENV]: now.toISOString(),
    [BUILD_PROGRESS_ENV]: '1',
  };
  delete env.TWOFOLD_PREVIEW;
  const output: string[] = [];
  const child = spawn(process.execPath, [ASTRO_BIN, 'build', '--root', CODE_ROOT, '--silent'], { cwd: CODE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve, reject) => {
    const lines = (chunk: Buffer, into: string[]) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        const event = parseBuildEvent(line);
        if (event) onEvent(event);
        else if (line.trim()) into.push(line);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => lines(chunk, output));
    child.stderr.on('data', (chunk: Buffer) => lines(chunk, output));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const done = exited.then((code) => {
    if (code !== 0) {
      const detail = output.filter((l) => !/^\s+at /.test(l)).slice(-8).join('\n');
      throw new TwofoldError('BUILD_ASTRO_FAILED', `Astro could not build the portals, so dist/ was left as it was:\n${detail || `astro exited with ${code}`}`);
    }
  });
  // Callers await `done` after stopping; until then a rejection is theirs to see, not unhandled.
  done.catch(() => undefined);
  return { done, stop: () => void child.kill('SIGKILL') };
}

/**
 * Replace `dist/` with the new output: the output is first moved beside dist/ (a copy when it is
 * on another file system), then two renames, so a server sees the old or the new site.
 */
async function swapInto(staging: string, distDir: string): Promise<void> {
  const next = `${distDir}.next-${process.pid}`;
  const old = `${distDir}.old-${process.pid}`;
  await mkdir(path.dirname(distDir), { recursive: true });
  try {
    await rename(staging, next);
  } catch (err: any) {
    if (err?.code !== 'EXDEV') throw err;
    await cp(staging, next, { recursive: true });
    await rm(staging, { recursive: true, force: true });
  }
  const exists = await stat(distDir).then(() => true, () => false);
  if (exists) await rename(distDir, old);
  await rename(next, distDir);
  if (exists) await rm(old, { recursive: true, force: true });
}

export function formatBuildProblems(problems: Problem[]): string {
  return problems.map(formatProblem).join('\n');
}

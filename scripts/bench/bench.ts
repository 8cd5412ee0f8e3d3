/**
 * `npm run bench [-- --plans N] [--only phase,phase] [--keep]`: Twofold's figures against plain
 * baselines, in one run (`--only` runs some phases, e.g. `--only throughput` while tuning;
 * `--keep` leaves the work folder in place).
 *
 *   build      `twofold build` (time, peak memory) vs a plain `astro build` of the same MDX plans
 *   protect    sealing N rendered portals vs StatiCrypt protecting the same N pages
 *   unlock     password submitted → plan visible in headless Chromium (median of 10)
 *   latency    reply → re-sealed portal file, via the embedded SMTP inbox (p50, p95)
 *   throughput replies parsed, authenticated and applied per second (no re-seal), by one worker
 *              process and by two
 *   dovecot    reply → re-sealed portal via Dovecot (p50, p95), and a backlog of N replies in
 *              Dovecot drained (time, applied vs sent)
 *
 * Prints a table and writes bench-results.json (each figure with its unit, each ratio).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { loadWorkerConfig } from '../../mail-worker/config/worker-config.ts';
import { startWorker, createWorkerCore } from '../../mail-worker/worker.ts';
import { portalUrl } from '../../site/core/portal/portal-links.ts';
import { generatePassword } from '../../site/core/portal/portal-password.ts';
import { sealPortalPayload } from '../../site/core/portal/portal-payload-codec.ts';
import { CODE_ROOT } from '../../site/lib/portal-build.ts';
import { nodeAesGcmEncrypt } from '../../site/lib/node-aes-gcm.ts';
import { portalPayloadFor } from '../../site/lib/portal-seal-fs.ts';
import { projectPaths, type ProjectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore } from '../../site/lib/secret-store-fs.ts';
import { startDovecot } from '../../test/helpers/dovecot.ts';
import { launchChromium } from '../../test/helpers/chromium.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { startStaticServer } from '../../test/helpers/static-server.ts';
import { createProgress } from '../cli/progress.ts';
import { REPLIES_IN_FLIGHT, replyMessages, type BenchReply } from './bench-replies.ts';
import { writeSyntheticPlans } from './synthetic-plans.ts';

const TARGETS = {
  buildRatio: 1.15,
  buildPeakMb: 1200,
  latencyP50Ms: 1000,
  latencyP95Ms: 2000,
  throughputPerSec: 200,
  backlogSeconds: 60,
  protectionSpeedup: 10,
  unlockMs: 400,
};
/** Phases in run order; `--only` picks some (figures of the others are left out of the report). */
const PHASES = ['build', 'protect', 'unlock', 'latency', 'throughput', 'dovecot'] as const;
const LATENCY_REPLIES = 60;
const UNLOCK_RUNS = 10;
const PASSWORD_CONCURRENCY = 4;

interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

const out = process.stdout;
const progress = createProgress(out, Boolean(out.isTTY));
const figures: Figure[] = [];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { plans: { type: 'string', default: '1000' }, keep: { type: 'boolean' }, only: { type: 'string' } } });
  const n = Number(values.plans);
  if (!Number.isInteger(n) || n < 2) throw new Error('--plans must be a whole number of at least 2');
  const only = values.only === undefined ? [...PHASES] : values.only.split(',').map((p) => p.trim());
  const unknown = only.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`--only takes a comma-separated list of ${PHASES.join(', ')}; "${unknown.join(', ')}" is not one`);
  const run = (phase: (typeof PHASES)[number]) => only.includes(phase);
  const root = await mkdtemp(path.join(os.tmpdir(), 'twofold-bench-'));
  const paths = projectPaths(root, {});
  out.write(`Twofold benchmark: ${n} plans, 2-core figures, work dir ${root}\n`);
  try {
    // Applying replies needs no portal passwords; every other phase seals or opens portals.
    await setup(paths, n, only.some((p) => p !== 'throughput'));
    if (run('build')) await benchBuild(paths, n);
    if (run('protect')) await benchProtection(paths, n, root);
    if (run('unlock')) await benchUnlock(paths);
    if (run('latency')) await benchLatencySmtp(paths, n);
    if (run('throughput')) await benchThroughput(paths, n);
    if (run('dovecot')) await benchDovecot(paths, n);
  } finally {
    progress.done();
    if (!values.keep) await rm(root, { recursive: true, force: true });
  }
  report(n);
}

// ── setup ────────────────────────────────────────────────────────────────────────────────────

async function setup(paths: ProjectPaths, n: number, passwords: boolean): Promise<void> {
  progress.phase('generate plans', n);
  await writeSyntheticPlans(paths.plansDir, n, '.mdx');
  progress.tick(n, n);
  if (!passwords) return;
  progress.phase('passwords (PBKDF2, once per plan)', n);
  const store = openSecretStore(paths, {});
  const slugs = (await readdir(paths.plansDir)).map((f) => f.replace(/\.mdx$/, '')).sort();
  let done = 0;
  await pool(slugs, PASSWORD_CONCURRENCY, async (slug) => {
    await store.setPassword(slug, generatePassword());
    progress.tick(++done, n);
  });
}

// ── build ────────────────────────────────────────────────────────────────────────────────────

async function benchBuild(paths: ProjectPaths, n: number): Promise<void> {
  progress.phase('plain astro build (baseline)');
  const baselineDir = await baselineProject(paths);
  const plain = await measured(process.execPath, [path.join(CODE_ROOT, 'node_modules/astro/astro.js'), 'build', '--silent'], baselineDir, { ASTRO_TELEMETRY_DISABLED: '1' });
  progress.phase('twofold build (cold)');
  const ours = await measured(process.execPath, [path.join(CODE_ROOT, 'scripts/twofold.mjs'), 'build'], paths.root, {});
  const portals = (await readdir(path.join(paths.distDir, 'p'))).length;
  if (portals !== n) throw new Error(`twofold build made ${portals} portals for ${n} plans`);
  figures.push({
    name: 'twofold build, full (cold)',
    value: ours.seconds,
    unit: 's',
    baseline: { name: 'plain astro build, same MDX', value: plain.seconds, unit: 's' },
    ratio: ours.seconds / plain.seconds,
    target: `≤ ${TARGETS.buildRatio} × baseline`,
    met: ours.seconds / plain.seconds <= TARGETS.buildRatio,
  });
  figures.push({
    name: 'twofold build, peak memory (all its processes)',
    value: ours.peakMb,
    unit: 'MB',
    baseline: { name: 'plain astro build, peak memory', value: plain.peakMb, unit: 'MB' },
    ratio: ours.peakMb / plain.peakMb,
    target: `≤ ${TARGETS.buildPeakMb} MB`,
    met: ours.peakMb <= TARGETS.buildPeakMb,
  });
  // One plan changes: Twofold rebuilds (or, in the worker, re-seals one portal); Astro rebuilds all.
  const changed = path.join(paths.plansDir, 'plan-0001.mdx');
  await writeFile(changed, (await readFile(changed, 'utf8')).replace('status: todo', 'status: in_progress'));
  await writeFile(path.join(baselineDir, 'content/plans/plan-0001.mdx'), await readFile(changed, 'utf8'));
  progress.phase('rebuild after one plan changed');
  const plainAgain = await measured(process.execPath, [path.join(CODE_ROOT, 'node_modules/astro/astro.js'), 'build', '--silent'], baselineDir, { ASTRO_TELEMETRY_DISABLED: '1' });
  const oursAgain = await measured(process.execPath, [path.join(CODE_ROOT, 'scripts/twofold.mjs'), 'build'], paths.root, {});
  figures.push({
    name: 'twofold build after one plan changed',
    value: oursAgain.seconds,
    unit: 's',
    baseline: { name: 'plain astro build after one change', value: plainAgain.seconds, unit: 's' },
    ratio: oursAgain.seconds / plainAgain.seconds,
    note: 'the worker re-seals one portal instead (see reply latency)',
  });
}

/** A plain Astro site over the same plans: a collection of the MDX files and one page per plan. */
async function baselineProject(paths: ProjectPaths): Promise<string> {
  const dir = path.join(paths.root, 'baseline');
  await mkdir(path.join(dir, 'src/pages/p'), { recursive: true });
  await mkdir(path.join(dir, 'content'), { recursive: true });
  await symlink(path.join(CODE_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  await symlink(paths.plansDir, path.join(dir, 'content/plans'));
  await writeFile(
    path.join(dir, 'astro.config.mjs'),
    `import mdx from '@astrojs/mdx';\nimport { defineConfig, passthroughImageService } from 'astro/config';\nexport default defineConfig({ integrations: [mdx()], image: { service: passthroughImageService() }, build: { format: 'directory' } });\n`,
  );
  await writeFile(
    path.join(dir, 'src/content.config.ts'),
    `import { defineCollection, z } from 'astro:content';\nimport { glob } from 'astro/loaders';\nexport const collections = { plans: defineCollection({ loader: glob({ pattern: '*.mdx', base: './content/plans' }), schema: z.object({ client: z.string(), vendor: z.string() }).passthrough() }) };\n`,
  );
  await writeFile(
    path.join(dir, 'src/pages/p/[slug].astro'),
    `---\nimport { getCollection, render } from 'astro:content';\nexport async function getStaticPaths() {\n  return (await getCollection('plans')).map((entry) => ({ params: { slug: entry.id }, props: { entry } }));\n}\nconst { entry } = Astro.props;\nconst { Content } = await render(entry);\n---\n<html lang="en"><head><meta charset="utf-8"><title>{entry.data.client}</title></head><body><h1>{entry.data.client} × {entry.data.vendor}</h1><Content /></body></html>\n`,
  );
  return dir;
}

/**
 * Run a command, returning wall time and peak memory: the sum of the peak RSS (getrusage) of
 * every process it ran (`twofold build` runs Astro in a child), a conservative figure since the
 * processes' peaks need not coincide.
 */
async function measured(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ seconds: number; peakMb: number }> {
  const rssDir = await mkdtemp(path.join(os.tmpdir(), 'twofold-bench-rss-'));
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env, BENCH_MAXRSS_DIR: rssDir, NODE_OPTIONS: `--import=${path.join(CODE_ROOT, 'scripts/bench/report-maxrss.mjs')}`, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(args[0]!)} exited ${code}:\n${log.slice(-3000)}`))));
  });
  const seconds = (performance.now() - started) / 1000;
  let totalKb = 0;
  for (const name of await readdir(rssDir)) totalKb += (JSON.parse(await readFile(path.join(rssDir, name), 'utf8')) as { maxRssKb: number }).maxRssKb;
  await rm(rssDir, { recursive: true, force: true });
  return { seconds, peakMb: totalKb / 1024 };
}

// ── protection ───────────────────────────────────────────────────────────────────────────────

async function benchProtection(paths: ProjectPaths, n: number, root: string): Promise<void> {
  progress.phase('render the pages to protect', n);
  const store = openSecretStore(paths, {});
  const ctx = { paths, store, now: new Date() };
  const slugs = (await readdir(paths.plansDir)).map((f) => f.replace(/\.mdx$/, '')).sort();
  const pages = path.join(root, 'plain-pages');
  await mkdir(pages, { recursive: true });
  const items: Array<{ secrets: Awaited<ReturnType<typeof store.getPortal>>; payload: Awaited<ReturnType<typeof portalPayloadFor>> }> = [];
  for (const [i, slug] of slugs.entries()) {
    const secrets = (await store.getPortal(slug))!;
    const payload = await portalPayloadFor(ctx, slug, secrets);
    items.push({ secrets, payload });
    await writeFile(path.join(pages, `${slug}.html`), `<!doctype html><html><head><meta charset="utf-8"><title>${payload.title}</title></head><body>${payload.html}</body></html>`);
    progress.tick(i + 1, n);
  }
  progress.phase('protect: Twofold seal');
  const t0 = performance.now();
  for (const item of items) {
    const sealed = await sealPortalPayload(item.secrets!, item.payload, nodeAesGcmEncrypt);
    // V8 joins concatenated strings lazily: read one character so the joining is timed here too.
    sealed.charCodeAt(sealed.length >> 1);
  }
  const ours = (performance.now() - t0) / 1000;
  progress.phase('protect: StatiCrypt');
  const t1 = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [path.join(CODE_ROOT, 'node_modules/staticrypt/cli/index.js'), pages, '-r', '-d', path.join(root, 'staticrypt-out'), '-p', generatePassword(), '--short', '-c', 'false'], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve()));
  });
  const theirs = (performance.now() - t1) / 1000;
  const encrypted = (await readdir(path.join(root, 'staticrypt-out'), { recursive: true })).filter((f) => String(f).endsWith('.html')).length;
  if (encrypted !== n) throw new Error(`StatiCrypt protected ${encrypted} of ${n} pages`);
  figures.push({
    name: 'protection step alone (seal N portals)',
    value: ours,
    unit: 's',
    baseline: { name: 'StatiCrypt on the same N pages', value: theirs, unit: 's' },
    ratio: theirs / ours,
    target: `≥ ${TARGETS.protectionSpeedup} × faster`,
    met: theirs / ours >= TARGETS.protectionSpeedup,
    note: 'ratio = StatiCrypt time / Twofold time',
  });
}

// ── unlock ───────────────────────────────────────────────────────────────────────────────────

async function benchUnlock(paths: ProjectPaths): Promise<void> {
  progress.phase('unlock in Chromium', UNLOCK_RUNS);
  const store = openSecretStore(paths, {});
  const secrets = (await store.getPortal('plan-0000'))!;
  const server = await startStaticServer(paths.distDir);
  const browser = await launchChromium();
  const times: number[] = [];
  try {
    for (let i = 0; i < UNLOCK_RUNS; i++) {
      const page = await browser.context.newPage();
      await page.goto(portalUrl(server.url, secrets.portalId));
      await page.fill('#unlock-password', secrets.password!.secret);
      // Measured in the page: from the submit event to the plan shown (no test-harness round trips).
      const ms = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const portal = document.getElementById('portal')!;
            const start = performance.now();
            new MutationObserver(() => {
              if (!portal.hidden) resolve(performance.now() - start);
            }).observe(portal, { attributes: true, attributeFilter: ['hidden'] });
            (document.querySelector('#unlock-form button[type=submit]') as HTMLButtonElement).click();
          }),
      );
      times.push(ms);
      await page.close();
      progress.tick(i + 1, UNLOCK_RUNS);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  const med = percentile(times, 50);
  figures.push({ name: 'portal unlock, password → plan visible (median of 10)', value: med, unit: 'ms', target: `≤ ${TARGETS.unlockMs} ms`, met: med <= TARGETS.unlockMs, note: 'includes PBKDF2-SHA256 at 600,000 iterations' });
}

// ── reply latency via the embedded SMTP inbox ────────────────────────────────────────────────

async function benchLatencySmtp(paths: ProjectPaths, n: number): Promise<void> {
  progress.phase('reply latency via SMTP', LATENCY_REPLIES);
  const port = await freePort();
  const env = { TWOFOLD_INBOUND_SMTP_PORT: String(port), TWOFOLD_TICK_MINUTES: '0' };
  const resealed = new Map<string, number>();
  const config = await loadWorkerConfig(paths, env);
  const worker = await startWorker({ paths, env, config, tickAfterReplies: false, log: (e) => e.event === 'portal.reseal' && e.status === 'resealed' && resealed.set(String(e.plan), performance.now()) });
  const replies = await replyMessages(paths, worker.core, Math.min(LATENCY_REPLIES, n), 'latency');
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  const times: number[] = [];
  try {
    for (const [i, reply] of replies.entries()) {
      const t0 = performance.now();
      await transport.sendMail({ envelope: { from: reply.from, to: [reply.to] }, raw: reply.raw });
      const t1 = resealed.get(reply.slug);
      if (t1 === undefined) throw new Error(`reply to ${reply.slug} did not re-seal its portal`);
      times.push(t1 - t0);
      resealed.delete(reply.slug);
      progress.tick(i + 1, replies.length);
    }
  } finally {
    transport.close();
    await worker.stop();
  }
  pushLatency('reply → re-sealed portal, embedded SMTP', times);
}

function pushLatency(name: string, times: number[]): void {
  const p50 = percentile(times, 50);
  const p95 = percentile(times, 95);
  figures.push({ name: `${name}, p50 (${times.length} replies)`, value: p50, unit: 'ms', target: `≤ ${TARGETS.latencyP50Ms} ms`, met: p50 <= TARGETS.latencyP50Ms });
  figures.push({ name: `${name}, p95`, value: p95, unit: 'ms', target: `≤ ${TARGETS.latencyP95Ms} ms`, met: p95 <= TARGETS.latencyP95Ms });
}

// ── throughput (apply only) ──────────────────────────────────────────────────────────────────

async function benchThroughput(paths: ProjectPaths, n: number): Promise<void> {
  const count = Math.max(n, 200);
  progress.phase('prepare replies for throughput', count);
  const config = await loadWorkerConfig(paths, { TWOFOLD_TICK_MINUTES: '0' });
  const core = await createWorkerCore({ paths, env: {}, config, reseal: false, fullBuilds: false, tickAfterReplies: false, log: () => {} });
  const replies = await replyMessages(paths, core, count, 'throughput', (i) => progress.tick(i, count));
  // A running worker holds its plans parsed (it re-reads one only when its file changes).
  for (const r of replies) await core.plans.get(r.slug);
  progress.phase('throughput: parse, authenticate, apply', count);
  await flushDisk();
  let done = 0;
  let applied = 0;
  const t0 = performance.now();
  await pool(replies, REPLIES_IN_FLIGHT, async (reply: BenchReply) => {
    const outcome = await core.processor.handle(reply.raw, { source: 'smtp', receivedAt: new Date() });
    if (outcome.reason === 'REPLY_APPLIED') applied++;
    progress.tick(++done, count);
  });
  const seconds = (performance.now() - t0) / 1000;
  await core.close();
  if (applied !== count) throw new Error(`throughput run applied ${applied} of ${count} replies`);
  const rate = count / seconds;
  figures.push({ name: `replies applied per second, one worker process (${count}, no re-seal)`, value: rate, unit: 'replies/s', target: `≥ ${TARGETS.throughputPerSec}/s`, met: rate >= TARGETS.throughputPerSec, note: `each reply parsed, authenticated (token and sender), checked against its plan, written (journal, plan, activity log) and confirmed; plans already loaded, as in a running worker; ${REPLIES_IN_FLIGHT} in flight, as many as the embedded SMTP server takes sessions` });
  await benchThroughputTwoWorkers(paths, count);
}

/**
 * The same with two worker processes sharing the plans (each with its own local store, as two
 * workers on one mailbox run): one per core. Plan locks keep them from writing a plan at once.
 */
async function benchThroughputTwoWorkers(paths: ProjectPaths, count: number): Promise<void> {
  progress.phase('throughput: two worker processes', count);
  const core = await createWorkerCore({ paths, env: {}, config: await loadWorkerConfig(paths, {}), reseal: false, fullBuilds: false, tickAfterReplies: false, log: () => {} });
  const replies = await replyMessages(paths, core, count, 'throughput-2');
  await core.close();
  const dir = path.join(paths.root, 'throughput-replies');
  await mkdir(dir, { recursive: true });
  await Promise.all(replies.map((r, i) => writeFile(path.join(dir, `${String(i).padStart(5, '0')}.eml`), r.raw)));
  const children = [0, 1].map((share) =>
    spawn(process.execPath, ['--import', pathToFileURL(path.join(CODE_ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(CODE_ROOT, 'scripts/bench/throughput-child.ts')], {
      cwd: paths.root,
      env: { ...process.env, BENCH_REPLIES_DIR: dir, BENCH_SHARE: String(share), BENCH_SHARES: '2', TWOFOLD_HOME: path.join(paths.root, `.twofold-worker-${share}`), TWOFOLD_SECRETS_FILE: paths.secretsFile },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = children.map((child) => {
    let buffer = '';
    const ready = new Promise<void>((resolve) => child.stdout!.on('data', (d) => ((buffer += d), buffer.includes('ready') && resolve())));
    const result = new Promise<{ applied: number; handled: number; ms: number }>((resolve, reject) => {
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(buffer.trim().split('\n').at(-1)!)) : reject(new Error(`throughput child exited ${code}`))));
    });
    return { ready, result };
  });
  await Promise.all(lines.map((l) => l.ready));
  await flushDisk();
  const t0 = performance.now();
  for (const child of children) child.stdin!.end('go\n');
  const results = await Promise.all(lines.map((l) => l.result));
  const seconds = (performance.now() - t0) / 1000;
  progress.tick(count, count);
  const applied = results.reduce((n, r) => n + r.applied, 0);
  if (applied !== count) throw new Error(`two workers applied ${applied} of ${count} replies`);
  const rate = count / seconds;
  figures.push({ name: `replies applied per second, two worker processes (${count})`, value: rate, unit: 'replies/s', target: `≥ ${TARGETS.throughputPerSec}/s`, met: rate >= TARGETS.throughputPerSec, note: `two \`twofold worker\` processes on one mailbox, one per core, ${REPLIES_IN_FLIGHT} in flight each` });
}

// ── Dovecot: latency and a backlog ───────────────────────────────────────────────────────────

async function benchDovecot(paths: ProjectPaths, n: number): Promise<void> {
  progress.phase('start Dovecot');
  const dovecot = await startDovecot({ users: [{ user: 'twofold', password: 'bench-password' }] });
  const env = {
    TWOFOLD_INBOUND_SMTP: '0',
    TWOFOLD_TICK_MINUTES: '0',
    TWOFOLD_IMAP_HOST: dovecot.host,
    TWOFOLD_IMAP_PORT: String(dovecot.port),
    TWOFOLD_IMAP_SECURE: '0',
    TWOFOLD_IMAP_USER: 'twofold',
    TWOFOLD_IMAP_PASS: 'bench-password',
  };
  try {
    // Latency: one reply at a time delivered into the mailbox while the worker idles.
    const resealed = new Map<string, number>();
    let handled = 0;
    const config = await loadWorkerConfig(paths, env);
    let worker = await startWorker({
      paths,
      env,
      config,
      tickAfterReplies: false,
      log: (e) => {
        if (e.event === 'portal.reseal' && e.status === 'resealed') resealed.set(String(e.plan), performance.now());
        if (e.event === 'imap.handled') handled++;
      },
    });
    await waitFor(() => worker.imap?.status().idling === true, 30_000, 'the worker to idle on Dovecot');
    progress.phase('reply latency via Dovecot', LATENCY_REPLIES);
    const replies = await replyMessages(paths, worker.core, Math.min(LATENCY_REPLIES, n), 'dovecot');
    const times: number[] = [];
    for (const [i, reply] of replies.entries()) {
      const t0 = performance.now();
      await dovecot.deliver('twofold', reply.raw);
      await waitFor(() => resealed.has(reply.slug), 30_000, `the portal of ${reply.slug} to be re-sealed`);
      times.push(resealed.get(reply.slug)! - t0);
      resealed.delete(reply.slug);
      progress.tick(i + 1, replies.length);
    }
    pushLatency('reply → re-sealed portal, delivered to Dovecot', times);

    // Backlog: the worker is down while N replies arrive; then it drains them.
    const backlog = await replyMessages(paths, worker.core, n, 'backlog');
    await worker.stop();
    progress.phase('deliver the backlog into Dovecot', backlog.length);
    for (const [i, reply] of backlog.entries()) {
      await dovecot.deliver('twofold', reply.raw);
      if ((i + 1) % 50 === 0 || i + 1 === backlog.length) progress.tick(i + 1, backlog.length);
    }
    progress.phase('drain the backlog', backlog.length);
    handled = 0;
    const t0 = performance.now();
    worker = await startWorker({ paths, env, config, tickAfterReplies: false, log: (e) => e.event === 'imap.handled' && (handled++, progress.tick(handled, backlog.length)) });
    await waitFor(() => handled >= backlog.length, 600_000, 'the backlog to drain');
    const seconds = (performance.now() - t0) / 1000;
    await worker.stop();
    const appliedIds = await appliedMessageIds(paths);
    const applied = backlog.filter((r) => appliedIds.has(r.messageId)).length;
    const inbox = await dovecot.list('twofold', 'INBOX');
    figures.push({
      name: `backlog of ${backlog.length} replies in Dovecot drained`,
      value: seconds,
      unit: 's',
      target: `≤ ${TARGETS.backlogSeconds} s, none lost`,
      met: seconds <= TARGETS.backlogSeconds && applied === backlog.length,
      note: `${applied} applied of ${backlog.length} sent, ${inbox.length} left in INBOX`,
    });
  } finally {
    await dovecot.stop();
  }
}

async function appliedMessageIds(paths: ProjectPaths): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const name of await readdir(paths.activityDir).catch(() => [] as string[])) {
    for (const line of (await readFile(path.join(paths.activityDir, name), 'utf8')).split('\n')) {
      const m = /"message":"([^"]+)"/.exec(line);
      if (m) ids.add(m[1]!);
    }
  }
  return ids;
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

/**
 * Write back what earlier phases left dirty (hundreds of MB of builds) before a timed run whose
 * every reply fsyncs: otherwise those fsyncs pay for the builds' writeback, and the figure
 * depends on which phases ran before it.
 */
function flushDisk(): Promise<void> {
  return new Promise((resolve, reject) => execFile('sync', (err) => (err ? reject(err) : resolve())));
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

function report(n: number): void {
  const fmt = (v: number, unit: string) => `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
  const rows = figures.map((f) => [
    f.name,
    fmt(f.value, f.unit),
    f.baseline ? `${fmt(f.baseline.value, f.baseline.unit)} (${f.baseline.name})` : '',
    f.ratio !== undefined ? `${f.ratio.toFixed(2)}×` : '',
    f.target ? `${f.target}: ${f.met ? 'met' : 'MISSED'}` : '',
  ]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['figure', 'value', 'baseline', 'ratio', 'target'][i]!.length));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  out.write(`\n${line(['figure', 'value', 'baseline', 'ratio', 'target'])}\n${widths.map((w) => '─'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  for (const f of figures.filter((x) => x.note)) out.write(`  note: ${f.name}: ${f.note}\n`);
  out.write(`\nTime per phase:\n${progress.summary()}\n`);
  const file = path.join(process.cwd(), 'bench-results.json');
  void writeFile(file, `${JSON.stringify({ plans: n, machine: { cpus: os.cpus().length, node: process.version }, at: new Date().toISOString(), figures }, null, 2)}\n`).then(() => out.write(`Wrote ${file}\n`));
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});

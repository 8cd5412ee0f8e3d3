/**
 * The mail worker, assembled: one processor behind the inbound sources (embedded SMTP, IMAP),
 * the mailer (SMTP or the outbox), the publisher (fast re-seal + coalesced full builds), crash
 * recovery at start, and the scheduler (`tick`). `twofold worker`, `twofold mail ingest` and
 * `npm start` all build on `createWorkerCore`.
 */
import os from 'node:os';
import path from 'node:path';
import { recordsFile, activityFile } from '../site/lib/plan-records-fs.ts';
import { TwofoldError } from '../site/core/errors/problem.ts';
import type { ProjectPaths } from '../site/lib/project-paths.ts';
import { openSecretStore, type SecretStore } from '../site/lib/secret-store-fs.ts';
import type { MailIdentity } from './config/mail-identity.ts';
import { identityOf, smtpOf, type WorkerConfig } from './config/worker-config.ts';
import { createMailer, type Mailer } from './mailer/mailer.ts';
import { createOutcomeReplies } from './pipeline/outcome-replies.ts';
import { faultHookFrom } from './pipeline/fault-injection.ts';
import { createProcessor, type Processor } from './pipeline/process-message.ts';
import { watchPlans } from './publish/plan-watcher.ts';
import { createPublisher, type Publisher } from './publish/publisher.ts';
import { writeFileAtomic } from '../site/lib/atomic-write-fs.ts';
import { withPlanLock } from '../site/lib/plan-lock-fs.ts';
import { createGitRecorder, type GitRecorder } from './stores/git-recorder.ts';
import { openMessageJournal } from './stores/message-journal-fs.ts';
import { openPlanDirectory, type CachedPlanDirectory } from './stores/plan-directory-fs.ts';
import { createImapSource, type ImapSource } from './sources/imap-source.ts';
import { jsonLineLog, type RefusalReporter, type SourceLog } from './sources/message-handler.ts';
import { createSmtpSource, type SmtpSource } from './sources/smtp-source.ts';
import { createTickScheduler, type TickScheduler } from './tick/tick-scheduler.ts';

export interface WorkerCore {
  paths: ProjectPaths;
  config: WorkerConfig;
  identity: MailIdentity;
  store: SecretStore;
  mailer: Mailer;
  plans: CachedPlanDirectory;
  publisher: Publisher;
  processor: Processor;
  /** The scheduler (mail-worker/tick): `startWorker` starts its interval; replies call `tickSoon`. */
  tick: TickScheduler;
  git?: GitRecorder;
  log: SourceLog;
  clock: () => Date;
  close(): Promise<void>;
}

export interface CoreOptions {
  paths: ProjectPaths;
  env: Record<string, string | undefined>;
  config: WorkerConfig;
  log?: SourceLog;
  clock?: () => Date;
  /** Full builds in this process (default true; `mail ingest` asks for none and exits). */
  fullBuilds?: boolean;
  /** Re-seal portals after a change (default true; the benchmark measures applying alone). */
  reseal?: boolean;
  /** Let replies and plan edits trigger the scheduler (check-ins, stage completion; default true). The benchmark measures replies alone. */
  tickAfterReplies?: boolean;
}

export async function createWorkerCore(options: CoreOptions): Promise<WorkerCore> {
  const { paths, env, config } = options;
  const log = options.log ?? jsonLineLog((line) => process.stdout.write(line));
  const clock = options.clock ?? (() => new Date());
  const identity = identityOf(config);
  const store = openSecretStore(paths, env);
  const mailer = createMailer({ outboxDir: paths.outboxDir, ...(smtpOf(config) ? { smtp: smtpOf(config)! } : {}), log: (e) => log({ ...e, event: String(e.event) }) });
  const plans = openPlanDirectory(paths);
  const journal = openMessageJournal(paths.journalDir, { now: clock });
  const git = config.git_commit ? await createGitRecorder(paths.contentDir) : undefined;
  // The fault-injection test hook: undefined unless TWOFOLD_FAULT is set (tests only).
  const fault = faultHookFrom(env);
  // The publisher is created below; the answers re-seal through it once it exists.
  let publisherRef: Publisher | undefined;
  const replies = createOutcomeReplies({ paths, store, identity, mailer, clock, log, reseal: (slug) => publisherRef!.reseal(slug), plan: (slug) => plans.get(slug) });
  const publisher = createPublisher({
    paths,
    env,
    store,
    clock,
    log,
    onBuildFailed: (error, reasons) => replies.buildFailed(error, reasons),
    ...(options.fullBuilds === false ? { build: async () => ({ plans: 0, sealed: [], reused: [], skipped: [], leakScan: { files: 0, bytes: 0, needles: 0 }, distDir: paths.distDir }) } : {}),
  });
  publisherRef = publisher;
  const tick = createTickScheduler({
    paths,
    identity,
    store,
    mailer,
    quietHours: config.tick.quiet_hours,
    clock,
    log: (e) => log({ ...e, event: String(e.event) }),
    ...(options.reseal !== false ? { reseal: (slug: string) => publisher.reseal(slug) } : {}),
  });
  const processor = createProcessor({
    paths,
    journal,
    plans,
    identity,
    clock,
    log,
    replyKey: async (version) => (await store.replyKey(version))?.key,
    ...(config.dmarc ? { dmarc: { authservId: config.dmarc.authserv_id, require: config.dmarc.require } } : {}),
    answer: replies.answer,
    ...(fault ? { fault } : {}),
    async afterApply(slug, plan, evaluation) {
      // Under the plan lock: the record in git, then the portal. Check-in invites and stage
      // completion follow through the scheduler, which keeps quiet hours (only the reply's
      // confirmation ignores them) and takes the plan lock itself once this one is released.
      if (options.tickAfterReplies !== false) tick.tickSoon(slug);
      if (git && evaluation.actor) {
        await git
          .commit([plan.file, activityFile(paths, slug), recordsFile(paths, slug)], evaluation.actor, `${slug}: ${evaluation.changes.map((c) => c.summary).join('; ') || 'note'} (reply from ${evaluation.actor.email})`)
          .catch((err) => log({ event: 'git.failed', plan: slug, reason: String(err?.message ?? err) }));
      }
      if (options.reseal !== false) await publisher.reseal(slug).catch((err) => log({ event: 'portal.reseal-failed', plan: slug, reason: String(err?.message ?? err) }));
    },
  });
  return {
    paths,
    config,
    identity,
    store,
    mailer,
    plans,
    publisher,
    processor,
    tick,
    ...(git ? { git } : {}),
    log,
    clock,
    async close() {
      await tick.close();
      publisher.stop();
      await mailer.close();
    },
  };
}

export interface RunningWorker {
  core: WorkerCore;
  smtp?: SmtpSource;
  imap?: ImapSource;
  stop(): Promise<void>;
}

/**
 * One worker per local store: its journal claims, IMAP claim keyword and outbox belong to it.
 * Two workers on one mailbox each run from their own folder (or machine).
 */
async function holdWorkerLock(paths: ProjectPaths): Promise<() => Promise<void>> {
  const { mkdir, open, readFile, rm } = await import('node:fs/promises');
  const file = path.join(paths.locksDir, 'worker.lock');
  await mkdir(paths.locksDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString() }));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (err: any) {
      if (err?.code !== 'EEXIST') throw err;
      const owner = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as { pid?: number; host?: string };
      const alive = owner.host === os.hostname() && typeof owner.pid === 'number' && (() => {
        try {
          process.kill(owner.pid, 0);
          return true;
        } catch (e: any) {
          return e?.code === 'EPERM';
        }
      })();
      if (alive || owner.host !== os.hostname()) {
        throw new TwofoldError('WORKER_ALREADY_RUNNING', `another worker (pid ${owner.pid ?? '?'} on ${owner.host ?? '?'}) is running from ${paths.localDir}`);
      }
      await rm(file, { force: true }); // left by a worker that died
    }
  }
  throw new TwofoldError('WORKER_ALREADY_RUNNING', `could not take ${file}`);
}

/** Start everything the config asks for; recovery runs before any source accepts mail. */
export async function startWorker(options: CoreOptions): Promise<RunningWorker> {
  const unlock = await holdWorkerLock(options.paths);
  const core = await createWorkerCore(options).catch(async (err) => {
    await unlock();
    throw err;
  });
  let smtp: SmtpSource | undefined;
  let imap: ImapSource | undefined;
  let unwatch: (() => void) | undefined;
  let refresh: NodeJS.Timeout | undefined;
  try {
    const recovered = await core.processor.recover();
    if (recovered) core.log({ event: 'recover.done', messages: recovered });
    await core.mailer.flush();
    core.tick.start({ everyMinutes: core.config.tick.every_minutes });
    unwatch = watchPlans(
      core.paths,
      (slug) => {
        void withPlanLock(core.paths, slug, () => core.publisher.reseal(slug)).catch((err) => core.log({ event: 'portal.reseal-failed', plan: slug, reason: String(err?.message ?? err) }));
        if (options.tickAfterReplies !== false) core.tick.tickSoon(slug);
      },
      core.log,
    );
    refresh = dailyRefresh(core);
    const handler = core.processor.handle;
    const onRefused: RefusalReporter = (refused) => core.log({ event: 'message.refused', code: refused.code, source: refused.source, size: refused.size, from: refused.from });
    if (core.config.inbound_smtp.enabled) {
      smtp = createSmtpSource({ handler, replyDomains: [core.identity.reply.domain], host: core.config.inbound_smtp.host, port: core.config.inbound_smtp.port, log: core.log, onRefused });
      const listening = await smtp.start();
      // Where the running worker takes replies, for `twofold demo-reply` (and people) to find.
      await writeFileAtomic(inboundSmtpFile(core.paths), JSON.stringify({ ...listening, pid: process.pid }));
    }
    if (core.config.imap) {
      const i = core.config.imap;
      imap = createImapSource({ host: i.host, port: i.port, secure: i.secure, user: i.user, pass: i.pass, mailbox: i.mailbox, processedFolder: i.processed, failedFolder: i.failed, handler, log: core.log, onRefused, workerId: await workerId(core.paths) });
      imap.start();
    }
  } catch (err) {
    unwatch?.();
    clearInterval(refresh);
    await imap?.stop().catch(() => undefined);
    await smtp?.stop().catch(() => undefined);
    await core.close();
    await unlock();
    throw err;
  }
  return {
    core,
    ...(smtp ? { smtp } : {}),
    ...(imap ? { imap } : {}),
    async stop() {
      unwatch?.();
      clearInterval(refresh);
      await imap?.stop();
      await smtp?.stop();
      await core.close();
      await unlock();
    },
  };
}

/** `.twofold/state/inbound-smtp.json`: the running worker's SMTP inbox address. */
export function inboundSmtpFile(paths: ProjectPaths): string {
  return path.join(paths.stateDir, 'inbound-smtp.json');
}

/** How often the worker looks whether a new day began (checked hourly, acted on once a day). */
const REFRESH_CHECK_MS = 60 * 60_000;

/**
 * Portals show health, ages and "as of" by the day: once a day a full build (incremental: only
 * portals whose content changed are re-encrypted) brings every portal to the new day.
 */
function dailyRefresh(core: WorkerCore): NodeJS.Timeout {
  let day = core.clock().toISOString().slice(0, 10);
  const timer = setInterval(() => {
    const today = core.clock().toISOString().slice(0, 10);
    if (today === day) return;
    day = today;
    core.publisher.requestBuild(`daily refresh ${today}`);
  }, REFRESH_CHECK_MS);
  timer.unref?.();
  return timer;
}

/** A stable id per local store, so a restarted worker resumes its own IMAP claims. */
async function workerId(paths: ProjectPaths): Promise<string> {
  const { readFile, writeFile, mkdir } = await import('node:fs/promises');
  const file = path.join(paths.stateDir, 'worker-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const id = `${os.hostname().replace(/[^a-zA-Z0-9-]/g, '').slice(0, 16) || 'worker'}-${Math.random().toString(36).slice(2, 8)}`;
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(file, id);
    return id;
  }
}


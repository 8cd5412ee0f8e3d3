/**
 * A throwaway Twofold project for end-to-end and fault tests of the mail worker: copies of the
 * example plans and activity logs, a real secret store (passwords set, optionally a full portal
 * build), the worker's settings validated by the real schema, and readers that look at what the
 * worker leaves behind — plan bytes, activity log, the sealed portal decrypted with the real
 * content key, the outbox, the journal's failed folder.
 *
 *   const project = await workerProject({ passwords: ['tamarind-vale'], build: true });
 *   const { core, events } = await project.core({ clock: () => NOW });
 *   await core.processor.handle(raw, { source: 'file', receivedAt: NOW });
 *   expect(lineDiff(before, await project.planText('tamarind-vale'))).toEqual(…);
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { ActivityEntry } from '../../site/core/plan/activity.ts';
import { openEnvelope, parseEnvelope } from '../../site/core/portal/portal-crypto.ts';
import { decodePortalPayload } from '../../site/core/portal/portal-payload-codec.ts';
import { generatePassword } from '../../site/core/portal/portal-password.ts';
import { readActivity } from '../../site/lib/plan-records-fs.ts';
import { findPlanFile, listPlanFiles } from '../../site/lib/plan-store-fs.ts';
import { buildPortals } from '../../site/lib/portal-build.ts';
import { portalFile } from '../../site/lib/portal-reseal-fs.ts';
import { projectPaths, type ProjectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore, type SecretStore } from '../../site/lib/secret-store-fs.ts';
import type { MailIdentity } from '../../mail-worker/config/mail-identity.ts';
import { identityOf, workerConfigSchema, type WorkerConfig } from '../../mail-worker/config/worker-config.ts';
import type { SourceEvent } from '../../mail-worker/sources/message-handler.ts';
import { createWorkerCore, startWorker, type RunningWorker, type WorkerCore } from '../../mail-worker/worker.ts';
import { tempProject } from './run-twofold.ts';

export const EXAMPLE_PLANS = ['ellery-brook', 'halvorsen-marine', 'tamarind-vale'] as const;

/**
 * Worker settings for tests, through the real zod schema: no inbound SMTP unless asked (parallel
 * test files must not fight over port 2525), no scheduler, everything else the embedded default.
 */
export function workerConfig(overrides: Record<string, unknown> = {}): WorkerConfig {
  return workerConfigSchema.parse({ inbound_smtp: { enabled: false }, tick: { every_minutes: 0 }, ...overrides });
}

export interface WorkerProjectOptions {
  /** Plans given a generated password (default: all example plans). */
  passwords?: readonly string[];
  /** Run a full portal build (Astro) so portals exist to re-seal (default false: 10–20 s). */
  build?: boolean;
  /** Clock of the build (default now). */
  now?: Date;
}

export interface SealedPortal {
  /** The `<script id="twofold-sealed">` envelope as it is in the page. */
  envelope: string;
  /** The portal HTML, decrypted with the plan's content key. */
  html: string;
  title: string;
}

export interface StartedCore {
  core: WorkerCore;
  /** Every structured log event of the worker, in order. */
  events: SourceEvent[];
}

export interface StartedWorker extends RunningWorker {
  events: SourceEvent[];
}

export interface WorkerProject {
  root: string;
  paths: ProjectPaths;
  store: SecretStore;
  /** Passwords set, by slug. */
  passwords: Map<string, string>;
  /** The processor, mailer and publisher, no sources (in-process tests). */
  core(options?: { config?: WorkerConfig; clock?: () => Date; fullBuilds?: boolean }): Promise<StartedCore>;
  /** Everything the config asks for (IMAP, embedded SMTP), as `twofold worker` runs it. */
  start(options?: { config?: WorkerConfig; clock?: () => Date }): Promise<StartedWorker>;
  planFile(slug: string): Promise<string>;
  planText(slug: string): Promise<string>;
  /** Every plan file's bytes, by file name (to prove a message changed none). */
  planBytes(): Promise<Map<string, Buffer>>;
  activity(slug: string): Promise<ActivityEntry[]>;
  portal(slug: string): Promise<SealedPortal>;
  /** The `.eml` files the mailer wrote to the outbox (no SMTP configured), parsed, oldest first. */
  outbox(): Promise<Array<{ file: string; mail: ParsedMail }>>;
  /** Raw messages the journal kept because they could not be processed. */
  failedMessages(): Promise<string[]>;
  remove(): Promise<void>;
}

export async function workerProject(options: WorkerProjectOptions = {}): Promise<WorkerProject> {
  const root = await tempProject(['plans', 'activity']);
  const paths = projectPaths(root, {});
  const store = openSecretStore(paths, {});
  const passwords = new Map<string, string>();
  for (const slug of options.passwords ?? EXAMPLE_PLANS) {
    const password = generatePassword();
    await store.setPassword(slug, password);
    passwords.set(slug, password);
  }
  if (options.build) await buildPortals({ paths, env: {}, now: options.now ?? new Date() });

  const capture = () => {
    const events: SourceEvent[] = [];
    return { events, log: (e: SourceEvent) => void events.push(e) };
  };

  const project: WorkerProject = {
    root,
    paths,
    store,
    passwords,
    async core(o = {}) {
      const { events, log } = capture();
      const core = await createWorkerCore({ paths, env: {}, config: o.config ?? workerConfig(), log, ...(o.clock ? { clock: o.clock } : {}), ...(o.fullBuilds !== undefined ? { fullBuilds: o.fullBuilds } : {}) });
      return { core, events };
    },
    async start(o = {}) {
      const { events, log } = capture();
      const worker = await startWorker({ paths, env: {}, config: o.config ?? workerConfig(), log, ...(o.clock ? { clock: o.clock } : {}) });
      return Object.assign(worker, { events });
    },
    async planFile(slug) {
      return (await findPlanFile(paths, slug)).file;
    },
    async planText(slug) {
      return readFile(await project.planFile(slug), 'utf8');
    },
    async planBytes() {
      const out = new Map<string, Buffer>();
      for (const f of await listPlanFiles(paths)) out.set(path.basename(f.file), await readFile(f.file));
      return out;
    },
    activity: (slug) => readActivity(paths, slug),
    async portal(slug) {
      const secrets = await store.getPortal(slug);
      if (!secrets) throw new Error(`${slug} has no portal secrets`);
      const page = await readFile(portalFile(paths.distDir, secrets.portalId), 'utf8');
      const json = /<script type="application\/json" id="twofold-sealed">([^<]*)<\/script>/.exec(page)?.[1];
      if (!json) throw new Error(`the portal page of ${slug} holds no sealed envelope`);
      const parsed = parseEnvelope(json);
      if (!parsed.ok) throw new Error(parsed.message);
      const payload = decodePortalPayload(await openEnvelope(parsed.envelope, secrets.contentKey));
      if (!payload) throw new Error(`the portal payload of ${slug} does not decode`);
      return { envelope: json, html: payload.html, title: payload.title };
    },
    async outbox() {
      const names = (await readdir(paths.outboxDir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml')).sort();
      const out: Array<{ file: string; mail: ParsedMail }> = [];
      for (const name of names) {
        const file = path.join(paths.outboxDir, name);
        out.push({ file, mail: await simpleParser(await readFile(file)) });
      }
      return out;
    },
    async failedMessages() {
      return (await readdir(path.join(paths.journalDir, 'failed')).catch(() => [] as string[])).sort();
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
  return project;
}

/** The identity a config gives (reply domain, sender), for building replies. */
export function identityFor(config: WorkerConfig = workerConfig()): MailIdentity {
  return identityOf(config);
}

export interface LineDiff {
  /** Lines of `before` that are gone, with their 1-based line numbers. */
  removed: Array<{ line: number; text: string }>;
  /** Lines of `after` that are new, with their 1-based line numbers. */
  added: Array<{ line: number; text: string }>;
}

/**
 * What changed between two texts, line by line (longest common subsequence), so a test can say
 * "only this line changed" and mean it: every other line, comments and blank lines included, is
 * byte-identical.
 */
export function lineDiff(before: string, after: string): LineDiff {
  const a = before.split('\n');
  const b = after.split('\n');
  // Trim the common head and tail first: plans differ in a line or two.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const lcs: number[][] = Array.from({ length: midA.length + 1 }, () => new Array<number>(midB.length + 1).fill(0));
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const removed: LineDiff['removed'] = [];
  const added: LineDiff['added'] = [];
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
      i++;
      j++;
    } else if (j < midB.length && (i === midA.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      added.push({ line: head + j + 1, text: midB[j]! });
      j++;
    } else {
      removed.push({ line: head + i + 1, text: midA[i]! });
      i++;
    }
  }
  return { removed, added };
}

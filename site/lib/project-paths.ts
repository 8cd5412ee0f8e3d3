/**
 * Where things live. The content repository holds the record (plans, activity logs, plan
 * records); the local store `.twofold/` holds what must never be committed or published
 * (secrets, the worker's journal, the outbox, caches). Every path can be moved by environment
 * variable; the defaults are relative to the project root.
 */
import path from 'node:path';

export interface ProjectPaths {
  root: string;
  /** `content/` — plans, templates, activity logs and plan records. Kept in git. */
  contentDir: string;
  plansDir: string;
  templatesDir: string;
  /** `content/activity/<slug>.jsonl` — append-only activity log per plan. */
  activityDir: string;
  /** `content/records/<slug>.json` — machine-written plan records (check-in sequences, RSVPs, escalation steps). */
  recordsDir: string;
  /** `.twofold/` — the local store: never committed, never published. */
  localDir: string;
  secretsFile: string;
  /** Worker journal: one file per processed message (dedupe, outcomes, crash recovery). */
  journalDir: string;
  /** Outgoing mail spool; with no SMTP configured it is the outbox of `.eml` files. */
  outboxDir: string;
  /** Build caches (rendered bodies, sealed envelopes): plaintext, so local only. */
  cacheDir: string;
  locksDir: string;
  /** Tick and calendar send state. */
  stateDir: string;
  distDir: string;
}

export function projectPaths(root: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): ProjectPaths {
  const abs = (p: string) => path.resolve(root, p);
  const contentDir = abs(env.TWOFOLD_CONTENT_DIR ?? 'content');
  const localDir = abs(env.TWOFOLD_HOME ?? '.twofold');
  return {
    root: abs('.'),
    contentDir,
    plansDir: path.join(contentDir, 'plans'),
    templatesDir: path.join(contentDir, 'templates'),
    activityDir: path.join(contentDir, 'activity'),
    recordsDir: path.join(contentDir, 'records'),
    localDir,
    secretsFile: abs(env.TWOFOLD_SECRETS_FILE ?? path.join(localDir, 'secrets.json')),
    journalDir: path.join(localDir, 'journal'),
    outboxDir: abs(env.TWOFOLD_OUTBOX_DIR ?? path.join(localDir, 'outbox')),
    cacheDir: path.join(localDir, 'cache'),
    locksDir: path.join(localDir, 'locks'),
    stateDir: path.join(localDir, 'state'),
    distDir: abs(env.TWOFOLD_DIST_DIR ?? 'dist'),
  };
}

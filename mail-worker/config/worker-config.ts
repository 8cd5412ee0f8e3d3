/**
 * The worker's settings: an optional JSON file (`.twofold/config.json`, or TWOFOLD_CONFIG) with
 * environment variables on top, validated once at start with zod. Every setting has a default
 * that runs on this machine with no outside services (the embedded defaults of `npm start`).
 *
 * Secrets (SMTP/IMAP passwords) come from the environment or the git-ignored local store only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { replyAddressProblem } from '../../site/core/reply/reply-address.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { SmtpSettings } from '../mailer/mailer.ts';
import { EMBEDDED_IDENTITY, type MailIdentity } from './mail-identity.ts';
import { DEFAULT_QUIET_HOURS } from '../tick/tick-window.ts';

const port = z.coerce.number().int().min(1).max(65_535);
const bool = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((v) => ['1', 'true', 'yes'].includes(v))]);
const hours = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, { message: 'a span of hours is HH:MM-HH:MM, e.g. "19:00-08:00"' });

export const workerConfigSchema = z
  .object({
    from: z
      .object({
        name: z.string().min(1).max(100).default(EMBEDDED_IDENTITY.from.name).describe('Display name of the sending mailbox.'),
        address: z.string().email().default(EMBEDDED_IDENTITY.from.address).describe('The sending mailbox (default twofold@twofold.localhost).'),
      })
      .strict()
      .default({}),
    reply: z
      .object({
        mode: z.enum(['plus', 'subdomain']).default('plus').describe('`plus`: <local>+<token>@<domain>; `subdomain`: <token>@<domain>.'),
        local_part: z.string().default('twofold').describe('Local part for plus mode (default twofold).'),
        domain: z.string().default('twofold.localhost').describe('Domain of reply addresses.'),
      })
      .strict()
      .default({}),
    portal_url: z.string().url().default(EMBEDDED_IDENTITY.portalBaseUrl).describe('Base URL where dist/ is published (default http://localhost:4321).'),
    smtp: z
      .object({
        host: z.string().min(1),
        port: port.default(587),
        secure: bool.default(false),
        user: z.string().optional(),
        pass: z.string().optional(),
      })
      .strict()
      .optional()
      .describe('Outgoing SMTP relay. Without it, every email is written to the outbox folder as an .eml file.'),
    inbound_smtp: z
      .object({
        enabled: bool.default(true),
        host: z.string().default('127.0.0.1'),
        port: port.default(2525),
      })
      .strict()
      .default({})
      .describe('The embedded SMTP server replies are delivered to (default 127.0.0.1:2525).'),
    imap: z
      .object({
        host: z.string().min(1),
        port: port.default(993),
        secure: bool.default(true),
        user: z.string().min(1),
        pass: z.string().min(1),
        mailbox: z.string().default('INBOX'),
        processed: z.string().default('Processed'),
        failed: z.string().default('Failed'),
      })
      .strict()
      .optional()
      .describe('IMAP mailbox to watch with IDLE (production). Optional.'),
    git_commit: bool.default(false).describe('Commit each applied reply to the git repository holding content/ (default false).'),
    dmarc: z
      .object({ authserv_id: z.string().min(1), require: bool.default(false) })
      .strict()
      .optional()
      .describe('Trust Authentication-Results stamped by this server id; with require, replies failing DMARC are rejected.'),
    tick: z
      .object({
        every_minutes: z.coerce.number().int().min(0).max(1440).default(15),
        quiet_hours: hours.default(DEFAULT_QUIET_HOURS),
      })
      .strict()
      .default({})
      .describe('The scheduler: how often the worker runs `tick` (0 = never) and the quiet hours in each plan\'s zone.'),
  })
  .strict();

export type WorkerConfig = z.output<typeof workerConfigSchema>;

/** Environment variables and the config field each one sets. */
const ENV_FIELDS: Array<[string, string[]]> = [
  ['TWOFOLD_FROM_NAME', ['from', 'name']],
  ['TWOFOLD_FROM', ['from', 'address']],
  ['TWOFOLD_REPLY_MODE', ['reply', 'mode']],
  ['TWOFOLD_REPLY_LOCAL_PART', ['reply', 'local_part']],
  ['TWOFOLD_REPLY_DOMAIN', ['reply', 'domain']],
  ['TWOFOLD_PORTAL_URL', ['portal_url']],
  ['TWOFOLD_SMTP_HOST', ['smtp', 'host']],
  ['TWOFOLD_SMTP_PORT', ['smtp', 'port']],
  ['TWOFOLD_SMTP_SECURE', ['smtp', 'secure']],
  ['TWOFOLD_SMTP_USER', ['smtp', 'user']],
  ['TWOFOLD_SMTP_PASS', ['smtp', 'pass']],
  ['TWOFOLD_INBOUND_SMTP', ['inbound_smtp', 'enabled']],
  ['TWOFOLD_INBOUND_SMTP_HOST', ['inbound_smtp', 'host']],
  ['TWOFOLD_INBOUND_SMTP_PORT', ['inbound_smtp', 'port']],
  ['TWOFOLD_IMAP_HOST', ['imap', 'host']],
  ['TWOFOLD_IMAP_PORT', ['imap', 'port']],
  ['TWOFOLD_IMAP_SECURE', ['imap', 'secure']],
  ['TWOFOLD_IMAP_USER', ['imap', 'user']],
  ['TWOFOLD_IMAP_PASS', ['imap', 'pass']],
  ['TWOFOLD_IMAP_MAILBOX', ['imap', 'mailbox']],
  ['TWOFOLD_GIT_COMMIT', ['git_commit']],
  ['TWOFOLD_DMARC_AUTHSERV_ID', ['dmarc', 'authserv_id']],
  ['TWOFOLD_DMARC_REQUIRE', ['dmarc', 'require']],
  ['TWOFOLD_TICK_MINUTES', ['tick', 'every_minutes']],
  ['TWOFOLD_QUIET_HOURS', ['tick', 'quiet_hours']],
];

export const WORKER_ENV_VARS = ENV_FIELDS.map(([name]) => name);

export function configFile(paths: ProjectPaths, env: Record<string, string | undefined>): string {
  return env.TWOFOLD_CONFIG ? path.resolve(paths.root, env.TWOFOLD_CONFIG) : path.join(paths.localDir, 'config.json');
}

/** Read, merge and validate the settings; a problem names the field and where it came from. */
export async function loadWorkerConfig(paths: ProjectPaths, env: Record<string, string | undefined>): Promise<WorkerConfig> {
  const file = configFile(paths, env);
  let raw: Record<string, any> = {};
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('the file is not a JSON object');
  } catch (err: any) {
    // The default file is optional; a file named in TWOFOLD_CONFIG is not (a typo must not fall back to defaults).
    if (err?.code === 'ENOENT' && env.TWOFOLD_CONFIG) throw new TwofoldError('CONFIG_INVALID', `TWOFOLD_CONFIG names ${file}, which does not exist`, { hint: 'Fix the path in TWOFOLD_CONFIG, or unset it to use .twofold/config.json and the environment.' });
    if (err?.code !== 'ENOENT') throw new TwofoldError('CONFIG_INVALID', `${path.relative(paths.root, file) || file}: ${err?.message ?? err}`);
    raw = {};
  }
  const sources = new Map<string, string>();
  for (const [name, field] of ENV_FIELDS) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let target = raw;
    for (const part of field.slice(0, -1)) target = target[part] = typeof target[part] === 'object' && target[part] ? target[part] : {};
    target[field[field.length - 1]!] = value;
    sources.set(field.join('.'), name);
  }
  const parsed = workerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const at = i.path.join('.');
      const from = sources.get(at) ?? `${path.relative(paths.root, file) || file} → ${at || '(top level)'}`;
      return `${from}: ${i.message}`;
    });
    throw new TwofoldError('CONFIG_INVALID', `the worker settings are invalid:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  const problem = replyAddressProblem(replyConfig(config));
  if (problem) throw new TwofoldError('CONFIG_INVALID', `reply addresses: ${problem}`);
  return config;
}

function replyConfig(config: WorkerConfig): MailIdentity['reply'] {
  return config.reply.mode === 'plus' ? { mode: 'plus', localPart: config.reply.local_part, domain: config.reply.domain } : { mode: 'subdomain', domain: config.reply.domain };
}

export function identityOf(config: WorkerConfig): MailIdentity {
  return {
    from: { name: config.from.name, address: config.from.address.toLowerCase() },
    reply: replyConfig(config),
    portalBaseUrl: config.portal_url.replace(/\/+$/, ''),
    messageIdDomain: config.from.address.slice(config.from.address.lastIndexOf('@') + 1).toLowerCase(),
  };
}

export function smtpOf(config: WorkerConfig): SmtpSettings | undefined {
  if (!config.smtp) return undefined;
  const { host, port, secure, user, pass } = config.smtp;
  return { host, port, secure, ...(user ? { user } : {}), ...(pass ? { pass } : {}) };
}

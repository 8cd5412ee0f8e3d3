/**
 * `twofold invite <plan> [stage] [--dry-run --out <dir>] [--now <date|time>]`: send the
 * check-in invites a plan needs now (new, changed, removed), or with --dry-run write each
 * message it would send as an .eml file into <dir> and print the paths, storing nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { TwofoldError } from '../../../site/core/errors/problem.ts';
import { readRecords } from '../../../site/lib/plan-records-fs.ts';
import { readPlan } from '../../../site/lib/plan-store-fs.ts';
import { sendInvites, type SentInvite } from '../../../mail-worker/calendar/send-invites.ts';
import { EMBEDDED_IDENTITY } from '../../../mail-worker/config/mail-identity.ts';
import { composeEml, type OutgoingMessage } from '../../../mail-worker/mailer/compose-eml.ts';
import { createMailer, type Mailer, type SmtpSettings } from '../../../mail-worker/mailer/mailer.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../cli-clock.ts';
import { print, type CliCommand } from '../cli-command.ts';

const DEFAULT_SMTP_PORT = 25;

const options = {
  'dry-run': { type: 'boolean' },
  out: { type: 'string' },
  now: { type: 'string' },
} as const;

export const command: CliCommand<typeof options> = {
  name: 'invite',
  summary: 'send the check-in calendar invites a plan needs (or write them as .eml)',
  usage: [
    '  npx twofold invite <plan> [stage] [--dry-run --out <dir>] [--now <date|time>]',
    '',
    '  <plan>             plan slug (content/plans/<plan>.md)',
    '  [stage]            only this stage\'s check-in (default: every check-in of the plan)',
    '  --dry-run          send nothing and store nothing: write each message as an .eml file',
    '  --out <dir>        where --dry-run writes the .eml files (required with --dry-run)',
    `  ${NOW_OPTION_DOC}`,
    '',
    '  Mail goes over SMTP when TWOFOLD_SMTP_HOST (and TWOFOLD_SMTP_PORT, default 25) are set,',
    '  else into the outbox (.twofold/outbox) as .eml files.',
  ].join('\n'),
  options,
  async run({ values, positionals }, ctx) {
    const [slug, stageId, ...extra] = positionals;
    const dryRun = values['dry-run'] === true;
    const out = typeof values.out === 'string' ? values.out : undefined;
    if (!slug || extra.length > 0) throw new TwofoldError('CLI_USAGE', 'invite: give one plan slug and at most one stage id', { hint: `Usage:\n${command.usage}` });
    if (dryRun !== (out !== undefined)) throw new TwofoldError('CLI_USAGE', 'invite: --dry-run and --out <dir> go together', { hint: `Usage:\n${command.usage}` });
    const now = clockFromOption(typeof values.now === 'string' ? values.now : undefined).instant;

    const { plan } = await readPlan(ctx.paths, slug);
    if (stageId) await assertStageHasCheckin(ctx.paths, slug, plan.stages.filter((s) => s.checkin).map((s) => s.id), stageId);

    const outDir = out ? path.resolve(ctx.cwd, out) : undefined;
    const mailer: Pick<Mailer, 'send' | 'close'> = outDir ? emlDirMailer(outDir) : createMailer({ outboxDir: ctx.paths.outboxDir, ...smtpOption(ctx.env) });
    try {
      const { sent } = await sendInvites({
        paths: ctx.paths,
        slug,
        plan,
        now,
        mailer,
        messageIdDomain: EMBEDDED_IDENTITY.messageIdDomain,
        via: 'cli',
        dryRun,
        ...(stageId ? { stageIds: [stageId] } : {}),
      });
      report(sent, dryRun, ctx.stdout, slug);
    } finally {
      await mailer.close();
    }
    return 0;
  },
};

/**
 * SMTP settings from the environment (the worker config module takes this over later):
 * TWOFOLD_SMTP_HOST, TWOFOLD_SMTP_PORT (default 25). No host: no SMTP, mail stays in the outbox.
 */
export function smtpSettingsFromEnv(env: NodeJS.ProcessEnv): SmtpSettings | undefined {
  const host = env.TWOFOLD_SMTP_HOST?.trim();
  if (!host) return undefined;
  const rawPort = env.TWOFOLD_SMTP_PORT?.trim() || String(DEFAULT_SMTP_PORT);
  const port = Number(rawPort);
  if (!/^\d{1,5}$/.test(rawPort) || port < 1 || port > 65_535) throw new TwofoldError('SMTP_SETTINGS_INVALID', `TWOFOLD_SMTP_PORT "${rawPort.slice(0, 20)}" is not a port number`);
  return { host, port };
}

function smtpOption(env: NodeJS.ProcessEnv): { smtp?: SmtpSettings } {
  const smtp = smtpSettingsFromEnv(env);
  return smtp ? { smtp } : {};
}

/** A stand-in mailer for --dry-run: the same composed bytes, written to <dir>, never sent. */
function emlDirMailer(dir: string): Pick<Mailer, 'send' | 'close'> {
  let count = 0;
  return {
    async send(message: OutgoingMessage, tag = 'mail') {
      count++;
      const to = typeof message.to === 'object' && message.to && 'address' in message.to ? String(message.to.address) : String(message.to);
      const file = path.join(dir, `${String(count).padStart(2, '0')}-${tag}-${to.replace(/[^a-z0-9@._-]+/gi, '_')}.eml`);
      await mkdir(dir, { recursive: true });
      await writeFile(file, await composeEml(message));
      return { messageId: message.messageId, file, delivered: false };
    },
    async close() {},
  };
}

async function assertStageHasCheckin(paths: Parameters<typeof readRecords>[0], slug: string, withCheckin: string[], stageId: string): Promise<void> {
  const recorded = Object.keys((await readRecords(paths, slug)).checkins);
  if (withCheckin.includes(stageId) || recorded.includes(stageId)) return;
  throw new TwofoldError('CALENDAR_STAGE_UNKNOWN', `plan ${slug} has no check-in for stage "${stageId.slice(0, 40)}"; check-ins: ${withCheckin.join(', ') || '(none)'}`);
}

function report(sent: SentInvite[], dryRun: boolean, stdout: Writable, slug: string): void {
  if (sent.length === 0) {
    print(stdout, `${slug}: no invites to send — every check-in is up to date`);
    return;
  }
  for (const s of sent) {
    const { action } = s;
    const where = dryRun ? s.file : `${s.file}${s.delivered ? ' (delivered)' : ''}`;
    print(stdout, dryRun ? where : `${action.method.padEnd(7)} ${action.stageId} SEQUENCE ${action.sequence} → ${action.recipient.email}  ${where}`);
  }
}

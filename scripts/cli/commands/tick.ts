/**
 * `twofold tick [--now <ISO time>] [--dry-run] [--json]`: send everything the plans owe people at
 * this moment — reminders, digests, escalations, check-in invites, task emails (the first
 * stage's when a plan starts, the next stage's when one completes) — once (mail-worker/tick). For cron, or by hand; the worker runs the same tick on its
 * own schedule. Mail goes out the way the worker sends it (worker settings: SMTP, else the outbox).
 */
import type { Writable } from 'node:stream';
import { resealPortal } from '../../../site/lib/portal-reseal-fs.ts';
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { formatInstant } from '../../../site/core/util/format.ts';
import { identityOf, loadWorkerConfig, smtpOf } from '../../../mail-worker/config/worker-config.ts';
import { createMailer } from '../../../mail-worker/mailer/mailer.ts';
import type { TickItem } from '../../../mail-worker/tick/plan-tick.ts';
import { runTick, type TickPlanOutcome, type TickResult } from '../../../mail-worker/tick/run-tick.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../cli-clock.ts';
import { print, type CliCommand } from '../cli-command.ts';

const options = {
  now: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

export const command: CliCommand<typeof options> = {
  name: 'tick',
  summary: 'send the reminders, digests, escalations, check-in invites and task emails due now (once)',
  usage: [
    '  npx twofold tick [--now <date|time>] [--dry-run] [--json]',
    '',
    `  ${NOW_OPTION_DOC}`,
    '                     (a date alone: each plan ticks at the first moment of its sending window that day)',
    '  --dry-run          list what is due, send nothing and store nothing',
    '  --json             print the emails as a list of {"kind","to","plan","task","step"}',
    '',
    '  Idempotent: run twice for the same moment, the second run sends nothing. Nothing goes out',
    "  on a plan's non-working days, outside its working hours or in the quiet hours",
    '  (TWOFOLD_QUIET_HOURS, default 19:00-08:00), all in the plan\'s time zone; what is due then',
    '  goes out at the next tick inside that window. Mail goes over SMTP when the worker settings',
    '  name an SMTP server (TWOFOLD_SMTP_HOST or .twofold/config.json), else into the outbox.',
    '  Exit status 1 when a plan failed part-way (the rest is sent by the next tick).',
  ].join('\n'),
  options,
  positionals: false,
  async run({ values }, ctx) {
    const clock = clockFromOption(typeof values.now === 'string' ? values.now : undefined);
    const dryRun = values['dry-run'] === true;
    const config = await loadWorkerConfig(ctx.paths, ctx.env);
    const smtp = smtpOf(config);
    const store = openSecretStore(ctx.paths, ctx.env);
    const mailer = createMailer({ outboxDir: ctx.paths.outboxDir, ...(smtp ? { smtp } : {}) });
    let result: TickResult;
    try {
      result = await runTick({
        paths: ctx.paths,
        identity: identityOf(config),
        store,
        mailer,
        quietHours: config.tick.quiet_hours,
        now: clock.instant,
        ...(clock.date ? { today: clock.date } : {}),
        dryRun,
        // runTick holds the plan's lock when it re-seals: the portal is sealed in place here.
        reseal: (slug) => resealPortal({ paths: ctx.paths, store, now: clock.instant }, slug),
      });
    } finally {
      await mailer.close();
    }
    if (values.json) {
      print(ctx.stdout, JSON.stringify(result.sent.map(({ kind, to, plan, task, step }) => ({ kind, to, plan, task, step })), null, 2));
    } else {
      report(ctx.stdout, result);
    }
    for (const p of result.plans) {
      if (p.status === 'failed' || p.status === 'invalid') print(ctx.stderr, `${p.plan}: ${p.status === 'invalid' ? 'skipped' : 'failed'} — ${p.message ?? ''} [${p.code}]`);
    }
    return result.plans.some((p) => p.status === 'failed') ? 1 : 0;
  },
};

const HEADERS = ['KIND', 'PLAN', 'TO', 'TASK', 'STEP', 'DETAIL'] as const;

function report(stdout: Writable, result: TickResult): void {
  if (result.sent.length > 0) print(stdout, table(result.sent));
  print(stdout, summary(result));
  for (const p of result.plans) if (p.status === 'closed') print(stdout, closedLine(p));
}

function table(items: TickItem[]): string {
  const grid = [[...HEADERS], ...items.map((i) => [i.kind, i.plan, i.to, i.task ?? '—', i.step === null ? '—' : String(i.step), i.detail])];
  const widths = HEADERS.map((_, c) => Math.max(...grid.map((r) => [...r[c]!].length)));
  return grid.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell + ' '.repeat(widths[c]! - [...cell].length))).join('  ').trimEnd()).join('\n');
}

const KIND_WORDS: Record<TickItem['kind'], [string, string]> = {
  checkin: ['check-in invite', 'check-in invites'],
  task: ['task email', 'task emails'],
  escalation: ['escalation', 'escalations'],
  reminder: ['reminder', 'reminders'],
  digest: ['weekly digest', 'weekly digests'],
};

/** "sent 5 emails for 2 plans: 2 check-in invites, 1 escalation, 2 reminders" */
function summary(result: TickResult): string {
  const counts = new Map<TickItem['kind'], number>();
  for (const i of result.sent) counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1);
  const parts = (Object.keys(KIND_WORDS) as TickItem['kind'][]).filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${KIND_WORDS[k][counts.get(k) === 1 ? 0 : 1]}`);
  const ran = result.plans.filter((p) => p.status === 'ran').length;
  const verb = result.dryRun ? 'would send' : 'sent';
  const emails = `${result.sent.length} email${result.sent.length === 1 ? '' : 's'}`;
  const tail = result.dryRun ? ' (dry run: nothing sent, nothing stored)' : '';
  if (result.sent.length === 0) return result.dryRun ? `would send nothing${tail}` : 'nothing to send';
  return `${verb} ${emails} for ${ran} plan${ran === 1 ? '' : 's'}: ${parts.join(', ')}${tail}`;
}

const CLOSED_WORDS: Record<NonNullable<TickPlanOutcome['reason']>, string> = {
  'non-working-day': 'not a working day',
  'outside-working-hours': 'outside working hours',
  'quiet-hours': 'quiet hours',
};

/** "acme: waiting — quiet hours (America/Chicago); next at Tue, Mar 10, 2026, 9:00 AM CDT" */
function closedLine(p: TickPlanOutcome): string {
  const why = p.reason ? CLOSED_WORDS[p.reason] : 'closed';
  const zone = p.timezone ?? 'UTC';
  return `${p.plan}: waiting — ${why} (${zone})${p.opensAt ? `; next at ${formatInstant(p.opensAt, zone)}` : ''}`;
}

/**
 * `twofold mail send <plan> [task] [--to <email>] [--now <date|time>]`: send a task's email to
 * its owner (or to another person of the plan), or without a task one digest of open tasks per
 * person. Mail goes out the way the worker sends it (worker settings: SMTP, else the outbox).
 */
import type { Writable } from 'node:stream';
import { TwofoldError } from '../../../../site/core/errors/problem.ts';
import { withPlanLock } from '../../../../site/lib/plan-lock-fs.ts';
import { resealPortal } from '../../../../site/lib/portal-reseal-fs.ts';
import { openSecretStore } from '../../../../site/lib/secret-store-fs.ts';
import { identityOf, loadWorkerConfig, smtpOf } from '../../../../mail-worker/config/worker-config.ts';
import { sendTaskEmails, type SentTaskEmail } from '../../../../mail-worker/mail/send-task-emails.ts';
import type { NewLink } from '../../../../mail-worker/mail/mail-context.ts';
import { createMailer } from '../../../../mail-worker/mailer/mailer.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../../cli-clock.ts';
import { print, type CliCommand, type CliContext } from '../../cli-command.ts';

const options = {
  to: { type: 'string' },
  now: { type: 'string' },
} as const;

export const command: CliCommand<typeof options> = {
  name: 'mail send',
  summary: "send a task's email to its owner, or digests of open tasks to a plan's people",
  usage: [
    '  npx twofold mail send <plan> [task] [--to <email>] [--now <date|time>]',
    '',
    '  <plan>          plan slug (content/plans/<plan>.md)',
    '  [task]          send this task\'s email (default: one digest per person with open tasks)',
    '  --to <email>    send only to this person of the plan (default: the task\'s owner, or everyone',
    '                  with open tasks)',
    `  ${NOW_OPTION_DOC}`,
    '',
    '  Mail goes over SMTP when the worker settings name an SMTP server (TWOFOLD_SMTP_HOST or',
    '  .twofold/config.json), else into the outbox (.twofold/outbox) as .eml files. The same email',
    '  (same task, person, title and due date) has the same Message-ID and is sent only once.',
  ].join('\n'),
  options,
  async run({ values, positionals }, ctx) {
    const [slug, task, ...extra] = positionals;
    if (!slug || extra.length > 0) throw new TwofoldError('CLI_USAGE', 'mail send: give one plan slug and at most one task id', { hint: `Usage:\n${command.usage}` });
    const clock = clockFromOption(typeof values.now === 'string' ? values.now : undefined);
    const config = await loadWorkerConfig(ctx.paths, ctx.env);
    const smtp = smtpOf(config);
    const store = openSecretStore(ctx.paths, ctx.env);
    const already = new Set<string>();
    const mailer = createMailer({
      outboxDir: ctx.paths.outboxDir,
      ...(smtp ? { smtp } : {}),
      log: (event) => {
        if (event.event === 'mail.already-spooled') already.add(String(event.messageId));
      },
    });
    try {
      const { sent } = await sendTaskEmails({
        paths: ctx.paths,
        store,
        identity: identityOf(config),
        mailer,
        now: clock.instant,
        ...(clock.date ? { today: clock.date } : {}),
        slug,
        ...(task ? { task } : {}),
        ...(typeof values.to === 'string' ? { to: values.to } : {}),
        beforeSend: (links) => publishLinks(ctx, slug, links, store, clock.instant),
      });
      report(ctx.stdout, slug, sent, already, smtp !== undefined);
    } finally {
      await mailer.close();
    }
    return 0;
  },
};

/** New personal links open the portal once it is sealed again: re-seal it now when it is built. */
async function publishLinks(ctx: CliContext, slug: string, links: NewLink[], store: ReturnType<typeof openSecretStore>, now: Date): Promise<void> {
  const who = links.map((l) => l.email).join(', ');
  const result = await withPlanLock(ctx.paths, slug, () => resealPortal({ paths: ctx.paths, store, now }, slug));
  if (result.status === 'missing') print(ctx.stderr, `New personal links for ${who}: they open the portal after the next \`npx twofold build\`.`);
  else if (result.status === 'unpublished') print(ctx.stderr, `New personal links for ${who}: ${slug} has no portal yet; run \`npx twofold password ${slug}\` and \`npx twofold build\` so the links open it.`);
  else print(ctx.stderr, `New personal links for ${who}; the portal was re-sealed so they open it.`);
}

function report(stdout: Writable, slug: string, sent: SentTaskEmail[], already: Set<string>, smtp: boolean): void {
  if (sent.length === 0) {
    print(stdout, `${slug}: nothing to send — no open tasks for the people asked`);
    return;
  }
  for (const s of sent) {
    const what = s.kind === 'task' ? `task ${s.task}` : 'digest';
    const where = already.has(s.messageId)
      ? `already sent: ${s.file}`
      : smtp
        ? s.delivered
          ? `delivered over SMTP: ${s.file}`
          : `queued, SMTP delivery failed (the worker retries): ${s.file}`
        : s.file;
    print(stdout, `${what.padEnd(10)} → ${s.to}  ${where}`);
  }
}

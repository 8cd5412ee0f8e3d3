/**
 * `twofold mail reply-address <plan> <task|digest> <email> [--now <date|time>]`: print the signed
 * reply address a task email (or digest) to that person carries. Mail sent to it from that
 * person is read as a reply about that task.
 */
import { findTask } from '../../../../site/core/plan/plan-model.ts';
import { TwofoldError } from '../../../../site/core/errors/problem.ts';
import { DIGEST_TASK, REPLY_TOKEN_TTL_DAYS } from '../../../../site/core/reply/reply-token.ts';
import { readPlan } from '../../../../site/lib/plan-store-fs.ts';
import { openSecretStore } from '../../../../site/lib/secret-store-fs.ts';
import { identityOf, loadWorkerConfig } from '../../../../mail-worker/config/worker-config.ts';
import { memberOf, replyAddressFor } from '../../../../mail-worker/mail/mail-context.ts';
import { unknownTask } from '../../../../mail-worker/mail/task-email.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../../cli-clock.ts';
import { print, type CliCommand } from '../../cli-command.ts';

const options = { now: { type: 'string' } } as const;

export const command: CliCommand<typeof options> = {
  name: 'mail reply-address',
  summary: 'print the signed reply address of a task (or digest) for a person of the plan',
  usage: [
    '  npx twofold mail reply-address <plan> <task|digest> <email> [--now <date|time>]',
    '',
    '  <plan>          plan slug',
    `  <task|digest>   a task id of the plan, or "${DIGEST_TASK}" for the person's digest address`,
    '  <email>         a person of the plan: only mail from them is accepted at the address',
    `  ${NOW_OPTION_DOC}`,
    '',
    `  The address expires ${REPLY_TOKEN_TTL_DAYS} days after --now. Its form comes from the worker`,
    '  settings (TWOFOLD_REPLY_MODE, TWOFOLD_REPLY_LOCAL_PART, TWOFOLD_REPLY_DOMAIN).',
  ].join('\n'),
  options,
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 3) throw new TwofoldError('CLI_USAGE', 'mail reply-address: give a plan slug, a task id (or digest) and an email', { hint: `Usage:\n${command.usage}` });
    const [slug, taskArg, email] = positionals as [string, string, string];
    const clock = clockFromOption(typeof values.now === 'string' ? values.now : undefined);
    const { plan } = await readPlan(ctx.paths, slug);
    const digest = taskArg.toLowerCase() === DIGEST_TASK;
    const task = digest ? DIGEST_TASK : findTask(plan, taskArg)?.task.id;
    if (!task) throw unknownTask(plan, slug, taskArg);
    const person = memberOf(plan, slug, email);
    const config = await loadWorkerConfig(ctx.paths, ctx.env);
    const store = openSecretStore(ctx.paths, ctx.env);
    print(ctx.stdout, await replyAddressFor({ store, identity: identityOf(config), now: clock.instant }, slug, task, person.email));
    return 0;
  },
};

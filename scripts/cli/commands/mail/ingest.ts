/** `twofold mail ingest [file|-]` — process one message from a file or stdin, as an MTA pipe would. */
import { isTwofoldError, TwofoldError } from '../../../../site/core/errors/problem.ts';
import { loadWorkerConfig } from '../../../../mail-worker/config/worker-config.ts';
import { ingestExitCode, ingestFile } from '../../../../mail-worker/sources/file-source.ts';
import { createWorkerCore } from '../../../../mail-worker/worker.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../../cli-clock.ts';
import { print, type CliCommand } from '../../cli-command.ts';

export const command: CliCommand = {
  name: 'mail ingest',
  summary: 'process one email from a file or stdin (for an MTA pipe)',
  usage: `npx twofold mail ingest [file|-] [--now <date|time>]

Processes one message exactly as the worker does (dedupe, authenticate, apply, re-seal the
portal, answer) and exits. For an MTA alias such as
  twofold: "|cd /srv/twofold && npx twofold mail ingest -"
Exit codes follow sysexits: 0 processed (applied, ignored, rejected, a duplicate, or
unreadable and kept in the journal's failed folder), 65 refused (an empty or oversized
message), 66 no input (the file cannot be read), 75 try again later (the MTA retries).
The worker's log lines (JSON) go to stderr.

  ${NOW_OPTION_DOC}`,
  options: { now: { type: 'string' } },
  async run({ values, positionals }, ctx) {
    if (positionals.length > 1) throw new TwofoldError('CLI_USAGE', 'mail ingest takes one file (or - for stdin)');
    // Tokens expire and "tomorrow" counts from the receipt: both read this clock.
    const instant = typeof values.now === 'string' ? clockFromOption(values.now).instant : undefined;
    const clock = instant ? () => instant : undefined;
    const config = await loadWorkerConfig(ctx.paths, ctx.env);
    const core = await createWorkerCore({ paths: ctx.paths, env: ctx.env, config, fullBuilds: false, log: (e) => ctx.stderr.write(`${JSON.stringify(e)}\n`), ...(clock ? { clock } : {}) });
    try {
      await core.processor.recover();
      const outcome = await ingestFile(positionals[0] ?? '-', core.processor.handle, clock ? { now: clock } : {}).catch((err) => err);
      const code = ingestExitCode(outcome);
      if (outcome instanceof Error) print(ctx.stderr, `error: ${outcome.message}${isTwofoldError(outcome) ? ` [${outcome.code}]` : ''}${ctx.env.TWOFOLD_DEBUG ? `\n${outcome.stack}` : ''}`);
      else print(ctx.stdout, `${outcome.disposition}${outcome.reason ? ` (${outcome.reason})` : ''}`);
      return code;
    } finally {
      await core.close();
    }
  },
};

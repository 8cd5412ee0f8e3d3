/** `twofold worker` — run the mail worker: inbound SMTP and/or IMAP, outgoing mail, re-sealing, the scheduler. */
import { existsSync } from 'node:fs';
import { loadWorkerConfig, WORKER_ENV_VARS, configFile } from '../../../mail-worker/config/worker-config.ts';
import { startWorker } from '../../../mail-worker/worker.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const command: CliCommand = {
  name: 'worker',
  summary: 'run the mail worker (replies in, confirmations out, portals re-sealed, reminders on schedule)',
  usage: `npx twofold worker

Settings come from .twofold/config.json (or the file in TWOFOLD_CONFIG) with these environment
variables on top; everything has a default that runs locally with no outside services:
  ${WORKER_ENV_VARS.join(', ')}

Defaults: replies arrive on the embedded SMTP server at 127.0.0.1:2525 for *@twofold.localhost;
with no TWOFOLD_SMTP_HOST every outgoing email is written to .twofold/outbox/ as an .eml file;
IMAP is off until TWOFOLD_IMAP_HOST/USER/PASS are set. The worker logs one JSON line per event.
Stop it with Ctrl-C; a message in hand finishes first.`,
  options: {},
  positionals: false,
  async run(_args, ctx) {
    const config = await loadWorkerConfig(ctx.paths, ctx.env);
    const worker = await startWorker({ paths: ctx.paths, env: ctx.env, config });
    const smtp = worker.smtp?.status();
    const file = configFile(ctx.paths, ctx.env);
    const from = existsSync(file) ? `settings from ${file} and the environment` : 'settings from the embedded defaults and the environment';
    print(ctx.stderr, `twofold worker: ${from}; ` +
      `${smtp ? `SMTP inbox on ${config.inbound_smtp.host}:${config.inbound_smtp.port}` : 'no SMTP inbox'}, ${config.imap ? `IMAP ${config.imap.user}@${config.imap.host}` : 'no IMAP'}, ` +
      `${config.smtp ? `sending via ${config.smtp.host}:${config.smtp.port}` : `outbox ${ctx.paths.outboxDir}`}`);
    await new Promise<void>((resolve) => {
      // The sources hold the event loop open; with none (only the scheduler, whose timers are
      // unref'd) this timer does, else Node would end the process at once (exit code 13).
      const keepAlive = setInterval(() => {}, 2 ** 30);
      const stop = () => {
        clearInterval(keepAlive);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await worker.stop();
    return 0;
  },
};

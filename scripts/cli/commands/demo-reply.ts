/**
 * `twofold demo-reply <plan> <task> "<text>"` (`npm run demo:reply -- …`): answer a task email as
 * its owner would — a real SMTP message, From the owner, To the task's signed reply address,
 * threaded under the task email with the original quoted below — delivered to the running
 * worker's embedded inbox.
 */
import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import type { ProjectPaths } from '../../../site/lib/project-paths.ts';
import { inboundSmtpFile } from '../../../mail-worker/worker.ts';
import { TwofoldError } from '../../../site/core/errors/problem.ts';
import { findTask, personById, personByEmail, planTitle } from '../../../site/core/plan/plan-model.ts';
import { readPlan } from '../../../site/lib/plan-store-fs.ts';
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { identityOf, loadWorkerConfig } from '../../../mail-worker/config/worker-config.ts';
import { replyAddressFor, threadRootId } from '../../../mail-worker/mail/mail-context.ts';
import { print, type CliCommand } from '../cli-command.ts';

/** The inbox of the worker running from this folder (it records its address), else the configured one. */
async function runningInbox(paths: ProjectPaths, configured: { host: string; port: number }): Promise<{ host: string; port: number }> {
  try {
    const running = JSON.parse(await readFile(inboundSmtpFile(paths), 'utf8')) as { address?: string; host?: string; port: number; pid: number };
    process.kill(running.pid, 0);
    return { host: running.host ?? configured.host, port: running.port };
  } catch {
    return configured;
  }
}

export const command: CliCommand = {
  name: 'demo-reply',
  summary: 'reply to a task email as its owner, over SMTP to the running worker (for trying Twofold)',
  usage: `npx twofold demo-reply <plan> <task> "<reply text>" [--from <email>]

Sends a real reply to the worker's embedded SMTP inbox (127.0.0.1:2525 unless configured), as
a mail client would: From the task's owner (or --from, a person of the plan), To the task's
signed reply address, threaded under the task email, with the original quoted below the text.
Needs \`npm start\` (or \`npx twofold worker\`) running. Example:
  npm run demo:reply -- tamarind-vale T9 "blocked: waiting on IT"`,
  options: { from: { type: 'string' } },
  async run({ values, positionals }, ctx) {
    const [slug, taskId, text] = positionals;
    if (!slug || !taskId || !text || positionals.length > 3) throw new TwofoldError('CLI_USAGE', 'demo-reply needs <plan> <task> "<reply text>"');
    const config = await loadWorkerConfig(ctx.paths, ctx.env);
    const identity = identityOf(config);
    const stored = await readPlan(ctx.paths, slug);
    const hit = findTask(stored.plan, taskId);
    if (!hit) throw new TwofoldError('REPLY_TASK_UNKNOWN', `plan ${slug} has no task ${taskId}; its tasks are ${stored.plan.stages.flatMap((s) => s.tasks.map((t) => t.id)).join(', ')}`);
    const owner = personById(stored.plan, hit.task.owner)!;
    const from = values.from ? personByEmail(stored.plan, String(values.from)) : owner;
    if (!from) throw new TwofoldError('PORTAL_PERSON_UNKNOWN', `${values.from} is not a person of plan ${slug}`);
    const store = openSecretStore(ctx.paths, ctx.env);
    const to = await replyAddressFor({ store, identity, now: new Date() }, slug, hit.task.id, owner.email);
    const root = threadRootId(identity, slug, hit.task.id, owner.email);
    const subject = `Re: [${planTitle(stored.plan)}] ${hit.task.id}: ${hit.task.title}`;
    const quoted = `On ${new Date().toUTCString()}, ${identity.from.name} <${identity.from.address}> wrote:\n> ${hit.task.id}: ${hit.task.title}\n> Reply "done" when it is done.`;
    const inbox = await runningInbox(ctx.paths, config.inbound_smtp);
    const transport = nodemailer.createTransport({ host: inbox.host === '0.0.0.0' ? '127.0.0.1' : inbox.host, port: inbox.port, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail({ from: { name: from.name, address: from.email }, to, subject, inReplyTo: root, references: [root], text: `${text}\n\n${quoted}\n` });
      // The worker answers 250 once the outcome is recorded, and says which it was.
      const reason = /OK \w+ (\w+)/.exec(info.response)?.[1];
      print(
        ctx.stdout,
        reason === 'REPLY_APPLIED'
          ? `Sent as ${from.email} to ${to}: the worker applied it. Reload the portal, and see the confirmation in the outbox.`
          : `Sent as ${from.email} to ${to}: the worker did not apply it (${reason ?? info.response}). Its answer, if any, is in the outbox.`,
      );
    } catch (err: any) {
      throw new TwofoldError('MAIL_SMTP_CONNECT_FAILED', `could not deliver to the worker's SMTP inbox at ${inbox.host}:${inbox.port}: ${err?.response ?? err?.code ?? err?.message}`, {
        hint: err?.responseCode ? undefined : 'Start it first: `npm start` in another terminal.',
      });
    } finally {
      transport.close();
    }
    return 0;
  },
};

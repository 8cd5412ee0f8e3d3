/**
 * `twofold start` (`npm start`): the main job on embedded defaults, no outside services. Builds
 * the portals (giving each plan a password on first run), serves them on localhost, runs the
 * worker with its embedded SMTP inbox and the outbox of .eml files, sends each person a digest
 * of their open tasks, and prints what to try.
 */
import { loadWorkerConfig } from '../../../mail-worker/config/worker-config.ts';
import { sendTaskEmails } from '../../../mail-worker/mail/send-task-emails.ts';
import { digestSentKeys } from '../../../mail-worker/tick/plan-tick.ts';
import { readTickState, writeTickState } from '../../../mail-worker/tick/tick-state-fs.ts';
import { settle } from '../../../mail-worker/tick/tick-state.ts';
import { dateInZone } from '../../../site/core/util/dates.ts';
import { startLocalSiteServer } from '../../../mail-worker/publish/local-site-server.ts';
import type { SourceEvent } from '../../../mail-worker/sources/message-handler.ts';
import { startWorker, type RunningWorker } from '../../../mail-worker/worker.ts';
import { generatePassword } from '../../../site/core/portal/portal-password.ts';
import { portalUrl } from '../../../site/core/portal/portal-links.ts';
import { personalLinkUrl } from '../../../site/core/portal/personal-link.ts';
import { withPlanLock } from '../../../site/lib/plan-lock-fs.ts';
import { buildPortals } from '../../../site/lib/portal-build.ts';
import { readAllPlans } from '../../../site/lib/plan-store-fs.ts';
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { print, type CliCommand } from '../cli-command.ts';
import { createProgress } from '../progress.ts';

/** What the worker did, one readable line per reply, per scheduler run that sent mail and per failure (TWOFOLD_VERBOSE=1: every JSON event). */
export function narrate(e: SourceEvent, out: NodeJS.WritableStream): void {
  const at = new Date().toTimeString().slice(0, 8);
  if (e.event === 'message.processed') {
    const what = e.verdict === 'apply' ? `applied${Array.isArray(e.changes) && e.changes.length ? `: ${e.changes.join('; ')}` : ''}` : `${e.verdict} (${e.code})`;
    out.write(`[${at}] reply from ${e.sender ?? 'unknown sender'}${e.plan ? ` about ${e.plan}${e.task ? ` ${e.task}` : ''}` : ''}: ${what}\n`);
  } else if (e.event === 'tick.done' && typeof e.sent === 'number' && e.sent > 0) {
    const kinds = Object.entries((e.byKind ?? {}) as Record<string, number>).map(([kind, n]) => `${n} ${kind}`).join(', ');
    out.write(`[${at}] scheduler sent ${e.sent} email${e.sent === 1 ? '' : 's'} (${kinds})\n`);
  } else if (e.event === 'portal.reseal' && e.status === 'resealed') {
    out.write(`[${at}] portal of ${e.plan} re-sealed\n`);
  } else if (typeof e.code === 'string' && /FAILED|ERROR|INVALID/.test(e.code)) {
    out.write(`[${at}] ${e.event}: ${e.code}${e.reason ? ` — ${e.reason}` : ''}\n`);
  }
}

export const command: CliCommand = {
  name: 'start',
  summary: 'run everything locally: build and serve the portals, run the worker, show the outbox',
  usage: `npx twofold start [--port <n>] [--no-emails]

The main job on embedded defaults, with no outside services:
  1. gives every plan without a password a generated one (printed below, kept in .twofold/secrets.json),
  2. builds the sealed portals into dist/ and serves them on http://localhost:<port> (default 4321),
  3. runs the mail worker: replies to task emails arrive on its SMTP inbox at 127.0.0.1:2525,
     every email Twofold sends is written to .twofold/outbox/ and listed at /outbox/,
  4. emails each person a digest of their open tasks (once; re-running sends nothing new).
Then try: npm run demo:reply -- <plan> <task> "blocked: waiting on IT"

  --port <n>     web port (default 4321, or TWOFOLD_PORT)
  --no-emails    skip step 4`,
  options: { port: { type: 'string' }, 'no-emails': { type: 'boolean' } },
  positionals: false,
  async run({ values }, ctx) {
    const port = Number(values.port ?? ctx.env.TWOFOLD_PORT ?? 4321);
    const config = await loadWorkerConfig(ctx.paths, { TWOFOLD_PORTAL_URL: `http://localhost:${port}`, ...ctx.env });
    const store = openSecretStore(ctx.paths, ctx.env);
    const progress = createProgress(ctx.stdout, ctx.isTTY);

    progress.phase('passwords');
    const plans = (await readAllPlans(ctx.paths)).filter((r) => r.ok).map((r) => (r as Extract<typeof r, { ok: true }>).value);
    // A password is shown once: when this run made it. Later runs print the personal link instead.
    const generated = new Set<string>();
    for (const plan of plans) {
      const secrets = await store.getPortal(plan.slug);
      if (!secrets?.password) {
        await store.setPassword(plan.slug, generatePassword());
        generated.add(plan.slug);
      }
      // The personal link printed below must exist before the build seals the portal.
      const client = plan.plan.people.find((p) => p.side === 'client');
      if (client) await store.ensureLink(plan.slug, client.email);
    }

    // The web port first: when it is taken, say so before a 20-second build, not after.
    progress.phase('web server');
    const site = await startLocalSiteServer({ distDir: ctx.paths.distDir, outboxDir: ctx.paths.outboxDir, port });
    let worker: RunningWorker | undefined;
    try {
      // The worker next: another worker on this folder, or a taken SMTP port, fails before the build.
      progress.phase('worker');
      worker = await startWorker({ paths: ctx.paths, env: ctx.env, config, log: (e) => (ctx.env.TWOFOLD_VERBOSE ? ctx.stderr.write(`${JSON.stringify(e)}\n`) : narrate(e, ctx.stdout)) });
      const { core } = worker;
      const report = await buildPortals({ paths: ctx.paths, env: ctx.env, now: new Date(), hooks: progress });

      if (!values['no-emails']) {
        progress.phase('digests of open tasks', plans.length);
        let done = 0;
        for (const plan of plans) {
          const now = new Date();
          const { sent } = await sendTaskEmails({
            paths: ctx.paths,
            store,
            identity: core.identity,
            mailer: core.mailer,
            now: new Date(),
            slug: plan.slug,
            beforeSend: async () => {
              await withPlanLock(ctx.paths, plan.slug, () => core.publisher.reseal(plan.slug));
            },
          });
          // The scheduler counts these as this week's digests (no second one on the digest day).
          const today = dateInZone(now, plan.plan.timezone);
          const keys = sent.filter((m) => m.kind === 'digest').flatMap((m) => digestSentKeys(plan.plan, m.to, today));
          if (keys.length) await writeTickState(ctx.paths, plan.slug, settle(await readTickState(ctx.paths, plan.slug), keys, now), now);
          progress.tick(++done);
        }
      }
      progress.done();

      const lines = ['', `Twofold is running. Portals: ${report.sealed.length + report.reused.length} built into ${ctx.paths.distDir}`, ''];
      for (const plan of plans) {
        const secrets = await store.getPortal(plan.slug);
        if (!secrets?.password) continue;
        lines.push(
          `  ${plan.plan.client}`,
          `    portal    ${portalUrl(site.url, secrets.portalId)}`,
          generated.has(plan.slug) ? `    password  ${secrets.password.secret}   (shown once; keep it)` : `    password  set earlier (\`npx twofold password ${plan.slug} --rotate\` makes a new one)`,
        );
        const client = plan.plan.people.find((p) => p.side === 'client');
        if (client) lines.push(`    ${client.name}'s personal link: ${await personalLinkUrl(store, plan.slug, client.email, site.url)}`);
        lines.push('');
      }
      const example = plans.flatMap((p) => p.plan.stages.flatMap((s) => s.tasks.filter((t) => t.status !== 'done').map((t) => ({ slug: p.slug, task: t.id })))).at(0);
      lines.push(
        `  Outbox (every email Twofold sent): ${site.url}/outbox/`,
        `  Replies are received on SMTP 127.0.0.1:${config.inbound_smtp.port}.`,
        '',
        'Try it: reply to a task as its owner, then reload the portal:',
        `  npm run demo:reply -- ${example?.slug ?? '<plan>'} ${example?.task ?? '<task>'} "blocked: waiting on IT"`,
        '',
        'Press Ctrl-C to stop.',
      );
      print(ctx.stdout, lines.join('\n'));
    } catch (err) {
      // A failure after the web server started (a taken SMTP port, a failed build) must end the
      // process with its message, not leave it hanging on the open server.
      await worker?.stop().catch(() => undefined);
      await site.close();
      throw err;
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await worker.stop();
    await site.close();
    return 0;
  },
};

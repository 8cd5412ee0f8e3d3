/** `twofold dev` — a live-reloading, unencrypted local preview of every plan, for the CSM. */
import { CODE_ROOT } from '../../../site/lib/portal-build.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const command: CliCommand = {
  name: 'dev',
  summary: 'preview the plans unencrypted on localhost, reloading as you edit (never writes dist/)',
  usage: `npx twofold dev [--port <n>]

Starts Astro's dev server bound to 127.0.0.1 and shows each plan's portal unencrypted at
http://localhost:<port>/preview/<slug>/ (the list of plans is at /preview/). Saving a plan file
reloads the page. Nothing is written to dist/; nothing here is ever published.

  --port <n>   default 4322`,
  options: { port: { type: 'string' } },
  positionals: false,
  async run({ values }, ctx) {
    const port = Number(values.port ?? 4322);
    const { dev } = await import('astro');
    process.env.TWOFOLD_PREVIEW = '1';
    process.env.ASTRO_TELEMETRY_DISABLED = '1';
    // A preview must work offline and never phone home.
    process.env.ASTRO_DISABLE_UPDATE_CHECK = 'true';
    globalThis.__twofoldDev = { paths: ctx.paths };
    const server = await dev({ root: CODE_ROOT, server: { host: '127.0.0.1', port }, logLevel: 'warn', cacheDir: `${ctx.paths.cacheDir}/astro-dev` });
    print(ctx.stdout, `Preview (unencrypted, local only): http://localhost:${server.address.port}/preview/\nPress Ctrl-C to stop.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.stop();
    return 0;
  },
};

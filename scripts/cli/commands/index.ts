/**
 * The command registry. Commands load lazily so `twofold check` does not pay for Astro or the
 * mail libraries.
 */
import type { CliCommand } from '../cli-command.ts';

const registry: Record<string, () => Promise<{ command: CliCommand<any> }>> = {
  check: () => import('./check.ts'),
  new: () => import('./new.ts'),
  status: () => import('./status.ts'),
  build: () => import('./build.ts'),
  dev: () => import('./dev.ts'),
  schema: () => import('./schema.ts'),
  password: () => import('./password.ts'),
  link: () => import('./link.ts'),
  'reply-key': () => import('./reply-key.ts'),
  invite: () => import('./invite.ts'),
  tick: () => import('./tick.ts'),
  worker: () => import('./worker.ts'),
  start: () => import('./start.ts'),
  'demo-reply': () => import('./demo-reply.ts'),
};

/** `twofold mail <sub>`: two-word commands, one file each under commands/mail/. */
Object.assign(registry, {
  'mail send': () => import('./mail/send.ts'),
  'mail reply-address': () => import('./mail/reply-address.ts'),
  'mail explain': () => import('./mail/explain.ts'),
  'mail ingest': () => import('./mail/ingest.ts'),
});

export const commandNames = Object.keys(registry);

export async function loadCommand(name: string): Promise<CliCommand | undefined> {
  if (!Object.hasOwn(registry, name)) return undefined;
  return (await registry[name]!()).command as CliCommand;
}

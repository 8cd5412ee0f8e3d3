/**
 * The command registry. Commands load lazily so `twofold check` does not pay for Astro or the
 * mail libraries.
 */
import type { CliCommand } from '../cli-command.ts';

const registry: Record<string, () => Promise<{ command: CliCommand<any> }>> = {
};

export const commandNames = Object.keys(registry);

export async function loadCommand(name: string): Promise<CliCommand | undefined> {
  if (!Object.hasOwn(registry, name)) return undefined;
  return (await registry[name]!()).command as CliCommand;
}

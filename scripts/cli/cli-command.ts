/** The shape of a `twofold` subcommand. Commands parse arguments and call core/worker code. */
import type { Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';

export type CliOptions = NonNullable<ParseArgsConfig['options']>;

export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  paths: ProjectPaths;
  stdout: Writable;
  stderr: Writable;
  /** True when stdout is a terminal (progress bars, colour). */
  isTTY: boolean;
}

export interface CliCommand<O extends CliOptions = CliOptions> {
  name: string;
  /** One line for `twofold help`. */
  summary: string;
  /** Usage lines and option docs for `twofold help <command>`; options state their defaults. */
  usage: string;
  options: O;
  /** Allow positional arguments (default true). */
  positionals?: boolean;
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }, ctx: CliContext): Promise<number>;
}

export function print(stream: Writable, text = ''): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * `twofold` entry point: dispatch to a subcommand, print expected failures (TwofoldError) as
 * one clear message with a hint, never a stack trace unless TWOFOLD_DEBUG=1.
 */
import { parseArgs } from 'node:util';
import { formatProblem } from '../../site/core/errors/format-problem.ts';
import { isTwofoldError, TwofoldError } from '../../site/core/errors/problem.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';
import { print, type CliCommand, type CliContext } from './cli-command.ts';
import { commandNames, loadCommand } from './commands/index.ts';

export async function main(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const cwd = overrides.cwd ?? process.cwd();
  const env = overrides.env ?? process.env;
  const ctx: CliContext = {
    cwd,
    env,
    paths: overrides.paths ?? projectPaths(cwd, env),
    stdout: overrides.stdout ?? process.stdout,
    stderr: overrides.stderr ?? process.stderr,
    isTTY: overrides.isTTY ?? Boolean(process.stdout.isTTY),
  };
  const [first, ...rest] = argv;
  // Two-word commands (`twofold mail send`) are registered under both words.
  const name = first && rest[0] && !rest[0].startsWith('-') && commandNames.includes(`${first} ${rest[0]}`) ? `${first} ${rest.shift()}` : first;
  try {
    if (!name || name === 'help' || name === '--help' || name === '-h') return await help(rest.filter((a) => !a.startsWith('-')).join(' ') || undefined, ctx);
    if (name === '--version' || name === '-v') {
      print(ctx.stdout, 'twofold 0.1.0');
      return 0;
    }
    if (isGroup(name)) return await help(name, ctx);
    const command = await loadCommand(name);
    if (!command) throw unknownCommand(name);
    if (rest.includes('--help') || rest.includes('-h')) return await help(name, ctx);
    const args = parse(command, rest);
    return await command.run(args, ctx);
  } catch (err) {
    return report(err, ctx);
  }
}

function parse(command: CliCommand, argv: string[]) {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: command.options, allowPositionals: command.positionals ?? true, strict: true });
    return { values: values as Record<string, any>, positionals };
  } catch (err: any) {
    throw new TwofoldError('CLI_USAGE', `${command.name}: ${String(err?.message ?? err).replace(/\. To specify a positional.*$/s, '')}`, { hint: `Usage:\n${command.usage}` });
  }
}

/** `mail` alone names the group of `mail …` commands. */
function isGroup(name: string): boolean {
  return !commandNames.includes(name) && commandNames.some((n) => n.startsWith(`${name} `));
}

function unknownCommand(name: string): TwofoldError {
  const near = commandNames.map((n) => ({ n, d: editDistance(name, n) })).sort((a, b) => a.d - b.d)[0];
  const guess = near && near.d <= Math.max(2, Math.floor(name.length / 3)) ? ` — did you mean "${near.n}"?` : '';
  return new TwofoldError('CLI_UNKNOWN_COMMAND', `unknown command "${name}"${guess}`, { hint: `Commands: ${commandNames.join(', ')}. Run \`npx twofold help\` for what each does.` });
}

async function help(name: string | undefined, ctx: CliContext): Promise<number> {
  if (name && !isGroup(name)) {
    const command = await loadCommand(name);
    if (!command) throw unknownCommand(name);
    print(ctx.stdout, `twofold ${command.name} — ${command.summary}\n\n${command.usage}`);
    return 0;
  }
  const names = name ? commandNames.filter((n) => n.startsWith(`${name} `)) : commandNames;
  const lines = name ? [`twofold ${name} — its commands:`] : ['twofold — mutual action plans from files, email and calendars', '', 'Commands:'];
  for (const n of names) {
    const c = await loadCommand(n);
    if (c) lines.push(`  ${n.padEnd(20)} ${c.summary}`);
  }
  lines.push('', 'Run `npx twofold help <command>` for a command\'s options.');
  print(ctx.stdout, lines.join('\n'));
  return 0;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = next;
    }
  }
  return row[b.length]!;
}

function report(err: unknown, ctx: CliContext): number {
  if (isTwofoldError(err)) {
    for (const p of err.problems) print(ctx.stderr, formatProblem(p));
    print(ctx.stderr, `error: ${err.message} [${err.code}]`);
    if (err.hint) print(ctx.stderr, `  hint: ${err.hint.replace(/\n/g, '\n  ')}`);
    if (ctx.env.TWOFOLD_DEBUG) print(ctx.stderr, String(err.stack));
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  print(ctx.stderr, `error: internal error: ${message} [INTERNAL]`);
  print(ctx.stderr, ctx.env.TWOFOLD_DEBUG ? String((err as Error)?.stack) : '  hint: run again with TWOFOLD_DEBUG=1 for the stack trace and report it.');
  return 2;
}

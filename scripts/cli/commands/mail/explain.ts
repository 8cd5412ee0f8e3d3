/** `twofold mail explain <file.eml> [--json]` — the whole reply pipeline as a dry run on one message. */
import { TwofoldError } from '../../../../site/core/errors/problem.ts';
import { openSecretStore } from '../../../../site/lib/secret-store-fs.ts';
import { identityOf, loadWorkerConfig } from '../../../../mail-worker/config/worker-config.ts';
import { evaluateMessage, type Evaluation } from '../../../../mail-worker/pipeline/evaluate-message.ts';
import { ingestFile } from '../../../../mail-worker/sources/file-source.ts';
import { openPlanDirectory } from '../../../../mail-worker/stores/plan-directory-fs.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../../cli-clock.ts';
import { print, type CliCommand } from '../../cli-command.ts';

export const command: CliCommand = {
  name: 'mail explain',
  summary: 'show what the worker would do with one email, changing nothing',
  usage: `npx twofold mail explain <file.eml|-> [--json] [--now <date|time>]

Runs parse, classify, authenticate, extract, command parsing and the plan check on one message
and prints the verdict (apply, ignore or reject), its reason code, the plan, task and sender, the
new text it found and the commands. Writes nothing and sends nothing.

  --json             one JSON object: {"verdict","reason","plan","task","sender","text","commands":[{"task","verb","value"}]}
  ${NOW_OPTION_DOC}`,
  options: { json: { type: 'boolean' }, now: { type: 'string' } },
  async run({ values, positionals }, ctx) {
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new TwofoldError('CLI_USAGE', 'mail explain needs exactly one .eml file (or - for standard input)');
    // Read as `mail ingest` reads (size cap, `-` for stdin), but only to look at the message.
    let raw: Buffer = Buffer.alloc(0);
    await ingestFile(file, async (bytes) => {
      raw = bytes;
      return { disposition: 'processed' };
    });
    const config = await loadWorkerConfig(ctx.paths, ctx.env);
    const store = openSecretStore(ctx.paths, ctx.env);
    const evaluation = await evaluateMessage(raw, {
      identity: identityOf(config),
      plans: openPlanDirectory(ctx.paths),
      replyKey: async (version) => (await store.replyKey(version))?.key,
      now: clockFromOption(values.now as string | undefined).instant,
      ...(config.dmarc ? { dmarc: { authservId: config.dmarc.authserv_id, require: config.dmarc.require } } : {}),
    });
    const summary = explanation(evaluation);
    if (values.json) print(ctx.stdout, JSON.stringify(summary));
    else print(ctx.stdout, formatExplanation(summary, evaluation.detail));
    return 0;
  },
};

export interface Explanation {
  verdict: 'apply' | 'ignore' | 'reject';
  reason: string;
  plan: string | null;
  task: string | null;
  sender: string | null;
  text: string | null;
  commands: Array<{ task: string | null; verb: string; value: string | null }>;
}

/** A failed parse is a rejection as far as the sender is concerned; the worker keeps the message. */
export function explanation(e: Evaluation): Explanation {
  return {
    verdict: e.verdict === 'fail' ? 'reject' : e.verdict,
    reason: e.reason,
    plan: e.plan ?? null,
    task: e.task ?? null,
    sender: e.sender ?? null,
    text: e.text ?? null,
    commands: e.commands.map((c) => ({ task: c.task ?? null, verb: c.verb, value: c.value ?? null })),
  };
}

function formatExplanation(x: Explanation, detail: string): string {
  const lines = [
    `verdict:  ${x.verdict} (${x.reason})`,
    `why:      ${detail}`,
    `plan:     ${x.plan ?? '—'}`,
    `task:     ${x.task ?? '—'}`,
    `sender:   ${x.sender ?? '—'}`,
  ];
  if (x.text !== null) lines.push('text:', ...x.text.split('\n').map((l) => `  | ${l}`));
  lines.push(x.commands.length ? 'commands:' : 'commands: none');
  for (const c of x.commands) lines.push(`  ${c.task ?? '(no task)'} ${c.verb}${c.value !== null ? `: ${c.value}` : ''}`);
  return lines.join('\n');
}

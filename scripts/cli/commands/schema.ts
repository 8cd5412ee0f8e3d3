/** `twofold schema [--json]`: the plan-format reference, generated from the zod schema. */
import { planFieldDocs, planReferenceMarkdown } from '../../../site/core/plan/plan-reference.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const command: CliCommand = {
  name: 'schema',
  summary: 'print the plan-format reference (every field, type, default, description)',
  usage: [
    'npx twofold schema [--json]',
    '',
    '  --json   print the fields as a JSON list of { path, type, required, default, description }',
    '',
    'The Markdown table is the one in the README\'s "Plan format" section; a test keeps them equal.',
  ].join('\n'),
  options: { json: { type: 'boolean', default: false } },
  positionals: false,
  async run({ values }, ctx) {
    if (values.json) print(ctx.stdout, JSON.stringify(planFieldDocs(), null, 2));
    else ctx.stdout.write(planReferenceMarkdown());
    return 0;
  },
};

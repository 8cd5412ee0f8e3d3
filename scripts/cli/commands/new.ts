/**
 * `twofold new <slug> --client "Name" --template <name> --start YYYY-MM-DD`: a new plan from a
 * template in content/templates/. The template is itself a valid plan; the fields given on the
 * command line are set with the surgical editor (so every comment, relative date and
 * "FILL IN" marker survives) and `{{client}}` / `{{vendor}}` in the narrative are replaced.
 * Never overwrites a plan.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { TwofoldError } from '../../../site/core/errors/problem.ts';
import { editPlanText, parsePlanSource, type PlanEdit } from '../../../site/core/plan/plan-file.ts';
import { csmOf } from '../../../site/core/plan/plan-model.ts';
import { assertPlanSlug } from '../../../site/core/plan/plan-slug.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';
import { PLACEHOLDER_MARK } from '../../../site/core/plan/plan-warnings.ts';
import { isIsoDate, isValidTimeZone } from '../../../site/core/util/dates.ts';
import { plural } from '../../../site/core/util/format.ts';
import { createFileExclusive } from '../../../site/lib/create-exclusive-fs.ts';
import { appendActivity } from '../../../site/lib/plan-records-fs.ts';
import { PLAN_EXTENSIONS } from '../../../site/lib/plan-store-fs.ts';
import { readTemplate } from '../../../site/lib/plan-templates-fs.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../cli-clock.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const DEFAULT_TEMPLATE = 'saas-onboarding';

export const command: CliCommand = {
  name: 'new',
  summary: 'create a plan from a template (never overwrites one)',
  usage: [
    'npx twofold new <slug> --client "Name" --start YYYY-MM-DD [--template <name>] [--vendor "Name"] [--timezone <IANA zone>] [--now <date>]',
    '',
    '  <slug>               file name of the plan: lowercase letters, digits and dashes (content/plans/<slug>.md)',
    '  --client "Name"      client company name (required)',
    '  --start YYYY-MM-DD   kickoff date; the template\'s +Nd dates count from it (required)',
    `  --template <name>    a template in content/templates/ (default: ${DEFAULT_TEMPLATE})`,
    '  --vendor "Name"      your company name (default: the template\'s, marked FILL IN)',
    '  --timezone <zone>    IANA time zone of the plan, e.g. America/Chicago (default: the template\'s)',
    `  ${NOW_OPTION_DOC.replace('fix the clock', 'time stamp of the "created" activity entry')}`,
  ].join('\n'),
  options: {
    client: { type: 'string' },
    start: { type: 'string' },
    template: { type: 'string', default: DEFAULT_TEMPLATE },
    vendor: { type: 'string' },
    timezone: { type: 'string' },
    now: { type: 'string' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new TwofoldError('CLI_USAGE', `new: give exactly one plan slug (got ${positionals.length})`, { hint: `Usage:\n${command.usage}` });
    const slug = assertPlanSlug(positionals[0]!);
    const client = String(values.client ?? '').trim();
    if (!client) throw new TwofoldError('CLI_USAGE', 'new: --client "Name" is required', { hint: `Usage:\n${command.usage}` });
    const start = String(values.start ?? '').trim();
    if (!start) throw new TwofoldError('CLI_USAGE', 'new: --start YYYY-MM-DD is required', { hint: `Usage:\n${command.usage}` });
    if (!isIsoDate(start)) throw new TwofoldError('CLI_BAD_DATE', `--start "${start.slice(0, 40)}" is not a calendar date (YYYY-MM-DD)`, { hint: 'A plan starts on a day: give it as YYYY-MM-DD, such as 2026-12-07.' });
    const timezone = values.timezone === undefined ? undefined : String(values.timezone).trim();
    if (timezone !== undefined && !isValidTimeZone(timezone)) throw new TwofoldError('PLAN_TIMEZONE_UNKNOWN', `--timezone "${timezone.slice(0, 60)}" is not an IANA time zone`);
    const vendor = values.vendor === undefined ? undefined : String(values.vendor).trim();
    const clock = clockFromOption(values.now as string | undefined);

    for (const ext of PLAN_EXTENSIONS) {
      const existing = path.join(ctx.paths.plansDir, `${slug}${ext}`);
      if (await exists(existing)) throw new TwofoldError('PLAN_EXISTS', `${path.relative(ctx.paths.root, existing)} already exists`);
    }
    const template = await readTemplate(ctx.paths, String(values.template));
    const text = fillTemplate(template.text, { client, start, ...(vendor ? { vendor } : {}), ...(timezone ? { timezone } : {}) });

    const ext = path.extname(template.file);
    const file = path.join(ctx.paths.plansDir, `${slug}${ext}`);
    const label = path.relative(ctx.paths.root, file);
    const loaded = loadPlanText(text, label);
    if (!loaded.ok) {
      throw new TwofoldError(loaded.problems[0]!.code, `the plan made from template "${template.name}" would not pass \`twofold check\``, { problems: loaded.problems });
    }
    if (!(await createFileExclusive(file, text))) throw new TwofoldError('PLAN_EXISTS', `${label} already exists`);
    const { plan, warnings } = loaded.value;
    await appendActivity(ctx.paths, slug, [{ at: clock.instant.toISOString(), actor: csmOf(plan).id, verb: 'created', value: `from template ${template.name}`, via: 'cli' }]);

    const tasks = plan.stages.reduce((n, s) => n + s.tasks.length, 0);
    const toFill = warnings.filter((w) => w.code === 'PLAN_PLACEHOLDER_LEFT').length;
    print(ctx.stdout, `created ${label} from template ${template.name}: ${plural(plan.stages.length, 'stage')}, ${plural(tasks, 'task')}, starting ${start}`);
    if (toFill > 0) print(ctx.stdout, `next: replace the ${plural(toFill, 'value')} marked "${PLACEHOLDER_MARK}" (people, success criteria), then run \`npx twofold check ${label}\``);
    else print(ctx.stdout, `next: run \`npx twofold check ${label}\``);
    return 0;
  },
};

export interface TemplateValues {
  client: string;
  start: string;
  vendor?: string;
  timezone?: string;
}

/**
 * The template's text with the given fields set. Text-based: the frontmatter is edited in place
 * (comments, order, relative dates untouched) and `{{client}}` / `{{vendor}}` are replaced in
 * the narrative body only.
 */
export function fillTemplate(templateText: string, values: TemplateValues): string {
  const edits: PlanEdit[] = [
    { op: 'set', path: ['client'], value: values.client },
    { op: 'set', path: ['start'], value: values.start },
  ];
  if (values.vendor) edits.push({ op: 'set', path: ['vendor'], value: values.vendor });
  if (values.timezone) edits.push({ op: 'set', path: ['timezone'], value: values.timezone });
  const edited = editPlanText(templateText, edits);
  const parsed = parsePlanSource(edited);
  if (!parsed.ok) throw new TwofoldError('PLAN_EDIT_CONFLICT', 'the template could not be filled in');
  const vendor = (parsed.source.data as { vendor?: unknown }).vendor;
  const bodyStart = edited.length - parsed.source.body.length;
  const body = edited
    .slice(bodyStart)
    .replaceAll('{{client}}', values.client)
    .replaceAll('{{vendor}}', typeof vendor === 'string' ? vendor : '');
  return edited.slice(0, bodyStart) + body;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * `twofold new` end to end, in a temporary copy of the project's content: the plan it writes
 * passes `check`, keeps the template's comments and relative dates, and marks what to fill in;
 * it never overwrites a plan and refuses bad slugs and unknown templates.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseActivityLog } from '../../site/core/plan/activity.ts';
import { loadPlanText } from '../../site/core/plan/plan-validate.ts';
import { REPO_ROOT, runTwofold, STACK_FRAME, tempProject } from '../helpers/run-twofold.ts';

let root: string;
beforeEach(async () => {
  root = await tempProject(['templates']);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const planFile = (slug: string, ext = '.md') => path.join(root, 'content', 'plans', `${slug}${ext}`);
const template = () => readFile(path.join(REPO_ROOT, 'content', 'templates', 'saas-onboarding.md'), 'utf8');

describe('twofold new', () => {
  it('writes a plan from saas-onboarding that passes check', async () => {
    const run = await runTwofold(['new', 'acme', '--client', 'Acme', '--template', 'saas-onboarding', '--start', '2026-12-07', '--now', '2026-12-03T15:00:00Z'], { cwd: root });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('created content/plans/acme.md from template saas-onboarding: 4 stages, 22 tasks, starting 2026-12-07');
    expect(run.stdout).toMatch(/replace the \d+ values marked "FILL IN"/);

    const check = await runTwofold(['check'], { cwd: root });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/checked 1 plan: 0 errors, \d+ warnings/);
    expect(check.stdout).toContain('[PLAN_PLACEHOLDER_LEFT]');

    const text = await readFile(planFile('acme'), 'utf8');
    const loaded = loadPlanText(text);
    if (!loaded.ok) throw new Error(loaded.problems[0]!.message);
    expect(loaded.value.plan).toMatchObject({ client: 'Acme', start: '2026-12-07', golive: '+10w' });
    expect(loaded.value.plan.stages.map((s) => s.name)).toEqual(['Kickoff and success definition', 'Technical setup', 'Training and adoption', 'Go-live and value review']);
    expect(loaded.value.plan.people.find((p) => p.id === 'it-lead')).toMatchObject({ name: 'FILL IN: client IT lead', email: 'it-lead@client.example' });
    expect(text).toContain('Welcome, Acme team');
    expect(text).not.toContain('{{client}}');

    const activity = parseActivityLog(await readFile(path.join(root, 'content', 'activity', 'acme.jsonl'), 'utf8'));
    expect(activity).toEqual([{ at: '2026-12-03T15:00:00.000Z', actor: 'csm', verb: 'created', value: 'from template saas-onboarding', via: 'cli' }]);
  });

  it('changes only the lines it fills in: comments and relative dates survive byte for byte', async () => {
    await runTwofold(['new', 'globex', '--client', 'Globex: "East" #2', '--start', '2027-01-11', '--vendor', 'Initech', '--timezone', 'Europe/Berlin'], { cwd: root });
    const before = (await template()).split('\n');
    const after = (await readFile(planFile('globex'), 'utf8')).split('\n');
    expect(after).toHaveLength(before.length);
    const changed = after.map((line, i) => [before[i], line]).filter(([a, b]) => a !== b);
    expect(changed).toEqual([
      ['client: "FILL IN: client company"', 'client: "Globex: \\"East\\" #2"'],
      ['vendor: "FILL IN: your company"', 'vendor: Initech'],
      ['timezone: UTC                     # the client\'s IANA zone, e.g. America/Chicago or Europe/Berlin', 'timezone: Europe/Berlin                     # the client\'s IANA zone, e.g. America/Chicago or Europe/Berlin'],
      ['start: 2027-01-04                 # kickoff date (`twofold new --start` sets it)', 'start: 2027-01-11                 # kickoff date (`twofold new --start` sets it)'],
      ['Welcome, {{client}} team, and thank you for choosing {{vendor}}.', 'Welcome, Globex: "East" #2 team, and thank you for choosing Initech.'],
      ['FILL IN: two or three sentences on why {{client}} is making this change now, and what happens', 'FILL IN: two or three sentences on why Globex: "East" #2 is making this change now, and what happens'],
    ]);
    const loaded = loadPlanText(after.join('\n'));
    expect(loaded.ok && loaded.value.plan.client).toBe('Globex: "East" #2');
  });

  it.each([
    { name: 'an existing .md plan', existing: '.md' },
    { name: 'an existing .mdx plan', existing: '.mdx' },
  ])('refuses to overwrite $name (PLAN_EXISTS) and leaves it untouched', async ({ existing }) => {
    await mkdir(path.dirname(planFile('taken')), { recursive: true });
    const original = '---\nclient: Keep me\n---\n';
    await writeFile(planFile('taken', existing), original);
    const run = await runTwofold(['new', 'taken', '--client', 'Acme', '--start', '2026-12-07'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: content/plans/taken${existing} already exists [PLAN_EXISTS]`);
    expect(await readFile(planFile('taken', existing), 'utf8')).toBe(original);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it.each([
    { name: 'path traversal', slug: '../escape' },
    { name: 'capitals', slug: 'Acme' },
    { name: 'an underscore', slug: 'acme_logistics' },
    { name: 'a trailing dash', slug: 'acme-' },
    { name: 'a file extension', slug: 'acme.md' },
  ])('refuses a slug with $name (PLAN_SLUG_INVALID)', async ({ slug }) => {
    const run = await runTwofold(['new', slug, '--client', 'Acme', '--start', '2026-12-07'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`"${slug}" is not a plan slug [PLAN_SLUG_INVALID]`);
    expect(run.stderr).toContain('hint: Use a slug such as `acme-logistics`');
  });

  it.each([
    { name: 'an unknown name', template: 'enterprise' },
    { name: 'a path', template: '../plans/acme' },
  ])('refuses a template with $name (PLAN_TEMPLATE_UNKNOWN), listing the templates', async ({ template: name }) => {
    const run = await runTwofold(['new', 'acme', '--client', 'Acme', '--template', name, '--start', '2026-12-07'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no template "${name}" in content/templates; available: saas-onboarding [PLAN_TEMPLATE_UNKNOWN]`);
  });

  it.each([
    { name: 'no --client', args: ['--start', '2026-12-07'], error: 'new: --client "Name" is required [CLI_USAGE]' },
    { name: 'no --start', args: ['--client', 'Acme'], error: 'new: --start YYYY-MM-DD is required [CLI_USAGE]' },
    { name: 'an impossible --start', args: ['--client', 'Acme', '--start', '2026-02-30'], error: '--start "2026-02-30" is not a calendar date (YYYY-MM-DD) [CLI_BAD_DATE]' },
    { name: 'a time as --start, with a hint that does not suggest one', args: ['--client', 'Acme', '--start', '2026-12-07T09:30:00-06:00'], error: '[CLI_BAD_DATE]\n  hint: A plan starts on a day: give it as YYYY-MM-DD, such as 2026-12-07.' },
    { name: 'an unknown --timezone', args: ['--client', 'Acme', '--start', '2026-12-07', '--timezone', 'Europe/Atlantis'], error: '--timezone "Europe/Atlantis" is not an IANA time zone [PLAN_TIMEZONE_UNKNOWN]' },
    { name: 'a client name too long for the format', args: ['--client', 'A'.repeat(400), '--start', '2026-12-07'], error: 'would not pass `twofold check`' },
  ])('refuses $name and writes nothing', async ({ args, error }) => {
    const run = await runTwofold(['new', 'acme', ...args], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(error);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    await expect(readFile(planFile('acme'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

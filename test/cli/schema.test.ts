/**
 * `twofold schema` and the README's plan-format section: the README's field reference must be
 * exactly what the command prints (so the docs cannot drift from the schema), every schema field
 * must be documented with a description, and the README's example must be a valid plan.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFieldDocs } from '../../site/core/plan/plan-reference.ts';
import { loadPlanText } from '../../site/core/plan/plan-validate.ts';
import { REPO_ROOT, runTwofold } from '../helpers/run-twofold.ts';

const readme = () => readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');

function between(text: string, begin: string, end: string): string {
  const i = text.indexOf(begin);
  const j = text.indexOf(end, i + begin.length);
  if (i < 0 || j < 0) throw new Error(`README has no ${begin} … ${end} block`);
  return text.slice(i + begin.length, j);
}

describe('twofold schema', () => {
  it('prints the same field reference as the README holds', async () => {
    const run = await runTwofold(['schema']);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith('| Field | Type | Required | Default | Description |\n|---|---|---|---|---|\n')).toBe(true);
    const inReadme = between(await readme(), '<!-- plan-format-reference:begin -->\n', '<!-- plan-format-reference:end -->');
    // When this fails: run `npx twofold schema` and paste its output between the markers.
    expect(inReadme).toBe(run.stdout);
  });

  it('prints the fields as JSON with --json', async () => {
    const run = await runTwofold(['schema', '--json']);
    const fields = JSON.parse(run.stdout);
    expect(fields.find((f: { path: string }) => f.path === 'stages[].tasks[].owner')).toEqual({ path: 'stages[].tasks[].owner', type: 'person id', required: true, description: 'Id of the one person who owns the task.' });
    expect(fields.find((f: { path: string }) => f.path === 'stages[].checkin.minutes')).toMatchObject({ type: 'whole number 5–480', required: false, default: '30' });
  });

  it.each(planFieldDocs().map((f) => ({ ...f, name: f.path })))('documents $name with a type and a description', ({ type, description }) => {
    expect(type).not.toBe('value');
    expect(description.length).toBeGreaterThan(10);
  });

  it('names every field of the issue\'s public format', () => {
    const paths = new Set(planFieldDocs().map((f) => f.path));
    for (const p of ['client', 'vendor', 'timezone', 'start', 'golive', 'people[].id', 'people[].name', 'people[].email', 'people[].side', 'people[].role', 'people[].csm', 'people[].sponsor', 'success.outcome', 'success.criteria[].metric', 'success.criteria[].target', 'stages[].id', 'stages[].name', 'stages[].goal', 'stages[].due', 'stages[].checkin.when', 'stages[].checkin.minutes', 'stages[].checkin.attendees', 'stages[].tasks[].id', 'stages[].tasks[].title', 'stages[].tasks[].owner', 'stages[].tasks[].due', 'stages[].tasks[].status', 'stages[].tasks[].blocked.reason', 'stages[].tasks[].blocked.since', 'escalation[].after', 'escalation[].notify']) {
      expect(paths.has(p), p).toBe(true);
    }
  });
});

describe('the README plan-format example', () => {
  it('is a valid plan with no warnings', async () => {
    const text = await readme();
    const section = text.slice(text.indexOf('## Plan format'), text.indexOf('### Field reference'));
    const example = between(section, '```md\n', '```');
    const result = loadPlanText(example, 'README.md example');
    expect(result.ok ? result.value.warnings : result.problems).toEqual([]);
  });
});

/**
 * `twofold check` end to end: the bin as a subprocess on the shipped content, on every invalid
 * fixture, and on hostile files. Exit codes, `file:line: path: message` lines, JSON, and never a
 * stack trace.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PLAN_BYTES } from '../../site/core/plan/plan-file.ts';
import { main } from '../../scripts/cli/main.ts';
import { INVALID_CASES, INVALID_DIR } from '../fixtures/plans/invalid-cases.ts';
import { REPO_ROOT, runTwofold, STACK_FRAME, tempProject } from '../helpers/run-twofold.ts';

const rel = (file: string) => path.relative(REPO_ROOT, file);

/** Run `main` in this process (same code as the bin) and capture what it prints. */
async function checkInProcess(args: string[]) {
  let out = '';
  let err = '';
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, cb) { write(String(chunk)); cb(); } });
  const code = await main(['check', ...args], { cwd: REPO_ROOT, env: {}, stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), isTTY: false });
  return { code, stdout: out, stderr: err };
}

describe('twofold check on the shipped content', () => {
  it('passes every plan in content/plans with no errors and exits 0', async () => {
    const run = await runTwofold(['check']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^checked \d+ plans: 0 errors, \d+ warnings?\n$/m);
    expect(run.code).toBe(0);
  });

  it('passes the saas-onboarding template with warnings only (the FILL IN markers), exit 0', async () => {
    const run = await runTwofold(['check', 'content/templates/saas-onboarding.md']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('content/templates/saas-onboarding.md:34: people[3].name: warning: "FILL IN: client project lead" still needs filling in [PLAN_PLACEHOLDER_LEFT]');
    expect(run.stdout).toMatch(/checked 1 plan: 0 errors, \d+ warnings\n$/);
    // The hint is printed once per code, not with every placeholder.
    expect(run.stdout.match(/hint:/g)).toHaveLength(1);
  });
});

describe('twofold check on each invalid fixture', () => {
  it.each(INVALID_CASES)('$name exits 1 with $code at line $line', async ({ file, code, line, path: field, message }) => {
    const run = await checkInProcess([rel(file)]);
    expect(run.code).toBe(1);
    const first = run.stdout.split('\n')[0]!;
    const where = `${rel(file)}:${line}: ${field ? `${field}: ` : ''}error: `;
    expect(first.startsWith(where), first).toBe(true);
    expect(first).toContain(message);
    expect(first.endsWith(`[${code}]`)).toBe(true);
    expect(run.stdout).toMatch(/checked 1 plan: [1-9]\d* errors?, 0 warnings\n$/);
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  });

  it('reports every fixture of the directory in one JSON object, as a subprocess', async () => {
    const run = await runTwofold(['check', rel(INVALID_DIR), '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    expect(report.summary.plans).toBe(INVALID_CASES.length);
    expect(report.summary.warnings).toBe(0);
    for (const c of INVALID_CASES) {
      const plan = report.plans.find((p: { file: string }) => p.file === rel(c.file));
      expect(plan, c.name).toMatchObject({ slug: c.name, ok: false });
      expect(plan.problems[0], c.name).toMatchObject({ file: rel(c.file), line: c.line, path: c.path || null, severity: 'error', code: c.code });
      expect(plan.problems[0].message).toContain(c.message);
      expect(typeof plan.problems[0].hint === 'string' || plan.problems[0].hint === null).toBe(true);
    }
  });

  it.each([
    { name: 'misspelled-owner', line: 'test/fixtures/plans/invalid/misspelled-owner.md:31: stages[1].tasks[0].ownr: error: unknown field "ownr" — did you mean "owner"? [PLAN_FIELD_UNKNOWN]' },
    { name: 'owner-both', line: 'test/fixtures/plans/invalid/owner-both.md:34: stages[1].tasks[1].owner: error: "both" is not a person in this plan — a task needs one named owner [PLAN_OWNER_NOT_ONE_PERSON]' },
    { name: 'yaml-syntax', line: 'test/fixtures/plans/invalid/yaml-syntax.md:25: error: Nested mappings are not allowed in compact mappings [PLAN_YAML_SYNTAX]' },
    { name: 'hostile-alias-bomb', line: 'test/fixtures/plans/invalid/hostile-alias-bomb.md:42: error: YAML anchor &a is not allowed in a plan (and 8 more like it) [PLAN_YAML_HOSTILE]' },
  ])('prints $name as file:line: path: message with a hint, as a subprocess', async ({ name, line }) => {
    const run = await runTwofold(['check', `test/fixtures/plans/invalid/${name}.md`]);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(line);
    expect(lines[1]).toMatch(/^ {4}hint: \S/);
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('twofold check on hostile and odd input', () => {
  let root: string;
  beforeAll(async () => {
    root = await tempProject([]);
    await mkdir(path.join(root, 'content', 'plans'), { recursive: true });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a plan over 1 MB without reading it as YAML', async () => {
    await writeFile(path.join(root, 'big.md'), `---\nclient: ${'x'.repeat(MAX_PLAN_BYTES)}\n---\n`);
    const run = await runTwofold(['check', 'big.md'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^big\.md: error: the file is \d+ bytes; the limit is 1000000 \[PLAN_TOO_LARGE\]/);
  });

  it('reports a path that does not exist as an error of its own', async () => {
    const run = await runTwofold(['check', 'content/plans/nope.md'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('content/plans/nope.md: error: no such file or directory [PLAN_FILE_UNREADABLE]');
    expect(run.stdout).toContain('checked 1 plan: 1 error, 0 warnings');
  });

  it('reports a plan file whose name is not a slug', async () => {
    await writeFile(path.join(root, 'content', 'plans', 'Bad Name.md'), '---\nclient: x\n---\n');
    const run = await runTwofold(['check'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('content/plans/Bad Name.md: error: the file name "Bad Name" is not a valid plan slug');
    await rm(path.join(root, 'content', 'plans', 'Bad Name.md'));
  });

  it('says so when there are no plans, and exits 0', async () => {
    const run = await runTwofold(['check'], { cwd: root });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('no plan files found in content/plans\nchecked 0 plans: 0 errors, 0 warnings\n');
  });

  it('binary garbage is a clean problem, not a crash', async () => {
    await writeFile(path.join(root, 'garbage.md'), Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0x00, 0xff, 0xfe, 0x3a, 0x0a, 0x2d, 0x2d, 0x2d, 0x0a]));
    const run = await runTwofold(['check', 'garbage.md'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^garbage\.md:\d+: .*\[PLAN_[A-Z_]+\]/);
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
    expect(run.stderr).not.toContain('[INTERNAL]');
  });

  it('rejects an unknown option with a usage error, not a stack trace', async () => {
    const run = await runTwofold(['check', '--jsn'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("check: Unknown option '--jsn' [CLI_USAGE]");
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });
});

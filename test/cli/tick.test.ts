/**
 * `twofold tick` as cron or a CSM runs it: a subprocess in a throwaway project holding the Harbor
 * plan (test/fixtures/tick/harbor-month.md), mail going to the outbox (no SMTP configured).
 */
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, runTwofold, STACK_FRAME, tempProject, type CliRun } from '../helpers/run-twofold.ts';
import { EMAIL, TICK_PLAN_TEXT } from '../mail-worker/tick/tick-fixture.ts';

const MONDAY_9AM = '2026-03-02T09:00:00-06:00';
/** The first tick of the month: the setup check-in invites, the kickoff task emails (the plan starts) and five weekly digests. */
const FIRST_TICK = [
  { kind: 'checkin', to: EMAIL.raj, plan: 'harbor', task: null, step: null },
  { kind: 'checkin', to: EMAIL.dana, plan: 'harbor', task: null, step: null },
  { kind: 'task', to: EMAIL.raj, plan: 'harbor', task: 'T1', step: null },
  { kind: 'task', to: EMAIL.maya, plan: 'harbor', task: 'T2', step: null },
  { kind: 'digest', to: EMAIL.maya, plan: 'harbor', task: null, step: null },
  { kind: 'digest', to: EMAIL.sam, plan: 'harbor', task: null, step: null },
  { kind: 'digest', to: EMAIL.raj, plan: 'harbor', task: 'T1', step: null },
  { kind: 'digest', to: EMAIL.ines, plan: 'harbor', task: null, step: null },
  { kind: 'digest', to: EMAIL.dana, plan: 'harbor', task: null, step: null },
];

let root: string;

/** The environment of a CSM's shell with no Twofold settings, plus `env`. */
function twofold(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_')));
  return runTwofold(args, { cwd: root, env: { ...clean, ...env } });
}

const exists = (file: string) => stat(file).then(() => true, () => false);
const outbox = () => path.join(root, '.twofold', 'outbox');
const emls = async () => (await readdir(outbox()).catch(() => [] as string[])).filter((n) => n.endsWith('.eml'));

beforeEach(async () => {
  root = await tempProject([]);
  await mkdir(path.join(root, 'content', 'plans'), { recursive: true });
  await writeFile(path.join(root, 'content', 'plans', 'harbor.md'), TICK_PLAN_TEXT);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('twofold tick', () => {
  it('--dry-run --json lists what is due and stores nothing: no mail, records, activity, state or links', async () => {
    const run = await twofold(['tick', '--now', MONDAY_9AM, '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(FIRST_TICK);
    expect(await exists(outbox())).toBe(false);
    expect(await exists(path.join(root, 'content', 'records'))).toBe(false);
    expect(await exists(path.join(root, 'content', 'activity'))).toBe(false);
    expect(await exists(path.join(root, '.twofold'))).toBe(false);
  });

  it('sends into the outbox with a table and a summary; the same moment again sends nothing', async () => {
    const run = await twofold(['tick', '--now', MONDAY_9AM]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^KIND\s+PLAN\s+TO\s+TASK\s+STEP\s+DETAIL$/);
    expect(lines[1]).toMatch(/^checkin\s+harbor\s+raj@harbor\.example\s+—\s+—\s+REQUEST setup SEQUENCE 0$/);
    expect(lines).toContainEqual(expect.stringMatching(/^task\s+harbor\s+raj@harbor\.example\s+T1\s+—\s+stage kickoff opens$/));
    expect(lines).toContainEqual(expect.stringMatching(/^digest\s+harbor\s+raj@harbor\.example\s+T1\s+—\s+weekly digest, T1 due soon$/));
    expect(lines.at(-1)).toBe(`sent ${FIRST_TICK.length} emails for 1 plan: 2 check-in invites, 2 task emails, 5 weekly digests`);
    expect(await emls()).toHaveLength(FIRST_TICK.length);
    const activity = await readFile(path.join(root, 'content', 'activity', 'harbor.jsonl'), 'utf8');
    expect(activity).toContain('"verb":"reminder","task":"T1","value":"due in 2 days","via":"tick"');

    const again = await twofold(['tick', '--now', MONDAY_9AM]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('nothing to send');
    expect(await emls()).toHaveLength(FIRST_TICK.length);
  });

  it('a date-only --now ticks each plan at the first moment of its window that day', async () => {
    const run = await twofold(['tick', '--now', '2026-03-02', '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(FIRST_TICK);
  });

  it.each([
    { name: 'in quiet hours', now: '2026-03-02T20:00:00-06:00', env: {}, line: 'harbor: waiting — quiet hours (America/Chicago); next at Tue, Mar 3, 2026, 9:00 AM CST' },
    { name: 'on a Saturday', now: '2026-03-07T11:00:00-06:00', env: {}, line: 'harbor: waiting — not a working day (America/Chicago); next at Mon, Mar 9, 2026, 9:00 AM CDT' },
    { name: 'in quiet hours set by TWOFOLD_QUIET_HOURS', now: '2026-03-02T12:30:00-06:00', env: { TWOFOLD_QUIET_HOURS: '12:00-13:00' }, line: 'harbor: waiting — quiet hours (America/Chicago); next at Mon, Mar 2, 2026, 1:00 PM CST' },
  ])('sends nothing $name, and says when it will', async ({ now, env, line }) => {
    const run = await twofold(['tick', '--now', now], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['nothing to send', line]);
    expect(await exists(outbox())).toBe(false);
  });

  it('skips a plan with errors with TICK_PLAN_INVALID and ticks the others', async () => {
    await writeFile(path.join(root, 'content', 'plans', 'broken.md'), TICK_PLAN_TEXT.replace('owner: raj, due: 2026-03-04', 'owner: both, due: 2026-03-04'));
    const run = await twofold(['tick', '--now', MONDAY_9AM, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveLength(FIRST_TICK.length);
    expect(run.stderr).toMatch(/^broken: skipped — content\/plans\/broken\.md: "both" is not a person in this plan .*\[TICK_PLAN_INVALID\]$/m);
  });

  it('mails nobody of a plan fresh from `twofold new` until its FILL IN placeholders are replaced', async () => {
    await cp(path.join(REPO_ROOT, 'content', 'templates'), path.join(root, 'content', 'templates'), { recursive: true });
    const made = await twofold(['new', 'acme', '--client', 'Acme Logistics', '--start', '2026-03-02', '--timezone', 'America/Chicago', '--now', '2026-02-27']);
    expect(made.code, made.stderr).toBe(0);
    const run = await twofold(['tick', '--now', MONDAY_9AM, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(FIRST_TICK);
    expect(run.stderr).toMatch(/^acme: skipped — content\/plans\/acme\.md: \S+ ".*FILL IN.*" still needs filling in — nothing sent for this plan until every FILL IN is replaced \[PLAN_PLACEHOLDER_LEFT\]$/m);
    expect(await emls()).toHaveLength(FIRST_TICK.length);
    expect(await exists(path.join(root, 'content', 'records', 'acme.json'))).toBe(false);
  });

  it('refuses to guess when a plan\'s tick state is unreadable: nothing sent for it, exit status 1', async () => {
    await mkdir(path.join(root, '.twofold', 'state', 'tick'), { recursive: true });
    await writeFile(path.join(root, '.twofold', 'state', 'tick', 'harbor.json'), '{"version":1,"sent":');
    const run = await twofold(['tick', '--now', MONDAY_9AM, '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual([]);
    expect(run.stderr).toMatch(/^harbor: failed — \.twofold\/state\/tick\/harbor\.json is not a tick state file \[TICK_STATE_INVALID\]$/m);
    expect(await emls()).toHaveLength(0);
  });

  it.each([
    { name: 'an unreadable --now', args: ['--now', 'next tuesday'], code: 'CLI_BAD_DATE' },
    { name: 'a positional argument', args: ['harbor'], code: 'CLI_USAGE' },
    { name: 'an unknown option', args: ['--plan', 'harbor'], code: 'CLI_USAGE' },
    { name: 'invalid quiet hours', args: ['--now', MONDAY_9AM], env: { TWOFOLD_QUIET_HOURS: '7pm-8am' }, code: 'CONFIG_INVALID' },
    { name: 'a TWOFOLD_CONFIG file that does not exist (a typo, not the defaults)', args: ['--now', MONDAY_9AM], env: { TWOFOLD_CONFIG: 'confg.json' }, code: 'CONFIG_INVALID' },
  ])('refuses $name with $code and sends nothing', async ({ args, env, code }) => {
    const run = await twofold(['tick', ...args], env ?? {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`[${code}]`);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(await exists(outbox())).toBe(false);
  });
});

/**
 * `twofold invite` as a person runs it: a subprocess in a project directory.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { calendarPlanText } from '../helpers/calendar-plan.ts';
import { readIcs } from '../helpers/ics-checks.ts';
import { mimeTree } from '../helpers/mime-tree.ts';

const BIN = fileURLToPath(new URL('../../scripts/twofold.mjs', import.meta.url));
const CLI_TIMEOUT_MS = 60_000;
const NOW = '2026-03-01T12:00:00Z';

let root: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function twofold(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_')));
    execFile(process.execPath, [BIN, ...args], { cwd: root, env: { ...clean, ...env }, timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const exists = (file: string) => stat(file).then(() => true, () => false);

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'twofold-cli-invite-'));
  await mkdir(path.join(root, 'content', 'plans'), { recursive: true });
  await writeFile(path.join(root, 'content', 'plans', 'acme.md'), calendarPlanText());
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('twofold invite', () => {
  it('--dry-run writes each invite as an .eml file, prints the paths and stores nothing', async () => {
    const run = await twofold(['invite', 'acme', '--dry-run', '--out', 'preview', '--now', NOW]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const printed = run.stdout.trim().split('\n');
    expect(printed).toHaveLength(6);
    expect((await readdir(path.join(root, 'preview'))).sort()).toEqual(printed.map((p) => path.basename(p)).sort());
    for (const file of printed) {
      expect(path.isAbsolute(file)).toBe(true);
      const raw = await readFile(file);
      const tree = mimeTree(raw);
      expect(tree.children[0]?.children.map((c) => c.contentType)).toEqual(['text/plain', 'text/html', 'text/calendar']);
      const parsed = await simpleParser(raw);
      const ics = readIcs(parsed.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8'));
      expect(ics.method).toBe('REQUEST');
      expect(ics.sequence).toBe(0);
    }
    expect(await exists(path.join(root, 'content', 'records'))).toBe(false);
    expect(await exists(path.join(root, 'content', 'activity'))).toBe(false);
    expect(await exists(path.join(root, '.twofold', 'outbox'))).toBe(false);
  });

  it('sends into the outbox without SMTP settings, stores the records, and has nothing left to send after', async () => {
    const first = await twofold(['invite', 'acme', 'kickoff', '--now', NOW]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toHaveLength(3);
    expect(first.stdout).toMatch(/^REQUEST +kickoff SEQUENCE 0 → raj@acme\.example/m);
    expect((await readdir(path.join(root, '.twofold', 'outbox'))).filter((n) => n.endsWith('.eml'))).toHaveLength(3);
    const records = JSON.parse(await readFile(path.join(root, 'content', 'records', 'acme.json'), 'utf8'));
    expect(Object.keys(records.checkins)).toEqual(['kickoff']);
    expect(records.checkins.kickoff.sequence).toBe(0);

    const again = await twofold(['invite', 'acme', 'kickoff', '--now', NOW]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no invites to send');

    // A dry run after a change shows the update and still stores nothing.
    const planFile = path.join(root, 'content', 'plans', 'acme.md');
    await writeFile(planFile, (await readFile(planFile, 'utf8')).replace('due: 2026-03-06', 'due: 2026-03-10'));
    const preview = await twofold(['invite', 'acme', '--dry-run', '--out', 'preview', '--now', NOW]);
    expect(preview.code).toBe(0);
    const kickoffFiles = preview.stdout.trim().split('\n').filter((p) => p.includes('kickoff'));
    expect(kickoffFiles).toHaveLength(3);
    const parsed = await simpleParser(await readFile(kickoffFiles[0]!));
    expect(readIcs(parsed.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8')).sequence).toBe(1);
    expect(JSON.parse(await readFile(path.join(root, 'content', 'records', 'acme.json'), 'utf8'))).toEqual(records);
  });

  it.each([
    { name: 'an unknown stage', args: ['invite', 'acme', 'nope', '--now', NOW], env: {}, code: 'CALENDAR_STAGE_UNKNOWN' },
    { name: 'an unknown plan', args: ['invite', 'globex', '--now', NOW], env: {}, code: 'PLAN_NOT_FOUND' },
    { name: '--dry-run without --out', args: ['invite', 'acme', '--dry-run', '--now', NOW], env: {}, code: 'CLI_USAGE' },
    { name: '--out without --dry-run', args: ['invite', 'acme', '--out', 'x', '--now', NOW], env: {}, code: 'CLI_USAGE' },
    { name: 'no plan', args: ['invite'], env: {}, code: 'CLI_USAGE' },
    { name: 'a bad --now', args: ['invite', 'acme', '--now', 'next tuesday'], env: {}, code: 'CLI_BAD_DATE' },
    { name: 'a bad SMTP port', args: ['invite', 'acme', '--now', NOW], env: { TWOFOLD_SMTP_HOST: '127.0.0.1', TWOFOLD_SMTP_PORT: '99999' }, code: 'SMTP_SETTINGS_INVALID' },
  ])('fails clearly on $name', async ({ args, env, code }) => {
    const run = await twofold(args, env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`[${code}]`);
    expect(await exists(path.join(root, 'content', 'records'))).toBe(false);
  });
});

/**
 * `twofold status` end to end on the shipped example plans, with the clock fixed by `--now`:
 * one row per plan with the health its content implies; JSON for machines; invalid plans shown
 * as such, never as a crash.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runTwofold, STACK_FRAME, tempProject } from '../helpers/run-twofold.ts';

const NOW = '2026-12-03';

let root: string;
beforeAll(async () => {
  root = await tempProject(['plans', 'activity']);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('twofold status on the example plans', () => {
  it('prints one row per plan with progress, stage, health, next check-in and whose move', async () => {
    const run = await runTwofold(['status', '--now', NOW], { cwd: root });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PLAN\s+PROGRESS\s+STAGE\s+HEALTH\s+NEXT CHECK-IN\s+MOVE$/);
    const row = (slug: string) => lines.find((l) => l.startsWith(`${slug} `)) ?? '';
    expect(row('halvorsen-marine')).toMatch(/^halvorsen-marine\s+9% \(2\/22\)\s+1\/4 Kickoff and success definition\s+on track: nothing overdue or blocked\s+Mon, Jan 4, 2027, 10:00 AM GMT\+1\s+client$/);
    expect(row('tamarind-vale')).toMatch(/^tamarind-vale\s+36% \(8\/22\)\s+2\/4 Technical setup\s+stalled: T8 \(Hamish Ferreira-Quaid\) blocked 17 days \(waiting on the external penetration-test report the risk committee asked for\), past the last escalation step, 17 days overdue \(\+1 more\)\s+Mon, Dec 14, 2026, 11:00 AM GMT\+11\s+client$/);
    expect(row('ellery-brook')).toMatch(/^ellery-brook\s+78% \(18\/23\)\s+4\/4 Go-live and value review\s+on track: nothing overdue or blocked\s+Wed, Dec 16, 2026, 2:00 PM EST\s+client$/);
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
  });

  it('gives every reason and signal in --json', async () => {
    const run = await runTwofold(['status', '--json', '--now', NOW], { cwd: root });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.now).toBe(NOW);
    const bySlug = Object.fromEntries(report.plans.map((p: { slug: string }) => [p.slug, p]));
    expect(Object.keys(bySlug).sort()).toEqual(['ellery-brook', 'halvorsen-marine', 'tamarind-vale']);
    expect(bySlug['tamarind-vale']).toMatchObject({
      ok: true,
      file: 'content/plans/tamarind-vale.mdx',
      client: 'Tamarind Vale Pharmacies',
      timezone: 'Australia/Sydney',
      today: NOW,
      progress: { done: 8, total: 22, percent: 36 },
      stage: { id: 'setup', name: 'Technical setup', number: 2, of: 4 },
      move: 'client',
      nextCheckin: 'Mon, Dec 14, 2026, 11:00 AM GMT+11',
      health: {
        level: 'stalled',
        reasons: [
          'T8 (Hamish Ferreira-Quaid) blocked 17 days (waiting on the external penetration-test report the risk committee asked for), past the last escalation step, 17 days overdue',
          'T10 (Anouk Dessaline) blocked 3 days (waiting on API credentials from Corvina Rx, requested 24 November), past escalation step 1 of 3, 3 days overdue',
        ],
      },
    });
    expect(bySlug['tamarind-vale'].health.signals.map((s: { task: string; health: string; side: string; escalationStep: number }) => [s.task, s.health, s.side, s.escalationStep])).toEqual([
      ['T8', 'stalled', 'client', 2],
      ['T10', 'at_risk', 'vendor', 0],
    ]);
    expect(bySlug['halvorsen-marine'].health).toEqual({ level: 'on_track', reasons: ['nothing overdue or blocked'], signals: [] });
    expect(bySlug['ellery-brook'].health.level).toBe('on_track');
  });

  it.each([
    { name: 'two days later, Ellery Brook\'s member notice is a day late', now: '2026-12-05', slug: 'ellery-brook', level: 'at_risk', reason: 'T19 (Celestine Marchetti-Obi) 1 day overdue' },
    { name: 'a week later, Halvorsen has overdue kickoff tasks', now: '2026-12-10', slug: 'halvorsen-marine', level: 'at_risk', reason: 'T5 (Eirik Tvedtnes) 3 days overdue' },
  ])('moves with the clock: $name', async ({ now, slug, level, reason }) => {
    const run = await runTwofold(['status', '--json', '--now', now], { cwd: root });
    const plan = JSON.parse(run.stdout).plans.find((p: { slug: string }) => p.slug === slug);
    expect(plan.health.level).toBe(level);
    expect(plan.health.reasons).toContain(reason);
  });

  it('reads today in each plan\'s own zone when --now is an instant', async () => {
    // 20:00 UTC on Dec 3 is already Dec 4 in Sydney, still Dec 3 in Oslo and Toronto.
    const run = await runTwofold(['status', '--json', '--now', '2026-12-03T20:00:00Z'], { cwd: root });
    const today = Object.fromEntries(JSON.parse(run.stdout).plans.map((p: { slug: string; today: string }) => [p.slug, p.today]));
    expect(today).toEqual({ 'ellery-brook': '2026-12-03', 'halvorsen-marine': '2026-12-03', 'tamarind-vale': '2026-12-04' });
  });
});

describe('twofold status with bad input', () => {
  it('shows an invalid plan as a row that says so, and still lists the others', async () => {
    await writeFile(path.join(root, 'content', 'plans', 'broken.md'), '---\nclient: Broken\nstart: soon\n---\n');
    try {
      const run = await runTwofold(['status', '--now', NOW], { cwd: root });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^broken\s+invalid — run twofold check$/m);
      expect(run.stdout).toMatch(/^tamarind-vale\s/m);
      const json = JSON.parse((await runTwofold(['status', '--json', '--now', NOW], { cwd: root })).stdout);
      expect(json.plans.find((p: { slug: string }) => p.slug === 'broken')).toMatchObject({ ok: false, status: 'invalid — run twofold check', file: 'content/plans/broken.md' });
    } finally {
      await rm(path.join(root, 'content', 'plans', 'broken.md'));
    }
  });

  it.each([
    { name: 'words', now: 'tomorrow' },
    { name: 'an impossible date', now: '2026-02-30' },
    { name: 'a time without a date', now: '10:00' },
  ])('refuses --now as $name (CLI_BAD_DATE) without a stack trace', async ({ now }) => {
    const run = await runTwofold(['status', '--now', now], { cwd: REPO_ROOT });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`--now "${now}" is neither a date (YYYY-MM-DD) nor an ISO time [CLI_BAD_DATE]`);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it('says how to start when there are no plans', async () => {
    const empty = await tempProject([]);
    try {
      const run = await runTwofold(['status'], { cwd: empty });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('no plans yet: create one with `npx twofold new');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

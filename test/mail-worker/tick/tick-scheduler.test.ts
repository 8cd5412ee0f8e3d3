/**
 * The worker's scheduler on a real project (the Harbor plan, mail to the outbox): the interval
 * runs full ticks one at a time, `tickSoon` after a reply runs a `changes` tick of that plan
 * (check-ins and stage completions only), and closing runs what tickSoon still had pending.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EMBEDDED_IDENTITY } from '../../../mail-worker/config/mail-identity.ts';
import { createMailer, type Mailer } from '../../../mail-worker/mailer/mailer.ts';
import { createTickScheduler, type TickScheduler } from '../../../mail-worker/tick/tick-scheduler.ts';
import { editPlanText } from '../../../site/core/plan/plan-file.ts';
import { projectPaths, type ProjectPaths } from '../../../site/lib/project-paths.ts';
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { done, TICK_PLAN_SLUG, TICK_PLAN_TEXT } from './tick-fixture.ts';

const MONDAY_9AM = new Date('2026-03-02T09:00:00-06:00');
const SATURDAY = new Date('2026-03-07T10:00:00-06:00');
/** Monday 09:00 is the plan's first tick: 2 setup check-in invites, the 2 kickoff task emails (the plan starts), 5 weekly digests. */
const FIRST_TICK_EMAILS = 9;
/** How long a timer-started tick may take to log its line (it composes and writes every email; the machine may be busy). */
const TICK_LOGGED_MS = 10_000;

let root: string;
let paths: ProjectPaths;
let mailer: Mailer;
let events: Record<string, unknown>[];
let clock: Date;

function scheduler(): TickScheduler {
  return createTickScheduler({
    paths,
    identity: EMBEDDED_IDENTITY,
    store: openSecretStore(paths, {}),
    mailer,
    quietHours: '19:00-08:00',
    clock: () => clock,
    log: (e) => events.push(e),
  });
}

const outboxCount = async () => (await readdir(paths.outboxDir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml')).length;
const ticks = () => events.filter((e) => e.event === 'tick.done');

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'twofold-scheduler-'));
  paths = projectPaths(root, {});
  await mkdir(paths.plansDir, { recursive: true });
  await writeFile(path.join(paths.plansDir, `${TICK_PLAN_SLUG}.md`), TICK_PLAN_TEXT);
  mailer = createMailer({ outboxDir: paths.outboxDir });
  events = [];
  clock = MONDAY_9AM;
});

afterEach(async () => {
  vi.useRealTimers();
  await mailer.close();
  await rm(root, { recursive: true, force: true });
});

describe('the tick scheduler', () => {
  it('a reply-triggered tick sends only check-ins and stage emails, and closing runs it at once', async () => {
    const tick = scheduler();
    tick.tickSoon(TICK_PLAN_SLUG);
    tick.tickSoon(TICK_PLAN_SLUG);
    await tick.close();
    // Monday 09:00 owes five weekly digests and the plan's start (the kickoff task emails) too, but those keep to the interval.
    expect(await outboxCount()).toBe(2);
    expect(ticks()).toEqual([expect.objectContaining({ event: 'tick.done', trigger: 'reply', scope: 'changes', sent: 2, byKind: { checkin: 2 }, closed: [], failed: [] })]);
    expect(events.filter((e) => e.event === 'tick.checkin').map((e) => e.to)).toEqual(['raj@harbor.example', 'dana@harbor.example']);
  });

  it('after a reply completes a stage, the check-in and the next stage\'s task emails go out; in quiet hours they wait', async () => {
    const file = path.join(paths.plansDir, `${TICK_PLAN_SLUG}.md`);
    await writeFile(file, editPlanText(await readFile(file, 'utf8'), [...done('T1', '2026-03-03'), ...done('T2', '2026-03-05')]));
    clock = new Date('2026-03-05T20:30:00-06:00');
    const quiet = scheduler();
    quiet.tickSoon(TICK_PLAN_SLUG);
    await quiet.close();
    expect(await outboxCount()).toBe(0);
    expect(ticks()[0]).toMatchObject({ sent: 0, closed: ['harbor (quiet-hours)'] });

    clock = new Date('2026-03-06T08:00:00-06:00'); // before the Friday 09:00 check-in, but outside working hours
    expect((await scheduler().runNow({ slugs: [TICK_PLAN_SLUG], scope: 'changes' })).sent).toEqual([]);
    clock = new Date('2026-03-05T16:30:00-06:00'); // the same evening, still in working hours
    const open = scheduler();
    open.tickSoon(TICK_PLAN_SLUG);
    await open.close();
    expect(ticks().at(-1)).toMatchObject({ trigger: 'reply', sent: 7, byKind: { checkin: 5, task: 2 } });
  });

  it('runs ticks one at a time: two at once send everything once', async () => {
    const tick = scheduler();
    const [a, b] = await Promise.all([tick.runNow(), tick.runNow()]);
    expect(a.sent).toHaveLength(FIRST_TICK_EMAILS);
    expect(b.sent).toEqual([]);
    expect(await outboxCount()).toBe(FIRST_TICK_EMAILS);
    await tick.close();
  });

  it('ticks on the interval, logging one line per tick; every_minutes 0 never ticks', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const off = scheduler();
    off.start({ everyMinutes: 0 });
    vi.advanceTimersByTime(60 * 60_000);
    await off.close();
    expect(ticks()).toEqual([]);

    clock = SATURDAY;
    const on = scheduler();
    on.start({ everyMinutes: 15 });
    vi.advanceTimersByTime(15 * 60_000);
    await vi.waitFor(() => expect(ticks()).toHaveLength(1), { timeout: TICK_LOGGED_MS });
    await new Promise((resolve) => setImmediate(resolve)); // the tick's promise settles after its log line
    clock = MONDAY_9AM;
    vi.advanceTimersByTime(15 * 60_000);
    await vi.waitFor(() => expect(ticks()).toHaveLength(2), { timeout: TICK_LOGGED_MS });
    await on.close();
    expect(ticks().map((t) => [t.trigger, t.scope, t.sent, t.closed])).toEqual([
      ['interval', 'all', 0, ['harbor (non-working-day)']],
      ['interval', 'all', FIRST_TICK_EMAILS, []],
    ]);
  });
});

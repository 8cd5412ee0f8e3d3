/**
 * A month of `twofold tick` on one plan (test/fixtures/tick/harbor-month.md, March 2026 in
 * Chicago), every email captured by a real SMTP server (test/helpers/smtp-capture.ts): a table of
 * moments, the plan edits replies would make between them, and the emails expected at each —
 * reminders, weekly digests, each escalation step, the reset on unblock, nothing for done tasks,
 * nothing in quiet hours or at weekends, nothing twice (every moment runs twice). The month must
 * produce exactly the expected emails, and the portal must show the escalation step reached.
 *
 * Most moments run `runTick` in-process (the function the CLI and the worker call); the moments
 * marked `cli` run the real `twofold tick --now … --json` as a subprocess.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityOf, loadWorkerConfig, smtpOf } from '../../../mail-worker/config/worker-config.ts';
import { createMailer } from '../../../mail-worker/mailer/mailer.ts';
import type { TickItem } from '../../../mail-worker/tick/plan-tick.ts';
import { runTick } from '../../../mail-worker/tick/run-tick.ts';
import { tickStateFile } from '../../../mail-worker/tick/tick-state-fs.ts';
import { editPlanText, type PlanEdit } from '../../../site/core/plan/plan-file.ts';
import { planHealth } from '../../../site/core/plan/plan-health.ts';
import { readActivity, readRecords } from '../../../site/lib/plan-records-fs.ts';
import { readPlan } from '../../../site/lib/plan-store-fs.ts';
import { projectPaths, type ProjectPaths } from '../../../site/lib/project-paths.ts';
import { resealPortal } from '../../../site/lib/portal-reseal-fs.ts';
import { portalPayloadFor } from '../../../site/lib/portal-seal-fs.ts';
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { runTwofold, tempProject } from '../../helpers/run-twofold.ts';
import { startSmtpCapture, type CapturedMessage, type SmtpCapture } from '../../helpers/smtp-capture.ts';
import { blocked, done, doneWhileBlocked, EMAIL, TICK_PLAN_SLUG, TICK_PLAN_TEXT, unblocked, type Who } from './tick-fixture.ts';

interface Moment {
  name: string;
  /** The tick's --now: an ISO time with the Chicago offset of that day. */
  at: string;
  /** Plan edits made before this moment (what replies wrote since the last one). */
  edits?: PlanEdit[];
  /** Run as `twofold tick` in a subprocess. */
  cli?: boolean;
  /** `<kind> <who> [task] [step]`, one per email. */
  expect: string[];
  /** Checks of the records, the activity log and the portal after this moment. */
  check?: (project: MonthProject) => Promise<void>;
}

interface MonthProject {
  paths: ProjectPaths;
  portalHtml(at: string): Promise<string>;
}

const WHO = Object.fromEntries(Object.entries(EMAIL).map(([who, email]) => [email, who])) as Record<string, Who>;

const MONTH: Moment[] = [
  { name: 'Sun Mar 1, before the start, not a working day', at: '2026-03-01T10:00:00-06:00', expect: [] },
  { name: 'Mon Mar 2 07:45, quiet hours', at: '2026-03-02T07:45:00-06:00', expect: [] },
  {
    name: 'Mon Mar 2 09:00: the plan starts — the kickoff tasks to their owners, the setup check-in invites, and the first weekly digests (T1 due in 2 days merged into Raj\'s)',
    at: '2026-03-02T09:00:00-06:00',
    cli: true,
    expect: ['checkin raj', 'checkin dana', 'task raj T1', 'task maya T2', 'digest maya', 'digest sam', 'digest raj T1', 'digest ines', 'digest dana'],
  },
  { name: 'Tue Mar 3 09:15: T2 comes within remind_before (Maya reminded)', at: '2026-03-03T09:15:00-06:00', expect: ['reminder maya T2'] },
  {
    name: 'Wed Mar 4 10:00, T1 done: T6 reminded; nothing for the done task',
    at: '2026-03-04T10:00:00-06:00',
    edits: done('T1', '2026-03-03'),
    expect: ['reminder ines T6'],
  },
  { name: 'Thu Mar 5 10:00, T3 blocked since Mar 4: a day old, below the first step', at: '2026-03-05T10:00:00-06:00', edits: blocked('T3', 'waiting on IT security review', '2026-03-04'), expect: [] },
  {
    name: 'Thu Mar 5 15:00, T2 done: kickoff complete — its check-in, and the next stage\'s task emails',
    at: '2026-03-05T15:00:00-06:00',
    edits: done('T2', '2026-03-05'),
    cli: true,
    expect: ['checkin raj', 'checkin ines', 'checkin sam', 'task dana T3', 'task sam T4'],
    async check({ paths }) {
      const records = await readRecords(paths, TICK_PLAN_SLUG);
      expect(records.stages.kickoff?.completedAt).toBe('2026-03-05T21:00:00.000Z');
      expect(records.checkins.kickoff).toMatchObject({ start: '2026-03-06T15:00:00.000Z', sequence: 0 }); // Fri Mar 6, 09:00 CST
      const log = await readActivity(paths, TICK_PLAN_SLUG);
      expect(log.filter((e) => e.verb === 'stage_complete')).toEqual([{ at: '2026-03-05T21:00:00.000Z', actor: 'twofold', verb: 'stage_complete', stage: 'kickoff', via: 'tick' }]);
    },
  },
  {
    name: 'Fri Mar 6 10:00: T3 blocked 2 days — step 1 (Maya)',
    at: '2026-03-06T10:00:00-06:00',
    expect: ['escalation maya T3 1'],
    async check({ portalHtml }) {
      expect(await portalHtml('2026-03-06T10:00:00-06:00')).toContain('Escalated: step 1 of 3 — Maya Lee notified on Mar 6');
      // The escalation email: the blocker, its age, the owner, what is needed, a portal link.
      const mail = smtp.messages.at(-1)!.parsed;
      expect(mail.subject).toBe('[Harbor Freight Lines onboarding] Escalation: T3 blocked 2 days — waiting on IT security review (step 1 of 3)');
      const text = (mail.text ?? '').replace(/\s+/g, ' ');
      expect(text).toContain('T3 has been blocked for 2 days');
      expect(text).toContain('T3: Open the firewall — owned by Dana Kim, IT lead (Harbor Freight Lines) — is waiting on: waiting on IT security review.');
      expect(text).toContain('What is needed: waiting on IT security review');
      expect(text).toContain('Owner: Dana Kim <dana@harbor.example>');
      expect(text).toMatch(/Open the plan: http:\/\/localhost:4321\/p\/[\w-]+\/#u=\S+/);
      expect(mail.replyTo?.value[0]?.address).toBe(EMAIL.maya);
      expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    },
  },
  { name: 'Sat Mar 7: T6 overdue, but a weekend', at: '2026-03-07T10:00:00-06:00', expect: [] },
  { name: 'Sun Mar 8 (daylight saving starts): a weekend', at: '2026-03-08T10:00:00-05:00', expect: [] },
  {
    name: 'Mon Mar 9 10:00: step 2 (Raj, Sam), weekly digests with T6\'s overdue reminder merged',
    at: '2026-03-09T10:00:00-05:00',
    expect: ['escalation raj T3 2', 'escalation sam T3 2', 'digest sam', 'digest ines T6', 'digest dana'],
    async check({ paths, portalHtml }) {
      const records = await readRecords(paths, TICK_PLAN_SLUG);
      expect(records.escalations.T3).toEqual({ since: '2026-03-04', step: 1, at: '2026-03-09T15:00:00.000Z', notified: [EMAIL.raj, EMAIL.sam] });
      const log = await readActivity(paths, TICK_PLAN_SLUG);
      expect(log.filter((e) => e.verb === 'escalated').map((e) => e.value)).toEqual(['step 1 of 3: Maya Lee notified', 'step 2 of 3: Raj Patel, Sam Ortiz notified']);
      const html = await portalHtml('2026-03-09T10:00:00-05:00');
      expect(html).toContain('Escalated: step 2 of 3 — Raj Patel, Sam Ortiz notified on Mar 9');
      expect(html).toContain('class="health health-at_risk"');
    },
  },
  {
    name: 'Tue Mar 10 10:00, T3 unblocked: the ladder resets, nothing to send',
    at: '2026-03-10T10:00:00-05:00',
    edits: unblocked('T3'),
    expect: [],
    async check({ paths }) {
      expect((await readRecords(paths, TICK_PLAN_SLUG)).escalations).toEqual({});
    },
  },
  { name: 'Wed Mar 11 10:00, T3 blocked again: a new blocker, nothing yet (and no reminder for a blocked task)', at: '2026-03-11T10:00:00-05:00', edits: blocked('T3', 'waiting on the security questionnaire', '2026-03-11'), expect: [] },
  { name: 'Fri Mar 13 10:00: the new blocker reaches step 1 again', at: '2026-03-13T10:00:00-05:00', expect: ['escalation maya T3 1'] },
  {
    name: 'Mon Mar 16 10:00: step 2 again; weekly digests with T4 due soon and T6\'s second overdue reminder',
    at: '2026-03-16T10:00:00-05:00',
    expect: ['escalation raj T3 2', 'escalation sam T3 2', 'digest sam T4', 'digest ines T6', 'digest dana'],
  },
  { name: 'Thu Mar 19 10:00, T4 done: nothing for it although its due date has passed', at: '2026-03-19T10:00:00-05:00', edits: done('T4', '2026-03-17'), expect: [] },
  { name: 'Sat Mar 21: T3 reaches step 3 on a weekend — it waits', at: '2026-03-21T10:00:00-05:00', expect: [] },
  { name: 'Mon Mar 23 07:30, quiet hours: still waiting', at: '2026-03-23T07:30:00-05:00', expect: [] },
  {
    name: 'Mon Mar 23 10:00: step 3 (Raj, Maya) goes out; weekly digests',
    at: '2026-03-23T10:00:00-05:00',
    expect: ['escalation raj T3 3', 'escalation maya T3 3', 'digest ines T6', 'digest dana'],
    async check({ paths, portalHtml }) {
      const html = await portalHtml('2026-03-23T10:00:00-05:00');
      expect(html).toContain('Escalated: step 3 of 3 — Raj Patel, Maya Lee notified on Mar 23');
      expect(html).toContain('class="health health-stalled"');
      const { plan } = await readPlan(paths, TICK_PLAN_SLUG);
      const health = planHealth(plan, '2026-03-23', await readRecords(paths, TICK_PLAN_SLUG));
      expect(health.level).toBe('stalled');
      expect(health.reasons[0]).toBe('T6 (Inès Müller) 17 days overdue');
      expect(health.signals.find((s) => s.task === 'T3')).toMatchObject({ health: 'stalled', escalationStep: 2 });
      // `twofold status` reads the same health, with the same reasons, as the portal shows.
      const status = await runTwofold(['status', '--json', '--now', '2026-03-23T10:00:00-05:00'], { cwd: paths.root });
      expect(status.code, status.stderr).toBe(0);
      const row = JSON.parse(status.stdout).plans[0];
      expect(row.health).toEqual(JSON.parse(JSON.stringify(health)));
      for (const reason of health.reasons) expect(html).toContain(`<li>${reason}</li>`);
    },
  },
  {
    name: 'Tue Mar 24 10:00, T3 done: setup complete — the go-live owners get their task emails',
    at: '2026-03-24T10:00:00-05:00',
    edits: doneWhileBlocked('T3', '2026-03-24'),
    expect: ['task ines T5', 'task ines T6'],
    async check({ paths, portalHtml }) {
      const records = await readRecords(paths, TICK_PLAN_SLUG);
      expect(records.escalations).toEqual({});
      expect(records.stages.setup?.completedAt).toBe('2026-03-24T15:00:00.000Z');
      expect(await portalHtml('2026-03-24T10:00:00-05:00')).toContain('No blockers.');
    },
  },
  { name: 'Wed Mar 25 07:00, quiet hours: T5\'s reminder waits', at: '2026-03-25T07:00:00-05:00', expect: [] },
  { name: 'Wed Mar 25 10:00: T5\'s reminder goes out', at: '2026-03-25T10:00:00-05:00', expect: ['reminder ines T5'] },
  { name: 'Mon Mar 30 10:00: one weekly digest carrying two overdue reminders', at: '2026-03-30T10:00:00-05:00', expect: ['digest ines T5,T6'] },
  { name: 'Tue Mar 31 10:00: nothing new', at: '2026-03-31T10:00:00-05:00', expect: [] },
];

let root: string;
let paths: ProjectPaths;
let smtp: SmtpCapture;
let env: Record<string, string>;
const planFile = () => path.join(paths.plansDir, `${TICK_PLAN_SLUG}.md`);

beforeAll(async () => {
  root = await tempProject([]);
  paths = projectPaths(root, {});
  await mkdir(paths.plansDir, { recursive: true });
  await writeFile(planFile(), TICK_PLAN_TEXT);
  smtp = await startSmtpCapture();
  env = { TWOFOLD_SMTP_HOST: smtp.host, TWOFOLD_SMTP_PORT: String(smtp.port), TWOFOLD_FROM: 'plans@northwind.example' };
});

afterAll(async () => {
  await smtp?.stop();
  await rm(root, { recursive: true, force: true });
});

/** `twofold tick --now <at> --json` in a subprocess, with a CSM's shell environment plus the SMTP settings. */
async function tickCli(at: string): Promise<TickItem[]> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_')));
  const run = await runTwofold(['tick', '--now', at, '--json'], { cwd: root, env: { ...clean, ...env } });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as TickItem[];
}

/** The same tick in-process, set up the way the CLI sets it up. */
async function tickInProcess(at: string): Promise<TickItem[]> {
  const config = await loadWorkerConfig(paths, env);
  const store = openSecretStore(paths, {});
  const mailer = createMailer({ outboxDir: paths.outboxDir, smtp: smtpOf(config)! });
  try {
    const now = new Date(at);
    const result = await runTick({ paths, identity: identityOf(config), store, mailer, quietHours: config.tick.quiet_hours, now, reseal: (slug) => resealPortal({ paths, store, now }, slug) });
    expect(result.plans.map((p) => [p.plan, p.status, p.message])).toEqual([[TICK_PLAN_SLUG, expect.stringMatching(/^(ran|closed)$/), undefined]]);
    return result.sent;
  } finally {
    await mailer.close();
  }
}

function described(item: Pick<TickItem, 'kind' | 'to' | 'task' | 'step'>): string {
  return [item.kind, WHO[item.to] ?? item.to, item.task, item.step].filter((x) => x !== null && x !== undefined).join(' ');
}

/** What a captured email is, read from the message as a recipient sees it. */
function classify(message: CapturedMessage): string {
  const who = WHO[message.envelope.to[0]!] ?? message.envelope.to[0]!;
  const subject = message.parsed.subject ?? '';
  if (message.parsed.attachments.some((a) => a.contentType === 'text/calendar')) return `checkin ${who}`;
  const escalation = /\] Escalation: (\S+) blocked .*\(step (\d+) of \d+\)$/.exec(subject);
  if (escalation) return `escalation ${who} ${escalation[1]} ${escalation[2]}`;
  const firstLine = (message.parsed.text ?? '').split('\n')[0]!;
  const html = typeof message.parsed.html === 'string' ? message.parsed.html : '';
  const needs = />Needs you now<\/h2><ul[^>]*>(.*?)<\/ul>/s.exec(html)?.[1] ?? '';
  const reminded = [...needs.matchAll(/<span style="[^"]*font-weight:600;">([^<]+)<\/span>/g)].map((m) => m[1]).join(',');
  if (firstLine === 'Your open tasks this week') return `digest ${who}${reminded ? ` ${reminded}` : ''}`;
  if (/needs? you$/.test(firstLine)) return `reminder ${who} ${reminded}`;
  const task = /\] (T\d+): /.exec(subject);
  if (task) return `task ${who} ${task[1]}`;
  return `unknown ${who}: ${subject}`;
}

const sorted = (list: string[]) => [...list].sort();

describe('a simulated month of twofold tick', () => {
  const project: MonthProject = {
    get paths() {
      return paths;
    },
    async portalHtml(at) {
      const store = openSecretStore(paths, {});
      const payload = await portalPayloadFor({ paths, store, now: new Date(at) }, TICK_PLAN_SLUG, await store.ensurePortal(TICK_PLAN_SLUG));
      return payload.html;
    },
  };

  it.each(MONTH)('$name', async (moment) => {
    if (moment.edits) await writeFile(planFile(), editPlanText(await readFile(planFile(), 'utf8'), moment.edits));
    const before = smtp.messages.length;
    const tick = moment.cli ? tickCli : tickInProcess;

    const first = await tick(moment.at);
    expect(sorted(first.map(described))).toEqual(sorted(moment.expect));
    const delivered = (await smtp.waitForCount(before + moment.expect.length)).slice(before);
    expect(sorted(delivered.map(classify))).toEqual(sorted(moment.expect));

    // The same moment again: nothing to send, nothing delivered.
    expect(await tick(moment.at)).toEqual([]);
    expect(smtp.messages).toHaveLength(before + moment.expect.length);

    await moment.check?.(project);
  });

  it('sent exactly the month\'s emails, each once, and kept what it sent in the tick state', async () => {
    const expected = MONTH.flatMap((m) => m.expect);
    expect(smtp.messages).toHaveLength(expected.length);
    expect(sorted(smtp.messages.map(classify))).toEqual(sorted(expected));
    expect(new Set(smtp.messages.map((m) => m.parsed.messageId)).size).toBe(expected.length);
    const state = JSON.parse(await readFile(tickStateFile(paths, TICK_PLAN_SLUG), 'utf8'));
    expect(state.sent).toMatchObject({
      [`digest:${EMAIL.raj}:2026-03-02`]: expect.any(String),
      [`weekly:${EMAIL.ines}:2026-03-30`]: expect.any(String),
      'remind:T6:2026-03-06:overdue-3': expect.any(String),
      'escalation:T3:2026-03-04:2': expect.any(String),
      'escalation:T3:2026-03-11:3': expect.any(String),
      'stage:kickoff:2026-03-05': expect.any(String),
      'stage:setup:2026-03-24': expect.any(String),
    });
  });

  it('wrote every escalation, reminder and stage completion to the activity log both sides see', async () => {
    const log = await readActivity(paths, TICK_PLAN_SLUG);
    expect(log.filter((e) => e.verb === 'escalated').map((e) => [e.at.slice(0, 10), e.task, e.value])).toEqual([
      ['2026-03-06', 'T3', 'step 1 of 3: Maya Lee notified'],
      ['2026-03-09', 'T3', 'step 2 of 3: Raj Patel, Sam Ortiz notified'],
      ['2026-03-13', 'T3', 'step 1 of 3: Maya Lee notified'],
      ['2026-03-16', 'T3', 'step 2 of 3: Raj Patel, Sam Ortiz notified'],
      ['2026-03-23', 'T3', 'step 3 of 3: Raj Patel, Maya Lee notified'],
    ]);
    expect(log.filter((e) => e.verb === 'stage_complete').map((e) => e.stage)).toEqual(['kickoff', 'setup']);
    expect(log.filter((e) => e.verb === 'reminder').map((e) => `${e.at.slice(0, 10)} ${e.task}: ${e.value}`)).toEqual([
      '2026-03-02 T1: due in 2 days',
      '2026-03-03 T2: due in 2 days',
      '2026-03-04 T6: due in 2 days',
      '2026-03-09 T6: 3 days overdue',
      '2026-03-16 T4: due in 2 days',
      '2026-03-16 T6: 10 days overdue',
      '2026-03-23 T6: 17 days overdue',
      '2026-03-25 T5: due in 2 days',
      '2026-03-30 T5: 3 days overdue',
      '2026-03-30 T6: 24 days overdue',
    ]);
  });
});

/**
 * Hostile input at the edges of a running Twofold, end to end:
 *
 *   - oversized messages refused early at EVERY source of a running worker: the embedded SMTP
 *     inbox (552 at MAIL FROM for an announced size, 552 after DATA otherwise, nothing handed
 *     over), IMAP (refused by RFC822.SIZE, moved to Failed), `mail ingest` (exit 65);
 *   - header injection: a plan whose every name, title, role, reason and check-in title carries
 *     CR/LF + `Bcc:` + `X-Injected:` + an iCalendar ATTENDEE line, and replies whose From name and
 *     Subject carry them encoded — then EVERY kind of email Twofold sends (task, digest, reminder,
 *     escalation, check-in REQUEST and CANCEL, confirmation, explanation, help, CSM notice, build
 *     failure notice) goes through a real SMTP server and is read back from its raw bytes;
 *   - hostile YAML plans refused by `twofold build` before Astro runs (and by `twofold check`);
 *   - path traversal in slugs, template names, file names, task ids and reply tokens.
 */
import { mkdir, readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutcomeReplies } from '../../mail-worker/pipeline/outcome-replies.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, type SourceEvent } from '../../mail-worker/sources/message-handler.ts';
import { runTick } from '../../mail-worker/tick/run-tick.ts';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { editPlanText } from '../../site/core/plan/plan-file.ts';
import { makeReplyToken, replyAddress } from '../../site/core/reply/reply-token.ts';
import { INVALID_CASES } from '../fixtures/plans/invalid-cases.ts';
import { startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { freePort } from '../helpers/free-port.ts';
import { mimeTree, type MimePart } from '../helpers/mime-tree.ts';
import { readdress, replyAs, withoutHeader } from '../helpers/reply-builder.ts';
import { REPO_ROOT, runTwofold, STACK_FRAME } from '../helpers/run-twofold.ts';
import { startSmtpCapture, type CapturedMessage, type SmtpCapture } from '../helpers/smtp-capture.ts';
import { testMessage } from '../helpers/test-messages.ts';
import { waitUntil } from '../helpers/wait-until.ts';
import { identityFor, workerConfig, workerProject, type StartedWorker, type WorkerProject } from '../helpers/worker-project.ts';
import { blocked, done, EMAIL, TICK_PLAN_TEXT } from '../mail-worker/tick/tick-fixture.ts';
import { OUTGOING_KINDS } from './figures.ts';

const PASSWORD = 'hostile-secret-9';
const WITHIN_MS = 30_000;

let dovecot: Dovecot;
let smtp: SmtpCapture;
const projects: WorkerProject[] = [];

beforeAll(async () => {
  [dovecot, smtp] = await Promise.all([startDovecot({ users: [{ user: 'big', password: PASSWORD }] }), startSmtpCapture()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([dovecot?.stop(), smtp?.stop(), ...projects.map((p) => p.remove())]);
});

async function project(options: { passwords?: string[] } = {}): Promise<WorkerProject> {
  const p = await workerProject({ passwords: options.passwords ?? [] });
  projects.push(p);
  await p.store.replyKey();
  return p;
}

/** One SMTP conversation over a raw socket: each command's reply, so a test sees exactly when a refusal comes. */
async function smtpDialog(port: number, steps: Array<string | Buffer>): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const waiting: Array<(reply: string) => void> = [];
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      // A complete reply: lines "250-..." then a last line "250 ...".
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n/.exec(buffer);
      if (!match) break;
      buffer = buffer.slice(match[0].length);
      waiting.shift()?.(match[0].trimEnd());
    }
  });
  const next = () => new Promise<string>((resolve, reject) => {
    waiting.push(resolve);
    socket.once('error', reject);
  });
  const replies = [await next()];
  for (const step of steps) {
    const reply = next();
    socket.write(step);
    replies.push(await reply);
  }
  socket.end();
  return replies;
}

describe('oversized messages are refused early at every source of a running worker', () => {
  let p: WorkerProject;
  let worker: StartedWorker;
  let inbound: number;
  const big = testMessage({ subject: 'a reply with a huge attachment', minBytes: DEFAULT_MAX_MESSAGE_BYTES + 64 * 1024 });
  const refusals = (source: string) => worker.events.filter((e: SourceEvent) => e.event === 'message.refused' && e.source === source);

  beforeAll(async () => {
    p = await project();
    inbound = await freePort();
    worker = await p.start({ config: workerConfig({ inbound_smtp: { enabled: true, host: '127.0.0.1', port: inbound }, imap: { host: dovecot.host, port: dovecot.port, secure: false, user: 'big', pass: PASSWORD } }) });
    await waitUntil(() => worker.imap?.status().idling, 'the worker to idle', WITHIN_MS);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
  });

  const nothingHandled = async () => {
    expect(worker.events.filter((e) => e.event === 'message.processed')).toEqual([]);
    expect((await readdir(p.paths.journalDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'))).toEqual([]);
  };

  it('embedded SMTP, size announced: 552 at MAIL FROM, before a byte of the body is sent', async () => {
    const replies = await smtpDialog(inbound, ['EHLO client.example\r\n', `MAIL FROM:<raj@acme.example> SIZE=${big.raw.length}\r\n`, 'QUIT\r\n']);
    expect(replies[1]).toMatch(new RegExp(`^250-[\\s\\S]*SIZE ${DEFAULT_MAX_MESSAGE_BYTES}`));
    expect(replies[2]).toMatch(/^552 /);
    await nothingHandled();
  });

  it('embedded SMTP, size not announced: 552 after DATA, and the body is handed to nobody', async () => {
    const replies = await smtpDialog(inbound, [
      'EHLO client.example\r\n',
      'MAIL FROM:<raj@acme.example>\r\n',
      'RCPT TO:<twofold+aaaa@twofold.localhost>\r\n',
      'DATA\r\n',
      Buffer.concat([big.raw, Buffer.from('\r\n.\r\n')]),
      'QUIT\r\n',
    ]);
    expect(replies.slice(2, 5).map((r) => r.slice(0, 3))).toEqual(['250', '250', '354']);
    expect(replies[5]).toMatch(/^552 .*exceeds fixed maximum message size/);
    await waitUntil(() => refusals('smtp').length === 1, 'the refusal in the worker log');
    expect(refusals('smtp')[0]).toMatchObject({ code: 'MAIL_MESSAGE_TOO_LARGE', size: expect.any(Number) });
    expect(worker.events.find((e) => e.event === 'smtp.refused' && e.code === 'MAIL_MESSAGE_TOO_LARGE')).toMatchObject({ limit: DEFAULT_MAX_MESSAGE_BYTES });
    await nothingHandled();
  });

  it('IMAP: refused by its RFC822.SIZE without fetching the body, and moved to Failed', async () => {
    await dovecot.deliver('big', big.raw);
    await waitUntil(async () => (await dovecot.list('big', 'Failed')).some((m) => m.messageId === big.messageId), 'the message in Failed', WITHIN_MS);
    expect(worker.events.find((e) => e.event === 'imap.refused')).toMatchObject({ code: 'MAIL_MESSAGE_TOO_LARGE', size: big.raw.length, limit: DEFAULT_MAX_MESSAGE_BYTES });
    expect(refusals('imap')).toEqual([expect.objectContaining({ code: 'MAIL_MESSAGE_TOO_LARGE' })]);
    expect(await dovecot.list('big', 'INBOX')).toEqual([]);
    await nothingHandled();
  });

  it('`mail ingest`: exit 65 (the MTA bounces it) without reading the file', async () => {
    const file = path.join(p.root, 'huge.eml');
    await writeFile(file, big.raw);
    const run = await runTwofold(['mail', 'ingest', 'huge.eml'], { cwd: p.root });
    expect(run.code).toBe(65);
    expect(run.stderr).toMatch(new RegExp(`^error: huge\\.eml: the message is larger than ${DEFAULT_MAX_MESSAGE_BYTES} bytes \\(${big.raw.length} bytes or more\\); it was not processed \\[MAIL_MESSAGE_TOO_LARGE\\]$`, 'm'));
    expect(run.stderr).not.toMatch(STACK_FRAME);
    await nothingHandled();
  });
});

// ── header injection ───────────────────────────────────────────────────────────────────────

/** What a hostile CSM (or a compromised plan file) puts into every text field. */
const INJECTION = '\r\nBcc: evil@attacker.example\r\nX-Injected: yes\r\nATTENDEE:mailto:evil@attacker.example';
/**
 * `twofold check` refuses line breaks and control characters in plan text (see the test
 * below), so a plan can only carry the Unicode line and paragraph separators and NEL: what a
 * careless header writer might still turn into a line break.
 */
const PLAN_INJECTION = '\u2028Bcc: evil@attacker.example\u0085X-Injected: yes\u2029ATTENDEE:mailto:evil@attacker.example';
/** The same in a YAML double-quoted string: \\L, \\N and \\P are YAML's escapes for those characters. */
const YAML_INJECTION = '\\LBcc: evil@attacker.example\\NX-Injected: yes\\PATTENDEE:mailto:evil@attacker.example';
const EVIL = 'evil@attacker.example';
const HARBOR = 'harbor';

function hostileHarbor(): string {
  return TICK_PLAN_TEXT.replace(/^(client|vendor): (.+)$/gm, (_m, k: string, v: string) => `${k}: "${v}${YAML_INJECTION}"`)
    .replace(/^(vendor: .+)$/m, `$1\ntitle: "Harbor onboarding${YAML_INJECTION}"`)
    .replace(/^( {2}outcome): (.+)$/gm, (_m, k: string, v: string) => `${k}: "${v}${YAML_INJECTION}"`)
    .replace(/name: ([^,"\n}]+)(,| \}|$)/gm, (_m, v: string, end: string) => `name: "${v.trim()}${YAML_INJECTION}"${end}`)
    .replace(/title: ([^,"\n]+),/g, (_m, v: string) => `title: "${v}${YAML_INJECTION}",`)
    .replace(/role: ([^,}]+) \}/g, (_m, v: string) => `role: "${v}${YAML_INJECTION}" }`)
    .replace('attendees: [raj, dana] }', `attendees: [raj, dana], title: "Setup review${YAML_INJECTION}" }`);
}

type Kind = (typeof OUTGOING_KINDS)[number];

function calendarOf(m: CapturedMessage): string | undefined {
  const ics = m.parsed.attachments.find((a) => a.contentType === 'text/calendar' || a.contentType === 'application/ics');
  return ics?.content.toString('utf8');
}

function kindOf(m: CapturedMessage): Kind | string {
  const ics = calendarOf(m);
  if (ics) return /^METHOD:CANCEL/m.test(ics) ? 'invite CANCEL' : 'invite REQUEST';
  const label = /^<([a-z-]+)\./.exec(m.parsed.messageId ?? '')?.[1];
  const text = m.parsed.text ?? '';
  if (label === 'confirmation') return 'confirmation';
  if (label === 'reply-problem') return /Reply with one command per line/.test(text) && !/before the plan/.test(text) ? 'help' : 'explanation';
  if (label === 'csm-notice') return /BUILD_ASTRO_FAILED/.test(m.parsed.subject ?? '') ? 'build failure notice' : 'CSM notice';
  const firstLine = text.split('\n')[0]!;
  if (/ Escalation: /.test(m.parsed.subject ?? '')) return 'escalation';
  if (firstLine === 'Your open tasks this week') return 'digest';
  if (/needs? you$/.test(firstLine)) return 'reminder';
  if (/\] T\d+: /.test(m.parsed.subject ?? '')) return 'task';
  return `unknown: ${m.parsed.subject}`;
}

function partsOf(part: MimePart): MimePart[] {
  return [part, ...part.children.flatMap(partsOf)];
}

/** Everything that would be an injected header, recipient or calendar property in one sent message. */
function injectionProblems(m: CapturedMessage): string[] {
  const problems: string[] = [];
  const people = new Set<string>(Object.values(EMAIL));
  for (const to of m.envelope.to) if (!people.has(to)) problems.push(`SMTP recipient ${to}`);
  for (const field of ['to', 'cc', 'bcc'] as const) {
    const value = m.parsed[field];
    for (const a of [value ?? []].flat().flatMap((v) => v.value)) {
      if (!a.address || !people.has(a.address)) problems.push(`${field}: ${a.address}`);
      if (/[\r\n]/.test(a.name)) problems.push(`${field} name with a line break`);
    }
  }
  for (const a of [m.parsed.from, m.parsed.replyTo].flatMap((v) => v?.value ?? [])) {
    if (a.address && !people.has(a.address) && !a.address.endsWith('@twofold.localhost')) problems.push(`from/reply-to ${a.address}`);
    if (/[\r\n]/.test(a.name)) problems.push('from/reply-to name with a line break');
  }
  if (/[\r\n]/.test(m.parsed.subject ?? '')) problems.push('subject with a line break');
  const raw = m.raw.toString('latin1');
  const head = raw.slice(0, raw.search(/\r?\n\r?\n/));
  if ((head.match(/^To:/gim) ?? []).length !== 1) problems.push('not exactly one To header');
  for (const part of partsOf(mimeTree(raw))) {
    for (const name of Object.keys(part.headers)) if (['bcc', 'cc', 'x-injected', 'attendee'].includes(name)) problems.push(`header ${name} in a ${part.contentType} part`);
  }
  const ics = calendarOf(m);
  if (ics) {
    for (const line of ics.replace(/\r?\n[ \t]/g, '').split(/\r?\n/)) {
      if (/^(X-INJECTED|BCC)\b/i.test(line)) problems.push(`calendar line ${line}`);
      const mailto = /^(ATTENDEE|ORGANIZER)[^:]*:mailto:(.+)$/i.exec(line);
      if (mailto && !people.has(mailto[2]!.toLowerCase())) problems.push(`calendar ${mailto[1]} ${mailto[2]}`);
    }
  }
  return problems;
}

/** A raw header field replaced (or added) exactly as given: the encoded words a hostile client sends. */
function withHeader(raw: Buffer, field: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(`${field}: ${value}\r\n`, 'latin1'), withoutHeader(raw, field)]);
}

describe('header injection through names and subjects, in every kind of email Twofold sends', () => {
  it('a plan whose names or titles hold a line break is refused by `twofold check`', async () => {
    const p = await project();
    await writeFile(path.join(p.paths.plansDir, `${HARBOR}.md`), TICK_PLAN_TEXT.replace(/name: Raj Patel/, `name: "Raj Patel${JSON.stringify(INJECTION).slice(1, -1)}"`));
    const run = await runTwofold(['check', path.join(p.paths.plansDir, `${HARBOR}.md`)], { cwd: p.root });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain('must be one line of text');
  });

  it('a plan and replies full of CR/LF + Bcc: every kind goes out with one To, no added header, recipient or calendar attendee', async () => {
    const p = await project();
    const file = path.join(p.paths.plansDir, `${HARBOR}.md`);
    await writeFile(file, hostileHarbor());
    const edit = async (edits: Parameters<typeof editPlanText>[1]) => writeFile(file, editPlanText(await readFile(file, 'utf8'), edits));
    smtp.clear();
    const replyNow = new Date('2026-03-09T16:00:00Z');
    const { core } = await p.core({ config: workerConfig({ smtp: { host: smtp.host, port: smtp.port } }), clock: () => replyNow, fullBuilds: false });
    try {
      const tick = (at: string) => runTick({ paths: p.paths, identity: core.identity, store: p.store, mailer: core.mailer, now: new Date(at), slugs: [HARBOR] });
      // Mon Mar 2: task emails, check-in invites, digests. Tue Mar 3: a reminder.
      await tick('2026-03-02T09:00:00-06:00');
      await tick('2026-03-03T09:15:00-06:00');
      // Kickoff completes (check-in invites, the next stage's tasks); T3 blocked with a hostile reason.
      await edit([...done('T1', '2026-03-03'), ...done('T2', '2026-03-05'), ...blocked('T3', `waiting on IT${PLAN_INJECTION}`, '2026-03-04')]);
      await tick('2026-03-05T15:00:00-06:00');
      // Fri Mar 6: the first escalation step.
      await tick('2026-03-06T10:00:00-06:00');
      // The setup check-in is removed: its invite is cancelled.
      await edit([{ op: 'delete', path: ['stages', 1, 'checkin'] }]);
      await tick('2026-03-09T10:00:00-05:00');

      // Replies whose From name and Subject carry encoded CR/LF + Bcc.
      const ctx = { paths: p.paths, store: p.store, identity: core.identity };
      const hostile = async (task: string, from: string, text: string, person?: string) => {
        const built = await replyAs(ctx, { slug: HARBOR, task, text, date: replyNow, tokenNow: replyNow, ...(person ? { person } : {}) });
        const named = readdress(built.raw, { from: `=?UTF-8?Q?Some_One=0D=0ABcc:_${EVIL}=0D=0AX-Injected:_yes?= <${from}>` });
        return withHeader(named, 'Subject', `=?UTF-8?Q?Re:_${task}=0D=0ABcc:_${EVIL}=0D=0AX-Injected:_yes?=`);
      };
      const handle = (raw: Buffer) => core.processor.handle(raw, { source: 'file', receivedAt: replyNow });
      expect(await handle(await hostile('T4', EMAIL.sam, 'in progress'))).toMatchObject({ reason: 'REPLY_APPLIED' });
      expect(await handle(await hostile('T5', EMAIL.ines, 'due: 2026-01-05'))).toMatchObject({ reason: 'REPLY_DATE_BEFORE_START' });
      expect(await handle(await hostile('T6', EMAIL.ines, 'help'))).toMatchObject({ reason: 'REPLY_HELP' });
      expect(await handle(await hostile('T5', EVIL, 'done'))).toMatchObject({ reason: 'REPLY_SENDER_MISMATCH' });
      // A full build failed after a change: the CSM is told (the message carries the hostile text too).
      const replies = createOutcomeReplies({ paths: p.paths, store: p.store, identity: core.identity, mailer: core.mailer, clock: () => replyNow, log: () => {}, plan: (slug) => core.plans.get(slug) });
      await replies.buildFailed(new TwofoldError('BUILD_ASTRO_FAILED', `Astro could not build${INJECTION}`), [`plan ${HARBOR}: portal not built yet`]);
    } finally {
      await core.close();
    }

    const sent = smtp.messages;
    const kinds = new Map<string, number>();
    for (const m of sent) kinds.set(String(kindOf(m)), (kinds.get(String(kindOf(m))) ?? 0) + 1);
    expect([...kinds.keys()].filter((k) => k.startsWith('unknown'))).toEqual([]);
    expect([...kinds.keys()].sort()).toEqual([...OUTGOING_KINDS].sort());
    const problems = sent.flatMap((m) => injectionProblems(m).map((problem) => `${kindOf(m)} to ${m.envelope.to.join(',')}: ${problem}`));
    expect(problems).toEqual([]);
    // The hostile text arrived as text (flattened), so the test did reach the composers with it.
    expect(sent.filter((m) => /Bcc: evil@attacker\.example/.test((m.parsed.text ?? '').replace(/\s+/g, ' '))).length).toBeGreaterThan(sent.length / 2);
    // eslint-disable-next-line no-console
    console.log(`header injection: ${sent.length} emails of ${kinds.size} kinds (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}), none with an injected header, recipient or attendee`);
  });
});

// ── hostile plan files ─────────────────────────────────────────────────────────────────────

const HOSTILE_FIXTURES = INVALID_CASES.filter((c) => c.name.startsWith('hostile-'));

describe('hostile plan files are refused by `twofold build` before Astro runs, and by `twofold check`', () => {
  let p: WorkerProject;
  beforeAll(async () => {
    p = await project({ passwords: ['tamarind-vale'] });
  });

  const cases = [
    ...HOSTILE_FIXTURES.map((c) => ({ name: c.name, code: c.code, write: (dir: string) => copyFile(c.file, path.join(dir, `${c.name}.md`)) })),
    { name: 'a plan over 1 MB', code: 'PLAN_TOO_LARGE', write: (dir: string) => writeFile(path.join(dir, 'huge-plan.md'), `---\nclient: ${'x'.repeat(1_100_000)}\n---\n`) },
  ];

  it.each(cases)('$name: build exits 1 with BUILD_PLANS_INVALID and $code, no Astro, no dist/', async ({ name, code, write }) => {
    await rm(p.paths.plansDir, { recursive: true, force: true });
    await mkdir(p.paths.plansDir, { recursive: true });
    await copyFile(path.join(REPO_ROOT, 'content', 'plans', 'tamarind-vale.mdx'), path.join(p.paths.plansDir, 'tamarind-vale.mdx'));
    await write(p.paths.plansDir);
    const run = await runTwofold(['build', '--now', '2026-12-03'], { cwd: p.root });
    expect(run.code, name).toBe(1);
    expect(run.stderr).toContain(`[${code}]`);
    expect(run.stderr).toContain('[BUILD_PLANS_INVALID]');
    expect(run.stdout).not.toContain('▸ astro');
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
    expect(await readdir(p.paths.distDir).catch(() => 'no dist')).toBe('no dist');
  });

  it('`twofold check` refuses every one of them in one run, each with its code', async () => {
    await rm(p.paths.plansDir, { recursive: true, force: true });
    await mkdir(p.paths.plansDir, { recursive: true });
    for (const c of cases) await c.write(p.paths.plansDir);
    const run = await runTwofold(['check', '--json'], { cwd: p.root });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { plans: Array<{ slug: string; ok: boolean; problems: Array<{ code: string }> }> };
    expect(report.plans).toHaveLength(cases.length);
    for (const plan of report.plans) {
      const c = cases.find((x) => plan.slug === x.name || (x.code === 'PLAN_TOO_LARGE' && plan.slug === 'huge-plan'))!;
      expect(plan, plan.slug).toMatchObject({ ok: false });
      expect(plan.problems[0]?.code, plan.slug).toBe(c.code);
    }
  });
});

// ── path traversal ─────────────────────────────────────────────────────────────────────────

describe('path traversal in slugs, names, ids and tokens is refused with a clear error', () => {
  let p: WorkerProject;
  let files: string[];
  beforeAll(async () => {
    p = await project();
    files = await listTree(p.root);
  });

  it.each([
    { name: 'twofold password ../x', args: ['password', '../x'], code: 'PLAN_SLUG_INVALID' },
    { name: 'twofold link ../../etc x', args: ['link', '../../etc', 'x@y.example'], code: 'PLAN_SLUG_INVALID' },
    { name: 'twofold mail reply-address ../tamarind-vale', args: ['mail', 'reply-address', '../tamarind-vale', 'T9', 'hamish.fq@tamarindvale.example'], code: 'PLAN_SLUG_INVALID' },
    { name: 'twofold mail send ../../etc/passwd', args: ['mail', 'send', '../../etc/passwd'], code: 'PLAN_SLUG_INVALID' },
    { name: 'twofold invite ../tamarind-vale', args: ['invite', '../tamarind-vale'], code: 'PLAN_SLUG_INVALID' },
    { name: 'twofold new ../evil', args: ['new', '../evil', '--client', 'Evil', '--start', '2026-12-07'], code: 'PLAN_SLUG_INVALID' },
    { name: 'twofold new with a template ../../package', args: ['new', 'fine-slug', '--client', 'Evil', '--start', '2026-12-07', '--template', '../../package'], code: 'PLAN_TEMPLATE_UNKNOWN' },
  ])('$name: exit 1, $code, nothing written', async ({ args, code }) => {
    const run = await runTwofold(args, { cwd: p.root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`[${code}]`);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(await listTree(p.root)).toEqual(files);
  });

  it('a plan file named `..md`: check names it as no plan slug; build and the worker never take it for a plan', async () => {
    const dot = path.join(p.paths.plansDir, '..md');
    await copyFile(await p.planFile('halvorsen-marine'), dot);
    try {
      const check = await runTwofold(['check', 'content/plans/..md'], { cwd: p.root });
      expect(check.code).toBe(1);
      expect(check.stdout).toContain('content/plans/..md: error: the file name "." is not a valid plan slug');
      expect(check.stdout).toContain('[PLAN_SLUG_INVALID]');
      const { core } = await p.core({ fullBuilds: false });
      try {
        expect((await core.plans.slugs()).sort()).toEqual(['ellery-brook', 'halvorsen-marine', 'tamarind-vale']);
      } finally {
        await core.close();
      }
    } finally {
      await rm(dot, { force: true });
    }
  });

  it('a task id `../T1` in a digest reply: refused (REPLY_TASK_REQUIRED), explained to the sender, no plan changed', async () => {
    const { core, events } = await p.core({ fullBuilds: false });
    try {
      const before = await p.planBytes();
      const reply = await replyAs({ paths: p.paths, store: p.store, identity: core.identity }, { slug: 'tamarind-vale', task: 'digest', person: 'hamish.fq@tamarindvale.example', text: '../T9 done\n../../etc/passwd blocked: x' });
      expect(await core.processor.handle(reply.raw, { source: 'file', receivedAt: new Date() })).toMatchObject({ reason: 'REPLY_TASK_REQUIRED' });
      expect(await p.planBytes()).toEqual(before);
      expect(events.find((e) => e.event === 'message.processed')).toMatchObject({ verdict: 'reject', code: 'REPLY_TASK_REQUIRED' });
      expect((await p.outbox()).map((m) => m.mail.text ?? '').join('\n')).toMatch(/does not say which task/);
    } finally {
      await core.close();
    }
  });

  it('a reply token signed (with the real key) for the plan "../../etc/passwd": `mail explain` and the worker refuse it as no such plan', async () => {
    const { version, key } = await p.store.replyKey();
    const identity = identityFor();
    const token = await makeReplyToken({ keys: { [version]: key }, plan: '../../etc/passwd', task: 'T9', email: 'hamish.fq@tamarindvale.example', now: new Date() });
    const address = replyAddress(identity.reply, token);
    const built = await replyAs({ paths: p.paths, store: p.store, identity }, { slug: 'tamarind-vale', task: 'T9', text: 'done' });
    const raw = readdress(built.raw, { to: address });
    await writeFile(path.join(p.root, 'traversal.eml'), raw);
    const before = await p.planBytes();
    const explain = await runTwofold(['mail', 'explain', 'traversal.eml', '--json'], { cwd: p.root });
    expect(explain.code, explain.stderr).toBe(0);
    expect(JSON.parse(explain.stdout)).toMatchObject({ verdict: 'reject', reason: 'REPLY_TOKEN_UNKNOWN_PLAN', plan: null, commands: [] });
    const ingest = await runTwofold(['mail', 'ingest', 'traversal.eml'], { cwd: p.root });
    expect(ingest.stdout.trim()).toBe('processed (REPLY_TOKEN_UNKNOWN_PLAN)');
    expect(await p.planBytes()).toEqual(before);
    expect((await listTree(p.root)).filter((f) => !f.startsWith('.twofold/') && f !== 'traversal.eml')).toEqual(files.filter((f) => !f.startsWith('.twofold/')));
  });
});

/** Every file under a directory, relative, sorted (to prove a refused command wrote nothing). */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(path.relative(root, full));
    }
  };
  await walk(root);
  return out.sort();
}

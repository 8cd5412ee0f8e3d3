/**
 * `twofold mail send` and `twofold mail reply-address` as a CSM runs them: subprocesses in a
 * throwaway project holding the example plans, mail going to the outbox or through a real SMTP
 * server.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EMBEDDED_IDENTITY } from '../../mail-worker/config/mail-identity.ts';
import { openPlanDirectory } from '../../mail-worker/stores/plan-directory-fs.ts';
import { openTasks } from '../../site/core/plan/plan-model.ts';
import { DIGEST_TASK, tokenFromAddress, verifyReplyToken, type ReplyAddressConfig } from '../../site/core/reply/reply-token.ts';
import { readPlan } from '../../site/lib/plan-store-fs.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore } from '../../site/lib/secret-store-fs.ts';
import { startSmtpCapture, type SmtpCapture } from '../helpers/smtp-capture.ts';
import { runTwofold, STACK_FRAME, tempProject, type CliRun } from '../helpers/run-twofold.ts';

const NOW = '2026-12-03T09:00:00Z';
const HAMISH = 'hamish.fq@tamarindvale.example';
const DELPHINE = 'delphine.okonjo-marsh@tamarindvale.example';
let root: string;

/** The environment of a CSM's shell with no Twofold settings, plus `env`. */
function twofold(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_')));
  return runTwofold(args, { cwd: root, env: { ...clean, ...env } });
}

const exists = (file: string) => stat(file).then(() => true, () => false);

/** `digest     → raj@acme.example  /path/file.eml` → [to, file] */
function printed(stdout: string): Array<{ what: string; to: string; rest: string }> {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(.+?)\s+→ (\S+)\s+(.*)$/.exec(line);
      if (!m) throw new Error(`unexpected output line: ${line}`);
      return { what: m[1]!.trim(), to: m[2]!, rest: m[3]! };
    });
}

async function verify(address: string, reply: ReplyAddressConfig = EMBEDDED_IDENTITY.reply) {
  const paths = projectPaths(root, {});
  const token = tokenFromAddress(reply, address);
  const { version, key } = await openSecretStore(paths, {}).replyKey();
  return verifyReplyToken(token ?? '', { keys: { [version]: key }, lookup: openPlanDirectory(paths).lookup, now: new Date(NOW) });
}

async function parseFile(file: string): Promise<ParsedMail> {
  return simpleParser(await readFile(file));
}

beforeEach(async () => {
  root = await tempProject(['plans']);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('twofold mail send', () => {
  it('without a task sends one digest to each person with open tasks, into the outbox, and writes nothing to the plan', async () => {
    const planBefore = await readFile(path.join(root, 'content', 'plans', 'tamarind-vale.mdx'), 'utf8');
    const run = await twofold(['mail', 'send', 'tamarind-vale', '--now', NOW]);
    expect(run.stderr).toMatch(/^New personal links for .*tamarind-vale has no portal yet/);
    expect(run.code).toBe(0);

    const { plan } = await readPlan(projectPaths(root, {}), 'tamarind-vale');
    const owners = plan.people.map((p) => p.email).filter((e) => openTasks(plan, '2026-12-03').some((v) => v.owner.email === e));
    const lines = printed(run.stdout);
    expect(lines.map((l) => l.to)).toEqual(owners);
    expect(lines.every((l) => l.what === 'digest')).toBe(true);
    const outbox = path.join(root, '.twofold', 'outbox');
    expect((await readdir(outbox)).filter((n) => n.endsWith('.eml'))).toHaveLength(owners.length);
    for (const { to, rest } of lines) {
      expect(path.dirname(rest)).toBe(outbox);
      const mail = await parseFile(rest);
      expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual([to]);
      expect(mail.subject).toMatch(/^\[Tamarind Vale Pharmacies onboarding\] Your open tasks: \d+/);
      expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
      expect(await verify(mail.replyTo?.value[0]?.address ?? '')).toMatchObject({ ok: true, plan: 'tamarind-vale', task: DIGEST_TASK, email: to });
    }
    expect(await readFile(path.join(root, 'content', 'plans', 'tamarind-vale.mdx'), 'utf8')).toBe(planBefore);
    expect(await exists(path.join(root, 'content', 'activity'))).toBe(false);
    expect(await exists(path.join(root, 'content', 'records'))).toBe(false);
  });

  it('with a task and --to sends that task to that person; the same email twice is sent once', async () => {
    const first = await twofold(['mail', 'send', 'tamarind-vale', 't8', '--to', DELPHINE.toUpperCase(), '--now', NOW]);
    expect(first.code, first.stderr).toBe(0);
    const [line] = printed(first.stdout);
    expect(line).toMatchObject({ what: 'task T8', to: DELPHINE });
    const mail = await parseFile(line!.rest);
    expect(mail.subject).toBe('[Tamarind Vale Pharmacies onboarding] T8: Approve the security review — due Mon, Nov 16');
    expect(await verify(mail.replyTo?.value[0]?.address ?? '')).toMatchObject({ ok: true, task: 'T8', email: DELPHINE });

    const again = await twofold(['mail', 'send', 'tamarind-vale', 'T8', '--to', DELPHINE, '--now', NOW]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(''); // the link exists now: nothing new to publish
    expect(printed(again.stdout)[0]).toMatchObject({ what: 'task T8', to: DELPHINE, rest: `already sent: ${line!.rest}` });
    expect((await readdir(path.join(root, '.twofold', 'outbox'))).filter((n) => n.endsWith('.eml'))).toHaveLength(1);
  });

  it('says so when the person asked for has no open tasks', async () => {
    const run = await twofold(['mail', 'send', 'ellery-brook', '--to', 'wrenna.castellanos@kestrelbyte.example', '--now', NOW]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('ellery-brook: nothing to send — no open tasks for the people asked');
    expect(await exists(path.join(root, '.twofold', 'outbox'))).toBe(false);
  });

  it.each([
    { name: 'a task the plan does not have', args: ['tamarind-vale', 'T99'], code: 'MAIL_TASK_UNKNOWN' },
    { name: 'a recipient outside the plan', args: ['tamarind-vale', 'T8', '--to', 'eve@evil.example'], code: 'MAIL_PERSON_UNKNOWN' },
    { name: 'a plan that does not exist', args: ['no-such-plan'], code: 'PLAN_NOT_FOUND' },
    { name: 'a slug that climbs out of the plans folder', args: ['../secrets'], code: 'PLAN_SLUG_INVALID' },
    { name: 'too many arguments', args: ['tamarind-vale', 'T8', 'T9'], code: 'CLI_USAGE' },
    { name: 'no plan', args: [], code: 'CLI_USAGE' },
    { name: 'an unreadable --now', args: ['tamarind-vale', '--now', 'tomorrow'], code: 'CLI_BAD_DATE' },
  ])('refuses $name with $code and sends nothing', async ({ args, code }) => {
    const run = await twofold(['mail', 'send', ...args]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`[${code}]`);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(await exists(path.join(root, '.twofold', 'outbox'))).toBe(false);
  });
});

describe('twofold mail send over SMTP', () => {
  let smtp: SmtpCapture;
  beforeAll(async () => {
    smtp = await startSmtpCapture();
  });
  afterAll(async () => {
    await smtp.stop();
  });

  it('delivers through the SMTP server the worker settings name, and keeps a copy under sent/', async () => {
    smtp.clear();
    const run = await twofold(['mail', 'send', 'tamarind-vale', 'T8', '--now', NOW], { TWOFOLD_SMTP_HOST: smtp.host, TWOFOLD_SMTP_PORT: String(smtp.port), TWOFOLD_FROM: 'plans@kestrelbyte.example' });
    expect(run.code, run.stderr).toBe(0);
    const [line] = printed(run.stdout);
    expect(line).toMatchObject({ what: 'task T8', to: HAMISH });
    expect(line!.rest).toMatch(/^delivered over SMTP: .*\/\.twofold\/outbox\/sent\/[^/]+\.eml$/);
    const message = await smtp.waitFor(() => true);
    expect(message.envelope).toEqual({ from: 'plans@kestrelbyte.example', to: [HAMISH] });
    expect(message.parsed.subject).toBe('[Tamarind Vale Pharmacies onboarding] T8: Approve the security review — due Mon, Nov 16');
    expect(message.parsed.headers.get('x-twofold-generated')).toBe('yes');
    const kept = await parseFile(line!.rest.replace(/^delivered over SMTP: /, ''));
    expect(kept.messageId).toBe(message.parsed.messageId);
    expect(kept.text).toBe(message.parsed.text);
    expect(await verify(message.parsed.replyTo?.value[0]?.address ?? '')).toMatchObject({ ok: true, plan: 'tamarind-vale', task: 'T8', email: HAMISH });
  });

  it('keeps the message queued when the SMTP server is down, and says so', async () => {
    smtp.setDown(true);
    try {
      const run = await twofold(['mail', 'send', 'tamarind-vale', 'T9', '--now', NOW], { TWOFOLD_SMTP_HOST: smtp.host, TWOFOLD_SMTP_PORT: String(smtp.port) });
      expect(run.code, run.stderr).toBe(0);
      const [line] = printed(run.stdout);
      expect(line!.rest).toMatch(/^queued, SMTP delivery failed \(the worker retries\): .*\/\.twofold\/outbox\/queue\/[^/]+\.eml$/);
    } finally {
      smtp.setDown(false);
    }
  });
});

describe('twofold mail reply-address', () => {
  it('prints the address a task email to that person carries', async () => {
    const run = await twofold(['mail', 'reply-address', 'tamarind-vale', 'T8', HAMISH, '--now', NOW]);
    expect(run.code, run.stderr).toBe(0);
    const address = run.stdout.trim();
    expect(address).toMatch(/^twofold\+[a-z2-7]{32}@twofold\.localhost$/);
    expect(address.split('@')[0]!.length).toBeLessThanOrEqual(64);
    expect(await verify(address)).toMatchObject({ ok: true, plan: 'tamarind-vale', task: 'T8', email: HAMISH });

    const sent = await twofold(['mail', 'send', 'tamarind-vale', 'T8', '--now', NOW]);
    const mail = await parseFile(printed(sent.stdout)[0]!.rest);
    expect(mail.replyTo?.value[0]?.address).toBe(address);
  });

  it('prints a digest address, in the configured reply form', async () => {
    const env = { TWOFOLD_REPLY_MODE: 'subdomain', TWOFOLD_REPLY_DOMAIN: 'reply.kestrelbyte.example' };
    const run = await twofold(['mail', 'reply-address', 'tamarind-vale', 'Digest', DELPHINE, '--now', NOW], env);
    expect(run.code, run.stderr).toBe(0);
    const address = run.stdout.trim();
    expect(address).toMatch(/^[a-z2-7]{32}@reply\.kestrelbyte\.example$/);
    expect(await verify(address, { mode: 'subdomain', domain: 'reply.kestrelbyte.example' })).toMatchObject({ ok: true, task: DIGEST_TASK, digest: true, email: DELPHINE });
  });

  it.each([
    { name: 'a task the plan does not have', args: ['tamarind-vale', 'T99', HAMISH], code: 'MAIL_TASK_UNKNOWN' },
    { name: 'someone outside the plan', args: ['tamarind-vale', 'T8', 'eve@evil.example'], code: 'MAIL_PERSON_UNKNOWN' },
    { name: 'a missing email', args: ['tamarind-vale', 'T8'], code: 'CLI_USAGE' },
  ])('refuses $name with $code', async ({ args, code }) => {
    const run = await twofold(['mail', 'reply-address', ...args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`[${code}]`);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });
});

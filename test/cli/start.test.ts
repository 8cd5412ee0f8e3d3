/**
 * The README's main job, as a newcomer runs it on a fresh copy: `twofold start` (what
 * `npm start` runs) in a project holding only the example plans and activity logs, then
 * `twofold demo-reply <plan> <task> "blocked: waiting on IT"` as printed, then the printed portal
 * URL opened in Chromium with the printed password shows the blocker, and the outbox page
 * lists the confirmation. Ctrl-C (SIGINT) stops it cleanly.
 *
 * Ports: the web server and the embedded SMTP inbox each get a free port (TWOFOLD_INBOUND_SMTP_PORT
 * for both `start` and `demo-reply`), so test files running in parallel never collide on 2525.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTask } from '../../site/core/plan/plan-model.ts';
import { readPlan } from '../../site/lib/plan-store-fs.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.ts';
import { freePort } from '../helpers/free-port.ts';
import { runTwofold, STACK_FRAME, tempProject, TWOFOLD_BIN } from '../helpers/run-twofold.ts';
import { waitUntil } from '../helpers/wait-until.ts';

/** Passwords, the Astro build of three portals, the worker: 10–20 s alone, more on two busy cores. */
const START_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 30_000;
const BLOCKER = 'waiting on IT';

let root: string;
let webPort: number;
let smtpPort: number;
let server: ChildProcess | undefined;
let stdout = '';
let stderr = '';
let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let chromium: LaunchedChromium | undefined;
/** What the confirmation must list, known once the demo reply went out. */
let expectedChange: string | undefined;
const STATUS_LABEL = { todo: 'to do', in_progress: 'in progress', done: 'done', blocked: 'blocked' } as const;

function env(): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_')));
  return { ...clean, NO_COLOR: '1', TWOFOLD_INBOUND_SMTP_PORT: String(smtpPort) };
}

beforeAll(async () => {
  root = await tempProject(['plans', 'activity']);
  [webPort, smtpPort] = await Promise.all([freePort(), freePort()]);
  server = spawn(process.execPath, [TWOFOLD_BIN, 'start', '--port', String(webPort)], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (chunk) => (stdout += chunk));
  server.stderr!.on('data', (chunk) => (stderr += chunk));
  exit = new Promise((resolve) => server!.once('exit', (code, signal) => resolve({ code, signal })));
  let exited = false;
  void exit.then(() => (exited = true));
  await waitUntil(
    () => {
      if (exited) throw new Error(`twofold start exited early:\n${stdout}\n${stderr}`);
      return stdout.includes('Press Ctrl-C to stop.');
    },
    '"Twofold is running" and the instructions to be printed',
    START_TIMEOUT_MS,
    100,
  ).catch((err) => {
    throw new Error(`${err.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  });
}, START_TIMEOUT_MS + 30_000);

afterAll(async () => {
  await chromium?.close();
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

interface Printed {
  slug: string;
  task: string;
  portal: string;
  password: string;
}

/** What `start` told the newcomer to try, and the portal and password of that plan. */
async function printed(): Promise<Printed> {
  const demo = /npm run demo:reply -- (\S+) (\S+) "blocked: waiting on IT"/.exec(stdout);
  expect(demo, stdout).toBeTruthy();
  const [, slug, task] = demo as unknown as [string, string, string];
  const { plan } = await readPlan(projectPaths(root, {}), slug);
  const block = new RegExp(`^  ${plan.client.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n    portal    (\\S+)\\n    password  (\\S+)   \\(shown once; keep it\\)$`, 'm').exec(stdout);
  expect(block, `the portal and password of ${plan.client} in:\n${stdout}`).toBeTruthy();
  return { slug, task, portal: block![1]!, password: block![2]! };
}

describe('twofold start, the main job on embedded defaults', () => {
  it('says it is running, with a portal and a password per plan, the outbox and what to try', async () => {
    expect(stdout).toContain('Twofold is running. Portals: 3 built into');
    expect(stdout.match(/^ {4}portal {4}http:\/\/localhost:\d+\/p\/[a-z2-7]+\/$/gm)).toHaveLength(3);
    expect(stdout).toContain(`Outbox (every email Twofold sent): http://localhost:${webPort}/outbox/`);
    expect(stdout).toContain(`Replies are received on SMTP 127.0.0.1:${smtpPort}.`);
    expect(stderr).not.toMatch(STACK_FRAME);
    // Each person with open tasks got a digest: the outbox is not empty before any reply.
    const outbox = await readdir(path.join(root, '.twofold', 'outbox'));
    expect(outbox.filter((n) => /-digest-/.test(n)).length).toBeGreaterThan(0);
  });

  it('applies the printed demo reply, and the portal opened with the printed password shows the blocker', async () => {
    const { slug, task, portal, password } = await printed();
    const planFile = (await readdir(path.join(root, 'content', 'plans'))).find((n) => n.startsWith(`${slug}.`))!;
    const before = await readFile(path.join(root, 'content', 'plans', planFile), 'utf8');
    const status = findTask((await readPlan(projectPaths(root, {}), slug)).plan, task)!.task.status;
    expect(status, 'start suggests a task that is still open').not.toBe('done');
    expectedChange = `${task}: ${STATUS_LABEL[status]} → blocked (${BLOCKER})`;

    const reply = await runTwofold(['demo-reply', slug, task, `blocked: ${BLOCKER}`], { cwd: root, env: env() });
    expect(reply.code, reply.stderr).toBe(0);
    expect(reply.stdout).toMatch(/^Sent as \S+ to twofold\+[a-z2-7]+@twofold\.localhost: the worker applied it\./);
    expect(reply.stderr).not.toMatch(STACK_FRAME);

    // The plan file changed on the task's line only.
    const after = await readFile(path.join(root, 'content', 'plans', planFile), 'utf8');
    const changed = after.split('\n').filter((line, i) => line !== before.split('\n')[i]);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toContain(`id: ${task},`);
    expect(changed[0]).toContain(`status: blocked, blocked: { reason: ${BLOCKER}, since: `);

    // The portal, as the newcomer opens it: the printed URL, the printed password.
    chromium = await launchChromium();
    const page = await chromium.context.newPage();
    await page.goto(portal);
    await page.fill('#unlock-password', password);
    await page.click('#unlock-form button[type=submit]');
    await page.waitForSelector('#portal:not([hidden])', { timeout: 60_000 });
    const blocker = page.locator(`#portal li.blocker[data-task="${task}"] .blocker-reason`);
    await expect.poll(() => blocker.textContent(), { timeout: 10_000 }).toBe(`Waiting on: ${BLOCKER}`);

    // The client's printed personal link opens the same, re-sealed portal without the password.
    const { plan } = await readPlan(projectPaths(root, {}), slug);
    const client = plan.people.find((p) => p.side === 'client')!;
    const link = new RegExp(`^ {4}${client.name}'s personal link: (\\S+)$`, 'm').exec(stdout)?.[1];
    expect(link, stdout).toMatch(/#u=/);
    const linked = await chromium.context.newPage();
    await linked.goto(link!);
    await linked.waitForSelector('#portal:not([hidden])', { timeout: 60_000 });
    expect(await linked.locator(`#portal li.blocker[data-task="${task}"] .blocker-reason`).textContent()).toBe(`Waiting on: ${BLOCKER}`);
  });

  it('lists the confirmation on the local outbox page', async () => {
    const { task } = await printed();
    const response = await fetch(`http://127.0.0.1:${webPort}/outbox/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    const row = new RegExp(`<a href="(/outbox/[^"]*-confirm-${task.toLowerCase()}-[0-9a-f]{20}\\.eml)">Re: \\[[^\\]]+\\] ${task}: `).exec(html);
    expect(row, html).toBeTruthy();
    const mail = await (await fetch(`http://127.0.0.1:${webPort}${row![1]}`)).text();
    expect(expectedChange, 'the demo reply was sent').toBeDefined();
    expect(mail.replace(/\s+/g, ' ')).toContain(expectedChange);
  });

  it('stops cleanly on Ctrl-C (SIGINT): exit code 0, both ports released', async () => {
    server!.kill('SIGINT');
    const result = await Promise.race([exit, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`twofold start did not stop within ${STOP_TIMEOUT_MS} ms`)), STOP_TIMEOUT_MS))]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(stderr).not.toMatch(STACK_FRAME);
    for (const port of [webPort, smtpPort]) expect(await listening(port), `port ${port} still taken`).toBe(false);

    // A demo reply now has no worker to go to: it says so, and how to start one.
    const { slug, task } = await printed();
    const reply = await runTwofold(['demo-reply', slug, task, 'done'], { cwd: root, env: env() });
    expect(reply.code).toBe(1);
    expect(reply.stderr).toContain(`could not deliver to the worker's SMTP inbox at 127.0.0.1:${smtpPort}`);
    expect(reply.stderr).toContain('[MAIL_SMTP_CONNECT_FAILED]');
    expect(reply.stderr).toContain('hint: Start it first: `npm start` in another terminal.');
    expect(reply.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('twofold start when a port is taken', () => {
  /** A plain TCP listener standing in for another program on the port. */
  async function occupy(): Promise<{ port: number; close(): Promise<void> }> {
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    return { port: (blocker.address() as net.AddressInfo).port, close: () => new Promise((resolve) => blocker.close(() => resolve())) };
  }

  /** Run `start` to its end; a process still running after `timeoutMs` is killed and reported as hung. */
  async function runStart(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string; hung: boolean }> {
    const child = spawn(process.execPath, [TWOFOLD_BIN, 'start', ...args], { cwd: dir, env: { ...env(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.stderr!.on('data', (chunk) => (out += chunk));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    return { code, out, hung };
  }

  it('says at once that the web port is taken, before building anything', async () => {
    const dir = await tempProject(['plans']);
    const taken = await occupy();
    try {
      const run = await runStart(dir, ['--port', String(taken.port), '--no-emails'], { TWOFOLD_INBOUND_SMTP_PORT: String(await freePort()) }, 60_000);
      expect(run.hung, run.out).toBe(false);
      expect(run.code).toBe(1);
      expect(run.out).toContain(`error: the local web server cannot listen on 127.0.0.1:${taken.port}: EADDRINUSE [CLI_WEB_LISTEN_FAILED]`);
      expect(run.out).toContain('pass --port <n> or set TWOFOLD_PORT');
      expect(run.out).not.toMatch(STACK_FRAME);
      expect(run.out).not.toContain('▸ astro');
    } finally {
      await taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says the SMTP port is taken and exits instead of hanging on the open web server', async () => {
    const dir = await tempProject(['plans']);
    const taken = await occupy();
    const web = await freePort();
    try {
      const run = await runStart(dir, ['--port', String(web), '--no-emails'], { TWOFOLD_INBOUND_SMTP_PORT: String(taken.port) }, START_TIMEOUT_MS);
      expect(run.hung, `still running after ${START_TIMEOUT_MS} ms:\n${run.out}`).toBe(false);
      expect(run.code).toBe(1);
      expect(run.out).toContain(`The embedded SMTP server cannot listen on 127.0.0.1:${taken.port}: EADDRINUSE [MAIL_SMTP_LISTEN_FAILED]`);
      expect(run.out).not.toMatch(STACK_FRAME);
      expect(await listening(web), 'the web server was closed').toBe(false);
    } finally {
      await taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, START_TIMEOUT_MS + 30_000);
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

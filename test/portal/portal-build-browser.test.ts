/**
 * Portals end to end: `twofold build` on a copy of the example plans (plus a 60-task plan),
 * served from localhost, opened in Debian's Chromium. Also the leak scan: nothing from a plan in
 * the clear anywhere in dist/, and a planted canary fails the build.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlanText } from '../../site/core/plan/plan-validate.ts';
import { buildPortals } from '../../site/lib/portal-build.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.ts';
import { runTwofold, tempProject } from '../helpers/run-twofold.ts';
import { startStaticServer, type StaticServer } from '../helpers/static-server.ts';

const NOW = '2026-12-03';
const SCREENSHOTS = path.resolve('test-results/screenshots');
const WRONG_MESSAGE = 'That password does not open this plan. Check it and try again.';

let root: string;
let server: StaticServer;
let chromium: LaunchedChromium;
const passwords = new Map<string, string>();
const portalUrls = new Map<string, string>();

async function setPassword(slug: string, rotate = false): Promise<string> {
  const run = await runTwofold(['password', slug, ...(rotate ? ['--rotate'] : [])], { cwd: root });
  expect(run.code, run.stderr).toBe(0);
  const password = /^\s{2}(\S+)$/m.exec(run.stdout)?.[1];
  const url = /^Portal: (\S+)$/m.exec(run.stdout)?.[1];
  expect(password).toBeTruthy();
  passwords.set(slug, password!);
  portalUrls.set(slug, new URL(url!).pathname);
  return password!;
}

async function build(): Promise<string> {
  const run = await runTwofold(['build', '--now', NOW], { cwd: root });
  expect(run.code, run.stderr + run.stdout).toBe(0);
  return run.stdout;
}

function sixtyTaskPlan(): string {
  const tasks = (offset: number) =>
    Array.from({ length: 15 }, (_, i) => `      - { id: T${offset + i}, title: Bulk task number ${offset + i} of the migration, owner: ${i % 2 ? 'pia' : 'olu'}, due: +${10 + i}d }`).join('\n');
  const stage = (id: string, n: number) => `  - id: ${id}\n    name: Stage ${id}\n    due: +${n * 20}d\n    checkin: { when: at-due, attendees: [pia, olu] }\n    tasks:\n${tasks((n - 1) * 15 + 1)}`;
  return `---
client: Sixty Task Holdings
vendor: Northwind Analytics
timezone: Europe/Berlin
start: 2026-11-02
golive: +90d
people:
  - { id: pia, name: Pia Vogelsang, email: pia@northwind.example, side: vendor, csm: true, sponsor: true }
  - { id: olu, name: Olu Adebayo-Frisk, email: olu@sixty.example, side: client, sponsor: true }
success:
  outcome: Every warehouse moves to the new system without losing a day of shipping.
  criteria:
    - { metric: Shipping days lost, target: zero }
stages:
${[1, 2, 3, 4].map((n) => stage(`s${n}`, n)).join('\n')}
---
A plan with sixty tasks, to see that a big plan renders.
`;
}

async function openWithPassword(page: Page, slug: string, password: string, remember = false): Promise<void> {
  await page.goto(`${server.url}${portalUrls.get(slug)}`);
  await page.fill('#unlock-password', password);
  if (remember) await page.check('#unlock-remember');
  await page.click('#unlock-form button[type=submit]');
}

beforeAll(async () => {
  root = await tempProject(['plans', 'activity']);
  await writeFile(path.join(root, 'content', 'plans', 'sixty-tasks.md'), sixtyTaskPlan());
  for (const slug of ['ellery-brook', 'halvorsen-marine', 'tamarind-vale', 'sixty-tasks']) await setPassword(slug);
  await build();
  server = await startStaticServer(path.join(root, 'dist'));
  chromium = await launchChromium();
  await mkdir(SCREENSHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

describe('a built portal in Chromium', () => {
  it('opens with the right password and shows the success definition first and a known task', async () => {
    const page = await chromium.context.newPage();
    await openWithPassword(page, 'tamarind-vale', passwords.get('tamarind-vale')!);
    await page.waitForSelector('#portal:not([hidden])');
    const plan = loadPlanText(await readFile(path.join(root, 'content/plans/tamarind-vale.mdx'), 'utf8'));
    if (!plan.ok) throw new Error('example plan invalid');
    const { plan: p } = plan.value;
    await expect.poll(() => page.locator('.north-star .outcome').textContent()).toBe(p.success.outcome);
    const firstSection = await page.locator('#portal > section').first().getAttribute('class');
    expect(firstSection).toContain('north-star');
    const task = p.stages[1]!.tasks[0]!;
    await expect.poll(() => page.locator(`#timeline [data-task="${task.id}"] .task-title`).textContent()).toBe(task.title);
    expect(await page.title()).toContain(p.client);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'portal-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'portal-phone.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    expect(overflow, 'the portal must not scroll sideways on a phone').toBe(false);
    await page.close();
  });

  it('refuses a wrong password with a clear message and shows nothing of the plan', async () => {
    const page = await chromium.context.newPage();
    await openWithPassword(page, 'tamarind-vale', 'aaaaa-bbbbb-ccccc-ddddd');
    await expect.poll(() => page.locator('#unlock-error').textContent()).toBe(WRONG_MESSAGE);
    expect(await page.locator('#portal').isHidden()).toBe(true);
    expect(await page.locator('#portal').innerHTML()).toBe('');
    expect(await page.title()).toBe('Protected plan');
    await page.close();
  });

  it('opens from a personal link, drops the fragment at once and marks that person\'s tasks', async () => {
    const link = await runTwofold(['link', 'tamarind-vale', 'hamish.fq@tamarindvale.example', '--base-url', server.url], { cwd: root });
    // The link is new: it opens after the next build.
    if (link.code !== 0) throw new Error(link.stderr);
    await build();
    const url = link.stdout.trim();
    expect(new URL(url).hash).toMatch(/^#u=/);
    const page = await chromium.context.newPage();
    await page.goto(url);
    await page.waitForSelector('#portal:not([hidden])');
    expect(new URL(page.url()).hash).toBe('');
    const mine = await page.locator('#portal .is-mine').count();
    expect(mine).toBeGreaterThan(0);
    const owners = await page.locator('#portal .is-mine[data-task]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-owner')))]);
    expect(owners.length).toBe(1);
    await page.close();
  });

  it('remembers the device when asked, across a reload, without keeping the password', async () => {
    const page = await chromium.context.newPage();
    await openWithPassword(page, 'ellery-brook', passwords.get('ellery-brook')!, true);
    await page.waitForSelector('#portal:not([hidden])');
    await page.reload();
    await page.waitForSelector('#portal:not([hidden])');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toContain(passwords.get('ellery-brook')!);
    await page.close();
  });

  it('renders a plan with 60 tasks', async () => {
    const page = await chromium.context.newPage();
    await openWithPassword(page, 'sixty-tasks', passwords.get('sixty-tasks')!);
    await page.waitForSelector('#portal:not([hidden])');
    expect(await page.locator('#timeline li.task').count()).toBe(60);
    await page.close();
  });

  it('stops opening with the old password after a rotation and the next build', async () => {
    const old = passwords.get('ellery-brook')!;
    const fresh = await setPassword('ellery-brook', true);
    expect(fresh).not.toBe(old);
    await build();
    const page = await chromium.context.newPage();
    // The remembered key from the previous test no longer opens the re-keyed portal: the form shows.
    await page.goto(`${server.url}${portalUrls.get('ellery-brook')}`);
    await page.waitForSelector('#unlock-form');
    expect(await page.locator('#portal').isHidden()).toBe(true);
    await page.fill('#unlock-password', old);
    await page.click('#unlock-form button[type=submit]');
    await expect.poll(() => page.locator('#unlock-error').textContent()).toBe(WRONG_MESSAGE);
    await page.fill('#unlock-password', fresh);
    await page.click('#unlock-form button[type=submit]');
    await page.waitForSelector('#portal:not([hidden])');
    await page.close();
  });
});

describe('nothing from a plan in the clear', () => {
  it('finds no client, person or task title anywhere in dist/, file names included', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else files.push(full);
      }
    };
    await walk(path.join(root, 'dist'));
    const haystack = (await Promise.all(files.map(async (f) => `${f}\n${await readFile(f, 'utf8')}`))).join('\n').toLowerCase();
    const needles: string[] = [];
    for (const name of await readdir(path.join(root, 'content/plans'))) {
      const loaded = loadPlanText(await readFile(path.join(root, 'content/plans', name), 'utf8'));
      if (!loaded.ok) throw new Error(`${name} invalid`);
      const p = loaded.value.plan;
      needles.push(p.client, ...p.people.flatMap((x) => [x.name, x.email]), ...p.stages.flatMap((s) => s.tasks.map((t) => t.title)));
    }
    expect(needles.length).toBeGreaterThan(100);
    const found = needles.filter((n) => haystack.includes(n.toLowerCase()));
    expect(found).toEqual([]);
    const html = await readFile(files.find((f) => f.endsWith('index.html') && f.includes(`${path.sep}p${path.sep}`))!, 'utf8');
    expect(html).toContain('<meta name="robots" content="noindex');
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    expect(html).toContain('Content-Security-Policy');
    expect(files.some((f) => /sitemap|rss|\.map$/.test(f))).toBe(false);
    const rootIndex = await readFile(path.join(root, 'dist/index.html'), 'utf8');
    expect(rootIndex).not.toMatch(/href="\/p\//);
  });

  it('fails the build when the output holds a planted canary, and keeps the last good dist/', async () => {
    const paths = projectPaths(root, {});
    const before = await readdir(path.join(root, 'dist', 'p'));
    await expect(
      buildPortals({
        paths,
        env: {},
        now: new Date(`${NOW}T12:00:00Z`),
        hooks: { beforeScan: (staging) => writeFile(path.join(staging, 'about.txt'), 'Contact Hamish Ferreira-Quaid for details') },
      }),
    ).rejects.toMatchObject({ code: 'BUILD_LEAK', message: expect.stringContaining('Hamish Ferreira-Quaid') });
    expect(await readdir(path.join(root, 'dist', 'p'))).toEqual(before);
  }, 120_000);
});

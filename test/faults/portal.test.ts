/**
 * Portals under faults and hostile plan text, with a real Astro build:
 *
 *   - `astro build` fails after a reply changed a plan (Astro's cache directory is made a file,
 *     so the real build fails with BUILD_ASTRO_FAILED): the change is kept in the plan, the last
 *     good dist/ stays published byte for byte and still decrypts, and the plan's CSM is told —
 *     once, however often the build fails;
 *   - HTML and script in every text field of a plan (names, titles, reasons, details, the
 *     narrative) show as text in the portal: in the sealed payload, and in Chromium, where no
 *     dialog opens and no injected handler runs.
 *
 * A wrong password never reveals content: test/portal/portal-build-browser.test.ts ("refuses a
 * wrong password…") and test/portal/unlock-browser.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePassword } from '../../site/core/portal/portal-password.ts';
import { portalPath } from '../../site/core/portal/portal-links.ts';
import { buildPortals } from '../../site/lib/portal-build.ts';
import { portalPayloadFor } from '../../site/lib/portal-seal-fs.ts';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.ts';
import { replyAs } from '../helpers/reply-builder.ts';
import { startStaticServer, type StaticServer } from '../helpers/static-server.ts';
import { workerProject, type WorkerProject } from '../helpers/worker-project.ts';

const NOW = new Date('2026-12-03T09:00:00Z');
const HOSTILE = 'hostile-html';
const XSS = {
  title: '<img src=x onerror="window.__pwned=1;alert(1)">',
  client: '<script>window.__pwned=2;alert(2)</script>Client',
  person: 'Raj "><svg onload=alert(3)>',
  task: '<img src=x onerror=alert(4)> Send the checklist',
  reason: 'waiting on <iframe src="javascript:alert(5)"></iframe>',
  details: '<a href="javascript:alert(6)">click</a> & <b onmouseover=alert(7)>bold</b>',
  outcome: '</script><script>alert(8)</script> routes in one tool',
};
const HOSTILE_PLAN = `---
client: '${XSS.client}'
vendor: Fixture Vendor
title: '${XSS.title}'
timezone: America/Chicago
start: 2026-11-16
golive: +6w
people:
  - { id: maya, name: Maya Chen, email: maya@vendor.example, side: vendor, csm: true, sponsor: true }
  - { id: raj, name: '${XSS.person}', email: raj@client.example, side: client, sponsor: true }
success:
  outcome: '${XSS.outcome}'
  criteria:
    - { metric: '<u>Planning time</u>', target: '<b>2 h</b> or less' }
stages:
  - id: kickoff
    name: '<h1>Kickoff</h1>'
    due: +1w
    tasks:
      - { id: T1, title: '${XSS.task}', owner: raj }
      - id: T2
        title: Share the SSO metadata file
        owner: raj
        status: blocked
        blocked: { reason: '${XSS.reason}', since: 2026-11-20 }
        details: '${XSS.details}'
  - id: setup
    name: Setup
    due: +4w
    tasks:
      - { id: T3, title: Connect the feed, owner: maya }
---
The narrative, with raw HTML a plan must never pass through:

<script>window.__pwned = 9; alert(9)</script>

<img src=x onerror="window.__pwned=10;alert(10)">

[a link](javascript:alert(11)) and **bold** text.
`;

let project: WorkerProject;
let server: StaticServer;
let chromium: LaunchedChromium;

/** Every file of dist/ with its sha256, to prove a failed build left it byte for byte. */
async function distDigest(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.set(path.relative(dir, full), createHash('sha256').update(await readFile(full)).digest('hex'));
    }
  };
  await walk(dir);
  return out;
}

beforeAll(async () => {
  project = await workerProject({ passwords: [] });
  await writeFile(path.join(project.paths.plansDir, `${HOSTILE}.md`), HOSTILE_PLAN);
  for (const slug of ['tamarind-vale', HOSTILE]) {
    const password = generatePassword();
    await project.store.setPassword(slug, password);
    project.passwords.set(slug, password);
  }
  await buildPortals({ paths: project.paths, env: {}, now: NOW });
  server = await startStaticServer(project.paths.distDir);
  chromium = await launchChromium();
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
  await project?.remove();
});

describe('a full build that Astro fails after a reply changed a plan', () => {
  it('keeps the change in the plan, leaves dist/ byte for byte and still decrypting, and tells the CSM once', async () => {
    // halvorsen-marine gets its password after the last build: its portal is missing, so a reply
    // to it asks for a full build — which fails, because Astro cannot use its cache directory.
    await project.store.setPassword('halvorsen-marine', generatePassword());
    const astroCache = path.join(project.paths.cacheDir, 'astro');
    await rename(astroCache, `${astroCache}.aside`).catch(() => undefined);
    await mkdir(project.paths.cacheDir, { recursive: true });
    await writeFile(astroCache, 'not a directory\n');
    const distBefore = await distDigest(project.paths.distDir);
    const tamarindBefore = await project.portal('tamarind-vale');
    const planBefore = await project.planText('halvorsen-marine');

    const { core, events } = await project.core({ clock: () => NOW });
    try {
      const ctx = { paths: project.paths, store: project.store, identity: core.identity };
      for (const [task, text] of [['T9', 'blocked: waiting on the Entra ID admin'], ['T3', 'in progress']] as const) {
        const reply = await replyAs(ctx, { slug: 'halvorsen-marine', task, text, date: NOW });
        expect(await core.processor.handle(reply.raw, { source: 'file', receivedAt: NOW })).toEqual({ disposition: 'processed', reason: 'REPLY_APPLIED' });
        await core.publisher.idle();
      }
      // The scheduler's tick after the replies re-seals too (it may ask for one more build): let it finish.
      await core.tick.close();
      await core.publisher.idle();
      const failed = events.filter((e) => e.event === 'build.failed');
      expect(failed.length).toBeGreaterThanOrEqual(2);
      for (const e of failed) expect(e).toMatchObject({ code: 'BUILD_ASTRO_FAILED', reasons: expect.arrayContaining(['plan halvorsen-marine: portal not built yet']) });
      expect(events.filter((e) => e.event === 'build.done')).toEqual([]);
    } finally {
      await core.close();
    }

    // The changes are in the plan file.
    const planAfter = await project.planText('halvorsen-marine');
    expect(planAfter).not.toBe(planBefore);
    expect(planAfter).toMatch(/\{ id: T9, .*status: blocked, blocked: \{ reason: waiting on the Entra ID admin, since: 2026-12-03 \} \}/);
    expect(planAfter).toMatch(/\{ id: T3, .*status: in_progress \}/);
    // The last good dist/ is still what is published, and still opens.
    expect(await distDigest(project.paths.distDir)).toEqual(distBefore);
    const tamarind = await project.portal('tamarind-vale');
    expect(tamarind.envelope).toBe(tamarindBefore.envelope);
    expect(tamarind.html).toContain('Configure single sign-on in Okta');
    // The CSM of the plan is told, once for two failed builds (the same failure is one notice).
    const notices = (await project.outbox()).filter((m) => /BUILD_ASTRO_FAILED/.test(m.mail.subject ?? ''));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.mail.to).toMatchObject({ value: [{ address: 'wrenna.castellanos@kestrelbyte.example' }] });
    expect((notices[0]!.mail.text ?? '').replace(/\s+/g, ' ')).toContain('The change from email was kept in the plan; the portal shows it once a build succeeds.');
  });
});

describe('HTML and script in plan text are escaped in the portal', () => {
  it('the sealed payload holds every hostile string as text, never as markup', async () => {
    const payload = await portalPayloadFor({ paths: project.paths, store: project.store, now: NOW }, HOSTILE, (await project.store.getPortal(HOSTILE))!);
    for (const markup of ['<img src=x', '<script>', '<svg onload', '<iframe', 'href="javascript:', '<b onmouseover', '<h1>Kickoff']) expect(payload.html, markup).not.toContain(markup);
    expect(payload.html).toContain('&lt;img src=x onerror=alert(4)&gt; Send the checklist');
    expect(payload.title).toBe(`${XSS.title} · Fixture Vendor`);
  });

  it('in Chromium the portal shows them as text: no dialog opens and no injected handler runs', async () => {
    const page = await chromium.context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const portalId = (await project.store.getPortal(HOSTILE))!.portalId;
    await page.goto(`${server.url}${portalPath(portalId)}`);
    await page.fill('#unlock-password', project.passwords.get(HOSTILE)!);
    await page.click('#unlock-form button[type=submit]');
    await page.waitForSelector('#portal:not([hidden])');
    await page.waitForFunction(() => document.readyState === 'complete');
    const title = page.locator('#timeline [data-task="T1"] .task-title');
    await expect.poll(() => title.textContent()).toBe(XSS.task);
    const portalText = (await page.locator('#portal').textContent()) ?? '';
    for (const text of [XSS.reason, 'Raj "><svg onload=alert(3)>', '<h1>Kickoff</h1>']) expect(portalText, text).toContain(text);
    // Nothing executable made it into the DOM, so nothing ran.
    const live = await page.evaluate(() => ({
      handlers: document.querySelectorAll('#portal [onerror], #portal [onload], #portal [onmouseover], #portal iframe, #portal svg[onload]').length,
      scripts: document.querySelectorAll('#portal script').length,
      jsLinks: document.querySelectorAll('#portal a[href^="javascript:"]').length,
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
    }));
    expect(live).toEqual({ handlers: 0, scripts: 0, jsLinks: 0, pwned: null });
    expect(await page.title()).toContain(XSS.title);
    expect(dialogs).toEqual([]);
    await page.close();
  });
});

/**
 * The unlock script in a real browser (Debian's Chromium via playwright-core), before the Astro
 * page exists: site/scripts/unlock.ts is bundled with esbuild into a small page that follows the
 * shell's DOM contract, sealed with the real secret store, served from localhost.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortalPayload } from '../../site/core/render/portal-payload.ts';
import { PBKDF2_ITERATIONS } from '../../site/core/portal/portal-crypto.ts';
import { unlockLinkUrl } from '../../site/core/portal/portal-links.ts';
import { linkOwners, sealPortalPayload } from '../../site/core/portal/portal-payload-codec.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore, type SecretStore } from '../../site/lib/secret-store-fs.ts';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.ts';
import { startStaticServer, type StaticServer } from '../helpers/static-server.ts';

const unlockEntry = fileURLToPath(new URL('../../site/scripts/unlock.ts', import.meta.url));
const PASSWORD = 'k7m2q-xp4rt-9hw3c-ndf6b';
const ROTATED = 'abcde-fghjk-mnpqr-stvwx';
const WRONG = 'zzzzz-zzzzz-zzzzz-zzzzz';
const WRONG_MESSAGE = 'That password does not open this plan. Check it and try again.';
const people = [
  { id: 'maya', email: 'maya@northwind.example' },
  { id: 'raj', email: 'raj@acme.example' },
];
const ICS = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Twofold//EN\r\nEND:VCALENDAR\r\n';

let root: string;
let store: SecretStore;
let server: StaticServer;
let chromium: LaunchedChromium;
let portalId: string;

/** A page shaped like the lead's PortalShell: only the portal id and the envelope vary. */
function shellHtml(envelope: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'">
<meta name="twofold-portal" content="${portalId}">
<title>Protected plan</title></head>
<body>
<section id="unlock"><h1>This plan is protected</h1>
<form id="unlock-form" novalidate>
<label for="unlock-password">Password</label>
<input id="unlock-password" name="password" type="password" autocomplete="current-password">
<label><input id="unlock-remember" type="checkbox"> Remember me on this device</label>
<button type="submit">Open the plan</button>
<p id="unlock-error" role="alert" hidden></p>
<p id="unlock-status" aria-live="polite"></p>
</form></section>
<main id="portal" hidden tabindex="-1"></main>
<script type="application/json" id="twofold-sealed">${envelope}</script>
<script type="module" src="/unlock.js"></script>
</body></html>`;
}

/** Seal the current secrets into the page, as a build would. */
async function publish(): Promise<void> {
  const portal = await store.ensurePortal('acme');
  const payload: PortalPayload = {
    v: 1,
    title: 'Acme onboarding — Acme × Northwind',
    html: `<h1>Orders flow without manual re-keying</h1>
<ul>
<li class="task" data-owner="raj" data-task="T1">Send API credentials</li>
<li class="task" data-owner="maya" data-task="T2">Configure the connector</li>
<li class="task" data-owner="raj" data-task="T3">Approve the mapping</li>
</ul>
<p>Blocked for <time datetime="2026-01-01" data-age-since="2026-01-01">stale text</time></p>
<button type="button" data-ics="connect">Add to calendar</button>
<button type="button" data-action="lock">Lock</button>`,
    links: linkOwners(portal.links, people),
    calendar: { connect: { filename: 'connect-check-in.ics', ics: ICS } },
  };
  await writeFile(path.join(root, 'dist/p', portalId, 'index.html'), shellHtml(await sealPortalPayload(portal, payload)));
}

async function openPortalPage(hash = ''): Promise<Page> {
  const page = await chromium.context.newPage();
  await page.goto(`${server.url}/p/${portalId}/${hash}`);
  return page;
}

async function submit(page: Page, password: string, remember = false): Promise<void> {
  await page.fill('#unlock-password', password);
  if (remember) await page.check('#unlock-remember');
  await page.click('#unlock-form button[type="submit"]');
}

const rememberedKids = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ kid: string; extractable: boolean }[]>((resolve, reject) => {
        const req = indexedDB.open('twofold', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('portal-keys', { keyPath: 'id' });
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const all = req.result.transaction('portal-keys').objectStore('portal-keys').getAll();
          all.onsuccess = () => resolve(all.result.map((r: any) => ({ kid: r.kid, extractable: r.key.extractable })));
        };
      }),
  );

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'twofold-unlock-'));
  store = openSecretStore(projectPaths(root, {}), {});
  portalId = (await store.ensurePortal('acme')).portalId;
  await store.setPassword('acme', PASSWORD);
  await store.ensureLink('acme', 'raj@acme.example');
  await mkdir(path.join(root, 'dist/p', portalId), { recursive: true });
  const bundle = await build({ entryPoints: [unlockEntry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, minify: true, logLevel: 'silent' });
  await writeFile(path.join(root, 'dist/unlock.js'), bundle.outputFiles[0]!.contents);
  await publish();
  server = await startStaticServer(path.join(root, 'dist'));
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the unlock script in Chromium', () => {
  it('measures one PBKDF2-SHA256 derivation at 600,000 iterations in the browser', async () => {
    const page = await openPortalPage();
    const runs = await page.evaluate(async (iterations) => {
      const base = await crypto.subtle.importKey('raw', new TextEncoder().encode('measure'), 'PBKDF2', false, ['deriveKey']);
      const out: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: new Uint8Array(16), iterations }, base, { name: 'AES-KW', length: 256 }, false, ['unwrapKey']);
        out.push(performance.now() - t0);
      }
      return out;
    }, PBKDF2_ITERATIONS);
    const median = [...runs].sort((a, b) => a - b)[1]!;
    console.info(`[measure] Chromium ${chromium.context.browser()?.version() ?? ''}: one PBKDF2-SHA256 x ${PBKDF2_ITERATIONS} derivation: median ${median.toFixed(0)} ms (${runs.map((r) => r.toFixed(0)).join(', ')})`);
    expect(median).toBeGreaterThan(20);
    await page.close();
  });

  it('shows the plan for the right password, and moves focus to it', async () => {
    const page = await openPortalPage();
    expect(await page.title()).toBe('Protected plan');
    await submit(page, PASSWORD);
    await page.waitForSelector('#portal:not([hidden])');
    expect(await page.textContent('#portal')).toContain('Send API credentials');
    expect(await page.title()).toBe('Acme onboarding — Acme × Northwind');
    expect(await page.isHidden('#unlock')).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('portal');
    expect(await page.inputValue('#unlock-password')).toBe('');
    // Ages are refreshed against the reader's today, not left as the build wrote them.
    expect(await page.textContent('time[data-age-since]')).toMatch(/^\d+ days$/);
    const ms = await page.evaluate(() => window.__twofoldUnlockMs);
    expect(ms).toBeGreaterThan(0);
    console.info(`[measure] Chromium: password submit → content visible ${ms!.toFixed(0)} ms`);
    expect(await rememberedKids(page)).toEqual([]);
    await page.close();
  });

  it('accepts the password typed in capitals with spaces', async () => {
    const page = await openPortalPage();
    await submit(page, PASSWORD.toUpperCase().replace(/-/g, ' '));
    await page.waitForSelector('#portal:not([hidden])');
    await page.close();
  });

  it('says a wrong password does not open the plan, shows nothing else, and keeps the form usable', async () => {
    const page = await openPortalPage();
    await submit(page, WRONG);
    await page.waitForSelector('#unlock-error:not([hidden])');
    expect(await page.textContent('#unlock-error')).toBe(WRONG_MESSAGE);
    expect(await page.isHidden('#portal')).toBe(true);
    expect(await page.innerHTML('#portal')).toBe('');
    expect(await page.title()).toBe('Protected plan');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('unlock-password');
    expect(await page.isEnabled('#unlock-form button[type="submit"]')).toBe(true);
    await submit(page, PASSWORD);
    await page.waitForSelector('#portal:not([hidden])');
    expect(await page.isHidden('#unlock-error')).toBe(true);
    await page.close();
  });

  it("opens from a personal link, leaves no fragment in the URL, and marks that person's tasks", async () => {
    const link = (await store.getPortal('acme'))!.links[0]!;
    const url = unlockLinkUrl(server.url, portalId, { linkId: link.id, secret: link.secret });
    const before = server.requests.length;
    const page = await chromium.context.newPage();
    await page.goto(url);
    await page.waitForSelector('#portal:not([hidden])');
    expect(page.url()).toBe(`${server.url}/p/${portalId}/`);
    expect(await page.evaluate(() => location.hash)).toBe('');
    expect(await page.evaluate(() => document.body.dataset.viewer)).toBe('raj');
    expect(await page.$$eval('.is-mine', (els) => els.map((e) => (e as HTMLElement).dataset.task))).toEqual(['T1', 'T3']);
    // Opening is all a link does: only the page and its script were fetched, nothing was posted.
    const requests = server.requests.slice(before);
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
    expect(requests.map((r) => r.url).join(' ')).not.toContain(link.secret);
    await page.close();
  });

  it('downloads a check-in as a text/calendar file made in the browser', async () => {
    const page = await openPortalPage();
    await submit(page, PASSWORD);
    await page.waitForSelector('#portal:not([hidden])');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-ics="connect"]')]);
    expect(download.suggestedFilename()).toBe('connect-check-in.ics');
    expect(download.url()).toMatch(/^blob:/);
    expect(await readFile((await download.path())!, 'utf8')).toBe(ICS);
    await page.close();
  });

  it('remembers a non-extractable key on this device, survives a reload, and forgets it on Lock', async () => {
    const page = await openPortalPage();
    await submit(page, PASSWORD, true);
    await page.waitForSelector('#portal:not([hidden])');
    const kid = (await store.getPortal('acme'))!.kid;
    expect(await rememberedKids(page)).toEqual([{ kid, extractable: false }]);
    await page.reload();
    await page.waitForSelector('#portal:not([hidden])');
    expect(await page.textContent('#portal')).toContain('Send API credentials');
    await Promise.all([page.waitForEvent('load'), page.click('button[data-action="lock"]')]);
    await page.waitForSelector('#unlock-form');
    expect(await page.isHidden('#portal')).toBe(true);
    expect(await rememberedKids(page)).toEqual([]);
    await page.close();
  });

  it('refuses a page whose envelope was downgraded to fewer iterations, before deriving anything', async () => {
    const file = path.join(root, 'dist/p', portalId, 'index.html');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.replaceAll(`"iter":${PBKDF2_ITERATIONS}`, '"iter":1000'));
    try {
      const page = await openPortalPage();
      await page.waitForSelector('#unlock-error:not([hidden])');
      expect(await page.textContent('#unlock-error')).toMatch(/damaged/);
      expect(await page.isDisabled('#unlock-password')).toBe(true);
      await page.close();
    } finally {
      await writeFile(file, good);
    }
  });

  it('after a re-key, drops the remembered key silently and refuses the old password and link', async () => {
    const page = await openPortalPage();
    await submit(page, PASSWORD, true);
    await page.waitForSelector('#portal:not([hidden])');
    const oldKid = (await store.getPortal('acme'))!.kid;
    const oldLink = (await store.getPortal('acme'))!.links[0]!;
    expect(await rememberedKids(page)).toEqual([{ kid: oldKid, extractable: false }]);

    await store.setPassword('acme', ROTATED, { replace: true });
    await store.revokeLink('acme', 'raj@acme.example');
    await publish();

    await page.reload();
    await page.waitForSelector('#unlock-form');
    await page.waitForFunction(() => document.getElementById('unlock-status')?.textContent === '');
    expect(await page.isHidden('#portal')).toBe(true);
    expect(await page.isHidden('#unlock-error')).toBe(true);
    await expect.poll(() => rememberedKids(page)).toEqual([]);

    await submit(page, PASSWORD);
    await page.waitForSelector('#unlock-error:not([hidden])');
    expect(await page.textContent('#unlock-error')).toBe(WRONG_MESSAGE);
    expect(await page.innerHTML('#portal')).toBe('');
    await submit(page, ROTATED);
    await page.waitForSelector('#portal:not([hidden])');

    const linkPage = await chromium.context.newPage();
    await linkPage.goto(unlockLinkUrl(server.url, portalId, { linkId: oldLink.id, secret: oldLink.secret }));
    await linkPage.waitForSelector('#unlock-error:not([hidden])');
    expect(await linkPage.textContent('#unlock-error')).toMatch(/no longer opens the plan/);
    expect(linkPage.url()).not.toContain('#');
    expect(await linkPage.innerHTML('#portal')).toBe('');
    await linkPage.close();
    await page.close();
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedChromium } from './chromium.ts';
import { startStaticServer, type StaticServer } from './static-server.ts';

describe('the Chromium helper', () => {
  let dir: string;
  let server: StaticServer;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-chromium-site-'));
    await writeFile(
      path.join(dir, 'index.html'),
      '<!doctype html><title>start</title><script type="module" src="/app.js"></script>',
    );
    await writeFile(path.join(dir, 'app.js'), 'document.title = "ran " + location.hash.slice(1); history.replaceState(null, "", location.pathname);');
    server = await startStaticServer(dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a page from the static server and runs its module script', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/#k=fragment-secret`);
    await page.waitForFunction(() => document.title.startsWith('ran'));
    expect(await page.title()).toBe('ran k=fragment-secret');
    expect(page.url()).toBe(`${server.url}/`); // the page removed the fragment
    expect(server.requests.map((r) => r.url)).toEqual(expect.arrayContaining(['/', '/app.js']));
    expect(server.requests.some((r) => r.url.includes('fragment-secret'))).toBe(false);
  });

  it('starts with a fresh profile each time', async () => {
    const second = await launchChromium();
    try {
      expect(second.userDataDir).not.toBe(browser.userDataDir);
      expect(second.context.pages().length).toBeLessThanOrEqual(1);
    } finally {
      await second.close();
    }
  });
});

/**
 * Accessibility of a real built portal, checked with axe-core in Chromium (WCAG 2.1 A and AA
 * rules: landmarks, headings, names, contrast…), locked and unlocked, at desktop and phone
 * widths; and keyboard use: the whole unlock works without a mouse, focus lands on the plan.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalUrl } from '../../site/core/portal/portal-links.ts';
import { generatePassword } from '../../site/core/portal/portal-password.ts';
import { buildPortals } from '../../site/lib/portal-build.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore } from '../../site/lib/secret-store-fs.ts';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.ts';
import { tempProject } from '../helpers/run-twofold.ts';
import { startStaticServer, type StaticServer } from '../helpers/static-server.ts';

const SLUG = 'tamarind-vale';
const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let server: StaticServer;
let chromium: LaunchedChromium;
let url: string;
let password: string;

async function violations(page: Page): Promise<string[]> {
  // The portal's Content-Security-Policy forbids inline scripts: the browser context bypasses it for axe only.
  await page.addScriptTag({ content: await readFile(AXE_SOURCE, 'utf8') });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

beforeAll(async () => {
  const root = await tempProject(['plans', 'activity']);
  const paths = projectPaths(root, {});
  const store = openSecretStore(paths, {});
  password = generatePassword();
  await store.setPassword(SLUG, password);
  await buildPortals({ paths, env: {}, now: new Date('2026-12-03T09:00:00Z') });
  server = await startStaticServer(paths.distDir);
  url = portalUrl(server.url, (await store.getPortal(SLUG))!.portalId);
  chromium = await launchChromium({ launch: { bypassCSP: true } });
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

describe('portal accessibility', () => {
  it.each([
    { name: 'desktop', width: 1280, height: 900 },
    { name: 'phone', width: 390, height: 844 },
  ])('has no axe violations, locked and unlocked ($name)', async ({ width, height }) => {
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(url);
    expect(await violations(page), 'the unlock page').toEqual([]);
    await page.fill('#unlock-password', password);
    await page.click('#unlock-form button[type=submit]');
    await page.waitForSelector('#portal:not([hidden])');
    expect(await violations(page), 'the unlocked portal').toEqual([]);
    await page.close();
  });

  it('unlocks with the keyboard alone and moves focus to the plan', async () => {
    const page = await chromium.context.newPage();
    await page.goto(url);
    // Tab order: skip link, password field.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('unlock-password');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#portal:not([hidden])');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('portal');
    // Headings form an outline: one h1, then h2 sections.
    const levels = await page.$$eval('#portal h1, #portal h2, #portal h3', (hs) => hs.map((h) => Number(h.tagName[1])));
    expect(levels[0]).toBe(1);
    expect(levels.filter((l) => l === 1)).toHaveLength(1);
    for (let i = 1; i < levels.length; i++) expect(levels[i]! - levels[i - 1]!).toBeLessThanOrEqual(1);
    await page.close();
  });

  it('prints without the unlock form and the buttons', async () => {
    const page = await chromium.context.newPage();
    await page.goto(url);
    await page.fill('#unlock-password', password);
    await page.click('#unlock-form button[type=submit]');
    await page.waitForSelector('#portal:not([hidden])');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.portal-actions').isVisible()).toBe(false);
    expect(await page.locator('.north-star').isVisible()).toBe(true);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    await page.close();
  });
});


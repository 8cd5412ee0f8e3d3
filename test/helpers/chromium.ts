/**
 * The system Chromium (Debian package `chromium`) driven by playwright-core, for browser tests.
 * Never downloads a browser: a missing Chromium is an installation step, said so in the error.
 * Each launch gets a fresh user-data dir, so no state leaks between tests.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Options of a persistent context (launch and context options: viewport, bypassCSP…). */
type LaunchOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

export const CHROMIUM_BIN = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // tests run as root, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export interface LaunchedChromium {
  context: BrowserContext;
  userDataDir: string;
  close(): Promise<void>;
}

export async function launchChromium(options: { launch?: LaunchOptions } = {}): Promise<LaunchedChromium> {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_BIN}: run apt-get install -y chromium (CI does this in .ci/run)`);
  }
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'twofold-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_BIN,
      headless: true,
      args: CHROMIUM_ARGS,
      ...options.launch,
    });
    return {
      context,
      userDataDir,
      async close() {
        await context.close().catch(() => {});
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
}

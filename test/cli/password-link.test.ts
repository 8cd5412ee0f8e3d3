/**
 * `twofold password` and `twofold link` as a CSM runs them: real subprocesses of the `twofold`
 * bin, in a temporary project with one plan.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope, sealPayload, unwrapWithSecret } from '../../site/core/portal/portal-crypto.ts';
import { parseUnlockFragment } from '../../site/core/portal/portal-links.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore } from '../../site/lib/secret-store-fs.ts';

const bin = fileURLToPath(new URL('../../scripts/twofold.mjs', import.meta.url));
const PASSWORD_SHAPE = /\b[0-9a-hjkmnp-tv-z]{5}(?:-[0-9a-hjkmnp-tv-z]{5}){3}\b/g;

const plan = `---
client: Acme
vendor: Northwind
timezone: UTC
start: 2026-12-07
golive: +60d
people:
  - { id: maya, name: Maya Lin, email: maya@northwind.example, side: vendor, csm: true, sponsor: true }
  - { id: raj, name: Raj Patel, email: raj@acme.example, side: client, sponsor: true }
success: { outcome: Orders flow without manual re-keying }
stages:
  - id: one
    name: Connect
    due: +7d
    tasks:
      - { id: T1, title: Send API credentials, owner: raj, status: todo }
      - { id: T2, title: Configure the connector, owner: maya, status: todo }
---
The plan.
`;

let root: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function twofold(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const base = { ...process.env };
    for (const name of ['TWOFOLD_SECRETS', 'TWOFOLD_PORTAL_URL', 'TWOFOLD_SECRETS_FILE', 'TWOFOLD_HOME', 'TWOFOLD_CONTENT_DIR']) delete base[name];
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'twofold-cli-portal-'));
  await mkdir(path.join(root, 'content/plans'), { recursive: true });
  await writeFile(path.join(root, 'content/plans/acme.md'), plan);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const secretsFile = () => path.join(root, '.twofold/secrets.json');

describe('twofold password', () => {
  let first: string;

  it('creates a generated password and shows it once', async () => {
    const out = await twofold(['password', 'acme']);
    expect(out.code).toBe(0);
    const shown = out.stdout.match(PASSWORD_SHAPE) ?? [];
    expect(shown).toHaveLength(1);
    first = shown[0]!;
    expect(out.stdout).toMatch(/shown once/);
    expect(out.stdout).toMatch(/Portal: http:\/\/localhost:4321\/p\/[a-z2-7]{26}\//);
    expect(out.stdout).not.toContain('Acme');
    const stored = JSON.parse(await readFile(secretsFile(), 'utf8'));
    expect(stored.portals.acme.password.secret).toBe(first);
  });

  it('refuses to overwrite it without --rotate, and does not show it again', async () => {
    const out = await twofold(['password', 'acme']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('[PORTAL_PASSWORD_EXISTS]');
    expect(out.stderr).toContain('--rotate');
    expect(`${out.stdout}${out.stderr}`).not.toContain(first);
    expect(JSON.parse(await readFile(secretsFile(), 'utf8')).portals.acme.password.secret).toBe(first);
  });

  it('rotates with --rotate: a new password, a re-keyed portal, the same URL', async () => {
    const before = JSON.parse(await readFile(secretsFile(), 'utf8')).portals.acme;
    const out = await twofold(['password', 'acme', '--rotate', '--base-url', 'https://plans.example.com/']);
    expect(out.code).toBe(0);
    const shown = out.stdout.match(PASSWORD_SHAPE) ?? [];
    expect(shown).toHaveLength(1);
    expect(shown[0]).not.toBe(first);
    expect(out.stdout).not.toContain(first);
    expect(out.stdout).toContain(`Portal: https://plans.example.com/p/${before.portalId}/`);
    expect(out.stdout).toMatch(/old password no longer opens/);
    const after = JSON.parse(await readFile(secretsFile(), 'utf8')).portals.acme;
    expect(after.portalId).toBe(before.portalId);
    expect(after.kid).not.toBe(before.kid);
  });

  it.each([
    { name: 'an unknown plan', args: ['password', 'globex'], code: 'PLAN_NOT_FOUND' },
    { name: 'a path-traversal slug', args: ['password', '../acme'], code: 'PLAN_SLUG_INVALID' },
    { name: 'no slug', args: ['password'], code: 'CLI_USAGE' },
  ])('fails clearly for $name', async ({ args, code }) => {
    const out = await twofold(args);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`[${code}]`);
    expect(out.stdout).not.toMatch(PASSWORD_SHAPE);
  });

  it('refuses to change secrets when they come from TWOFOLD_SECRETS (CI)', async () => {
    const env = { TWOFOLD_SECRETS: (await readFile(secretsFile())).toString('base64') };
    const out = await twofold(['password', 'acme', '--rotate'], env);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('[PORTAL_SECRETS_READ_ONLY]');
  });
});

describe('twofold link', () => {
  let firstUrl: string;

  it('prints a personal link whose secret sits only in the fragment, and which opens the portal', async () => {
    const out = await twofold(['link', 'acme', 'Raj@Acme.example'], { TWOFOLD_PORTAL_URL: 'https://plans.example.com' });
    expect(out.code).toBe(0);
    firstUrl = out.stdout.trim();
    const url = new URL(firstUrl);
    const stored = JSON.parse(await readFile(secretsFile(), 'utf8')).portals.acme;
    const link = stored.links.find((l: any) => l.person === 'raj@acme.example');
    expect(url.origin).toBe('https://plans.example.com');
    expect(url.pathname).toBe(`/p/${stored.portalId}/`);
    expect(url.search).toBe('');
    expect(url.hash).toBe(`#u=${link.id}.${link.secret}`);
    expect(`${url.origin}${url.pathname}`).not.toContain(link.secret);
    expect(out.stderr).toMatch(/after the next `npx twofold build`/);

    const portal = (await openSecretStore(projectPaths(root, {}), {}).getPortal('acme'))!;
    const envelope = await sealPayload(portal.contentKey, new TextEncoder().encode('plan'), portal.kid, portal.wraps);
    const fromUrl = parseUnlockFragment(url.hash)!;
    const unwrapped = await unwrapWithSecret(envelope, fromUrl.secret, fromUrl.linkId);
    expect(unwrapped.ok).toBe(true);
    if (unwrapped.ok) expect(new TextDecoder().decode(await openEnvelope(envelope, unwrapped.key))).toBe('plan');
  });

  it('prints the same link again (links are stable until revoked)', async () => {
    const out = await twofold(['link', 'acme', 'raj@acme.example', '--base-url', 'https://plans.example.com']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(firstUrl);
  });

  it('revokes with --revoke and re-keys; the next link is a different one', async () => {
    const before = JSON.parse(await readFile(secretsFile(), 'utf8')).portals.acme;
    const out = await twofold(['link', 'acme', 'raj@acme.example', '--revoke']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Revoked Raj Patel's personal link/);
    const after = JSON.parse(await readFile(secretsFile(), 'utf8')).portals.acme;
    expect(after.kid).not.toBe(before.kid);
    expect(after.links).toEqual([]);
    const again = await twofold(['link', 'acme', 'raj@acme.example', '--revoke']);
    expect(again.stdout).toMatch(/nothing to revoke/);
    const fresh = await twofold(['link', 'acme', 'raj@acme.example', '--base-url', 'https://plans.example.com']);
    expect(fresh.stdout.trim()).not.toBe(firstUrl);
  });

  it.each([
    { name: 'an email that is not a person of the plan', args: ['link', 'acme', 'eve@evil.example'], code: 'PORTAL_PERSON_UNKNOWN' },
    { name: 'an unknown plan', args: ['link', 'globex', 'raj@acme.example'], code: 'PLAN_NOT_FOUND' },
    { name: 'a base URL that is not http(s)', args: ['link', 'acme', 'raj@acme.example', '--base-url', 'javascript:alert(1)'], code: 'PORTAL_BASE_URL_INVALID' },
    { name: 'a missing email', args: ['link', 'acme'], code: 'CLI_USAGE' },
  ])('fails clearly for $name', async ({ args, code }) => {
    const out = await twofold(args);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`[${code}]`);
    expect(out.stdout).not.toContain('#u=');
  });

  it('is listed by `twofold help` with password', async () => {
    const out = await twofold(['help']);
    expect(out.stdout).toMatch(/^\s+password\s/m);
    expect(out.stdout).toMatch(/^\s+link\s/m);
  });
});

import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEnvelope, sealPayload, unwrapWithSecret, wrapContentKey } from '../../site/core/portal/portal-crypto.ts';
import { projectPaths, type ProjectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore, type PortalSecrets } from '../../site/lib/secret-store-fs.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = 'k7m2q-xp4rt-9hw3c-ndf6b';
const NEW_PASSWORD = 'abcde-fghjk-mnpqr-stvwx';
const plaintext = new TextEncoder().encode('{"v":1}');

let root: string;
let paths: ProjectPaths;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'twofold-secrets-'));
  paths = projectPaths(root, {});
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Seal like a build does, then try to open with a secret: the end-to-end meaning of "works". */
async function opens(portal: PortalSecrets, secret: string, linkId?: string): Promise<string> {
  const envelope = await sealPayload(portal.contentKey, plaintext, portal.kid, portal.wraps);
  const unwrapped = await unwrapWithSecret(envelope, secret, linkId);
  if (!unwrapped.ok) return unwrapped.reason;
  try {
    await openEnvelope(envelope, unwrapped.key);
    return 'opens';
  } catch (err: any) {
    return err?.code === 'PORTAL_ENVELOPE_TAMPERED' ? 'tampered' : String(err);
  }
}

describe('the file secret store', () => {
  it('creates a portal with an unguessable, stable id and writes the file 0600', async () => {
    const store = openSecretStore(paths, {});
    const portal = await store.ensurePortal('acme');
    expect(portal.portalId).toMatch(/^[a-z2-7]{26}$/);
    expect(portal.contentKey).toHaveLength(32);
    expect(portal.wraps).toEqual([]);
    expect((await stat(paths.secretsFile)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(paths.secretsFile))).mode & 0o077).toBe(0);
    const again = await openSecretStore(paths, {}).ensurePortal('acme');
    expect(again.portalId).toBe(portal.portalId);
    expect(again.kid).toBe(portal.kid);
    expect((await openSecretStore(paths, {}).ensurePortal('globex')).portalId).not.toBe(portal.portalId);
  });

  it('keeps mode 0600 after every write and tightens a copied-in, world-readable file', async () => {
    const store = openSecretStore(paths, {});
    await store.ensurePortal('acme');
    await chmod(paths.secretsFile, 0o644);
    await store.setPassword('acme', PASSWORD);
    expect((await stat(paths.secretsFile)).mode & 0o777).toBe(0o600);
  });

  it('honours TWOFOLD_SECRETS_FILE', async () => {
    const file = path.join(root, 'elsewhere', 'keys.json');
    const moved = projectPaths(root, { TWOFOLD_SECRETS_FILE: file });
    await openSecretStore(moved, {}).ensurePortal('acme');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it.each([
    { name: 'inside content/', file: 'content/secrets.json' },
    { name: 'inside dist/', file: 'dist/p/secrets.json' },
  ])('refuses a store $name', ({ file }) => {
    expect(() => openSecretStore(projectPaths(root, { TWOFOLD_SECRETS_FILE: file }), {})).toThrowError(expect.objectContaining({ code: 'PORTAL_SECRETS_IN_CONTENT' }));
  });

  it('never pays PBKDF2 for an existing link: fast, and the wrap bytes are unchanged', async () => {
    const store = openSecretStore(paths, {});
    const t0 = performance.now();
    const created = await store.ensureLink('acme', 'Raj@Acme.example');
    const createMs = performance.now() - t0;
    expect(created).toMatchObject({ created: true, person: 'raj@acme.example' });
    const before = await readFile(paths.secretsFile, 'utf8');
    const t1 = performance.now();
    const reused = await store.ensureLink('acme', ' raj@acme.EXAMPLE ');
    const reuseMs = performance.now() - t1;
    expect(reused.created).toBe(false);
    expect(reused.wrap).toEqual(created.wrap);
    expect(reused.secret).toBe(created.secret);
    expect(reuseMs).toBeLessThan(createMs / 4);
    expect(await readFile(paths.secretsFile, 'utf8')).toBe(before);
    console.info(`[measure] ensureLink: create ${createMs.toFixed(0)} ms (one PBKDF2), reuse ${reuseMs.toFixed(1)} ms`);
  });

  it('never pays PBKDF2 when a build asks for an unchanged portal again', async () => {
    const store = openSecretStore(paths, {});
    await store.setPassword('acme', PASSWORD);
    await store.ensureLink('acme', 'raj@acme.example');
    const first = await store.ensurePortal('acme');
    const d0 = performance.now();
    await wrapContentKey(first.contentKey, PASSWORD, { type: 'password' });
    const deriveMs = performance.now() - d0;
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) expect((await store.ensurePortal('acme')).wraps).toEqual(first.wraps);
    expect((performance.now() - t0) / 10).toBeLessThan(deriveMs / 4);
  });

  it('adds a first password without re-keying, so existing links keep their wraps', async () => {
    const store = openSecretStore(paths, {});
    const link = await store.ensureLink('acme', 'raj@acme.example');
    const before = await store.ensurePortal('acme');
    const after = await store.setPassword('acme', PASSWORD);
    expect(after.kid).toBe(before.kid);
    expect(after.links[0]!.wrap).toEqual(link.wrap);
    expect(after.wraps.map((w) => w.type)).toEqual(['password', 'link']);
    expect(await opens(after, PASSWORD)).toBe('opens');
    expect(await opens(after, link.secret, link.id)).toBe('opens');
  });

  it('refuses to replace a password unless asked to', async () => {
    const store = openSecretStore(paths, {});
    await store.setPassword('acme', PASSWORD);
    await expect(store.setPassword('acme', NEW_PASSWORD)).rejects.toMatchObject({ code: 'PORTAL_PASSWORD_EXISTS' });
    expect((await store.getPortal('acme'))!.password!.secret).toBe(PASSWORD);
  });

  it('re-keys on rotation: the old password stops working, links keep working, the URL stays', async () => {
    const store = openSecretStore(paths, {});
    await store.setPassword('acme', PASSWORD);
    const link = await store.ensureLink('acme', 'raj@acme.example');
    const before = await store.ensurePortal('acme');
    const after = await store.setPassword('acme', NEW_PASSWORD, { replace: true });
    expect(after.portalId).toBe(before.portalId);
    expect(after.kid).not.toBe(before.kid);
    expect(after.contentKey).not.toEqual(before.contentKey);
    expect(after.links[0]!.wrap.wrapped).not.toBe(link.wrap.wrapped);
    expect(await opens(after, PASSWORD)).toBe('wrong-secret');
    expect(await opens(after, NEW_PASSWORD)).toBe('opens');
    expect(await opens(after, link.secret, link.id)).toBe('opens');
  });

  it('re-keys on revocation: the revoked link stops working, the password and other links keep working', async () => {
    const store = openSecretStore(paths, {});
    await store.setPassword('acme', PASSWORD);
    const raj = await store.ensureLink('acme', 'raj@acme.example');
    const lee = await store.ensureLink('acme', 'lee@acme.example');
    const before = await store.ensurePortal('acme');
    expect(await store.revokeLink('acme', 'RAJ@acme.example')).toBe(true);
    const after = await store.ensurePortal('acme');
    expect(after.portalId).toBe(before.portalId);
    expect(after.kid).not.toBe(before.kid);
    expect(after.links.map((l) => l.person)).toEqual(['lee@acme.example']);
    expect(await opens(after, raj.secret, raj.id)).toBe('no-such-link');
    // A forged page that still lists the revoked wrap only unwraps the OLD key, which fails GCM.
    const forged = { ...after, wraps: [...after.wraps, raj.wrap] };
    expect(await opens(forged, raj.secret, raj.id)).toBe('tampered');
    expect(await opens(after, PASSWORD)).toBe('opens');
    expect(await opens(after, lee.secret, lee.id)).toBe('opens');
    expect(await store.revokeLink('acme', 'nobody@acme.example')).toBe(false);
    expect(await store.revokeLink('globex', 'raj@acme.example')).toBe(false);
  });

  it('creates reply-token keys on first use and keeps old versions after a rotation', async () => {
    const store = openSecretStore(paths, {});
    expect(await store.replyKey(1)).toBeUndefined();
    const first = await store.replyKey();
    expect(first.version).toBe(1);
    expect(first.key).toHaveLength(32);
    expect((await openSecretStore(paths, {}).replyKey()).key).toEqual(first.key);
    const second = await store.rotateReplyKey();
    expect(second.version).toBe(2);
    expect(second.key).not.toEqual(first.key);
    expect((await store.replyKey()).version).toBe(2);
    expect((await store.replyKey(1))!.key).toEqual(first.key);
    expect(await store.replyKey(3)).toBeUndefined();
  });

  it.each([
    { name: 'a path-traversal slug', slug: '../acme' },
    { name: 'an upper-case slug', slug: 'Acme' },
    { name: 'a __proto__ slug', slug: '__proto__' },
  ])('refuses $name', async ({ slug }) => {
    await expect(openSecretStore(paths, {}).ensurePortal(slug)).rejects.toMatchObject({ code: 'PLAN_SLUG_INVALID' });
  });

  it.each([
    { name: 'not JSON', text: '{"version":1,' },
    { name: 'an unknown field', text: '{"version":1,"portals":{},"extra":true}' },
    { name: 'a bad slug key', text: '{"version":1,"portals":{"../x":{}}}' },
  ])('refuses a secrets file that is $name', async ({ text }) => {
    await mkdir(path.dirname(paths.secretsFile), { recursive: true });
    await writeFile(paths.secretsFile, text, { mode: 0o600 });
    await expect(openSecretStore(paths, {}).getPortal('acme')).rejects.toMatchObject({ code: 'PORTAL_SECRETS_INVALID' });
  });

  it('refuses a secrets file whose stored wrap was downgraded below 600,000 iterations', async () => {
    const store = openSecretStore(paths, {});
    await store.setPassword('acme', PASSWORD);
    const data = JSON.parse(await readFile(paths.secretsFile, 'utf8'));
    data.portals.acme.password.wrap.iter = 1000;
    await writeFile(paths.secretsFile, JSON.stringify(data));
    await expect(store.getPortal('acme')).rejects.toMatchObject({ code: 'PORTAL_SECRETS_INVALID' });
  });
});

describe('concurrent writers', () => {
  it('lose no update when one process creates many links at once', async () => {
    const store = openSecretStore(paths, {});
    const emails = Array.from({ length: 6 }, (_, i) => `p${i}@acme.example`);
    await Promise.all([...emails.map((e) => store.ensureLink('acme', e)), store.setPassword('acme', PASSWORD), store.ensurePortal('globex')]);
    const portal = (await store.getPortal('acme'))!;
    expect(portal.links.map((l) => l.person).sort()).toEqual(emails);
    expect(portal.password?.secret).toBe(PASSWORD);
    expect(await store.getPortal('globex')).toBeDefined();
    for (const l of portal.links) expect(await opens(portal, l.secret, l.id)).toBe('opens');
  });

  it('lose no update across processes (file lock + re-check before commit)', async () => {
    const script = path.join(root, 'writer.mts');
    await writeFile(
      script,
      `import { openSecretStore } from ${JSON.stringify(path.join(repo, 'site/lib/secret-store-fs.ts'))};
import { projectPaths } from ${JSON.stringify(path.join(repo, 'site/lib/project-paths.ts'))};
const [who] = process.argv.slice(2);
const store = openSecretStore(projectPaths(${JSON.stringify(root)}, {}), {});
await store.ensurePortal('slug-' + who);
for (let i = 0; i < 2; i++) await store.ensureLink('acme', who + '-' + i + '@acme.example');
if (who === 'w0') await store.revokeLink('acme', 'w0-0@acme.example');
`,
    );
    const tsx = path.join(repo, 'node_modules/.bin/tsx');
    const writers = ['w0', 'w1', 'w2', 'w3'];
    await Promise.all(writers.map((w) => run(tsx, [script, w], { cwd: repo, timeout: 60_000 })));
    const store = openSecretStore(paths, {});
    const portal = (await store.getPortal('acme'))!;
    expect(portal.links.map((l) => l.person).sort()).toEqual(['w0-1', 'w1-0', 'w1-1', 'w2-0', 'w2-1', 'w3-0', 'w3-1'].map((p) => `${p}@acme.example`));
    for (const w of writers) expect(await store.getPortal(`slug-${w}`)).toBeDefined();
    // Every remaining link was wrapped under the current key, whoever re-keyed in between.
    for (const l of portal.links) expect(await opens(portal, l.secret, l.id)).toBe('opens');
  });

  it('takes over a lock left by a crashed process', async () => {
    await mkdir(path.dirname(paths.secretsFile), { recursive: true });
    // A pid that cannot be alive (above the kernel's pid_max ceiling).
    await writeFile(`${paths.secretsFile}.lock`, JSON.stringify({ pid: 4_194_305, host: os.hostname(), token: 'dead', at: new Date().toISOString() }));
    const t0 = performance.now();
    await openSecretStore(paths, {}).ensurePortal('acme');
    expect(performance.now() - t0).toBeLessThan(2_000);
    await expect(stat(`${paths.secretsFile}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('the environment secret store (CI)', () => {
  async function envValue(): Promise<{ env: Record<string, string>; portal: PortalSecrets; link: { id: string; secret: string } }> {
    const store = openSecretStore(paths, {});
    await store.setPassword('acme', PASSWORD);
    const link = await store.ensureLink('acme', 'raj@acme.example');
    await store.replyKey();
    const portal = (await store.getPortal('acme'))!;
    return { env: { TWOFOLD_SECRETS: (await readFile(paths.secretsFile)).toString('base64') }, portal, link };
  }

  it('reads the same portal keys and wraps from TWOFOLD_SECRETS, ignoring the file', async () => {
    const { env, portal } = await envValue();
    const fromEnv = openSecretStore(projectPaths(root, { TWOFOLD_SECRETS_FILE: 'content/never.json' }), env);
    expect(fromEnv.source).toBe('env');
    expect(await fromEnv.ensurePortal('acme')).toEqual(portal);
    expect(await opens(await fromEnv.ensurePortal('acme'), PASSWORD)).toBe('opens');
    expect((await fromEnv.replyKey()).version).toBe(1);
  });

  it('returns existing links and refuses every change', async () => {
    const { env, link } = await envValue();
    const before = await readFile(paths.secretsFile, 'utf8');
    const store = openSecretStore(paths, env);
    expect((await store.ensureLink('acme', 'raj@acme.example')).secret).toBe(link.secret);
    for (const attempt of [
      () => store.setPassword('acme', NEW_PASSWORD, { replace: true }),
      () => store.ensureLink('acme', 'new@acme.example'),
      () => store.revokeLink('acme', 'raj@acme.example'),
      () => store.rotateReplyKey(),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'PORTAL_SECRETS_READ_ONLY' });
    }
    await expect(store.ensurePortal('globex')).rejects.toMatchObject({ code: 'PORTAL_NOT_FOUND' });
    expect(await readFile(paths.secretsFile, 'utf8')).toBe(before);
  });

  it.each([
    { name: 'not base64', value: 'not base64!' },
    { name: 'base64 of garbage', value: Buffer.from('hello').toString('base64') },
    { name: 'base64 of a wrong shape', value: Buffer.from('{"version":2,"portals":{}}').toString('base64') },
  ])('refuses a TWOFOLD_SECRETS that is $name', ({ value }) => {
    expect(() => openSecretStore(paths, { TWOFOLD_SECRETS: value })).toThrowError(expect.objectContaining({ code: 'PORTAL_SECRETS_INVALID' }));
  });
});

// Guard against a store that "reuses" wraps by re-deriving them: a fresh derivation has a new salt.
it('a fresh wrap of the same key and secret differs (so unchanged wrap bytes prove reuse)', async () => {
  const raw = new Uint8Array(32);
  const a = await wrapContentKey(raw, PASSWORD, { type: 'password' });
  const b = await wrapContentKey(raw, PASSWORD, { type: 'password' });
  expect(a.salt).not.toBe(b.salt);
  expect(a.wrapped).not.toBe(b.wrapped);
});

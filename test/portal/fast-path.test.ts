/**
 * The fast path (re-seal one portal in place) and a full build produce the same portal: after a
 * plan changes, the payload the fast path seals, once decrypted, equals the one a full build
 * seals for the same plan at the same moment. Also: an unchanged portal is not re-encrypted.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope, parseEnvelope } from '../../site/core/portal/portal-crypto.ts';
import { decodePortalPayload } from '../../site/core/portal/portal-payload-codec.ts';
import { generatePassword } from '../../site/core/portal/portal-password.ts';
import { editPlanText } from '../../site/core/plan/plan-file.ts';
import { buildPortals } from '../../site/lib/portal-build.ts';
import { portalFile, resealPortal } from '../../site/lib/portal-reseal-fs.ts';
import { projectPaths, type ProjectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore, type SecretStore } from '../../site/lib/secret-store-fs.ts';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';
import { tempProject } from '../helpers/run-twofold.ts';

const NOW = new Date('2026-12-03T15:00:00Z');
const SLUG = 'tamarind-vale';
let paths: ProjectPaths;
let store: SecretStore;

async function sealedPayload(): Promise<{ html: string; title: string; envelope: string }> {
  const secrets = (await store.getPortal(SLUG))!;
  const page = await readFile(portalFile(paths.distDir, secrets.portalId), 'utf8');
  const json = /<script type="application\/json" id="twofold-sealed">([^<]*)<\/script>/.exec(page)![1]!;
  const parsed = parseEnvelope(json);
  if (!parsed.ok) throw new Error(parsed.message);
  const payload = decodePortalPayload(await openEnvelope(parsed.envelope, secrets.contentKey))!;
  return { html: payload.html, title: payload.title, envelope: json };
}

beforeAll(async () => {
  const root = await tempProject(['plans', 'activity']);
  paths = projectPaths(root, {});
  store = openSecretStore(paths, {});
  await store.setPassword(SLUG, generatePassword());
  await buildPortals({ paths, env: {}, now: NOW });
}, 180_000);

describe('the fast path', () => {
  it('seals, after a change, exactly what a full build seals for the same plan', async () => {
    const file = path.join(paths.plansDir, `${SLUG}.mdx`);
    const text = await readFile(file, 'utf8');
    const changed = editPlanText(text, [
      { op: 'set', path: ['stages', 1, 'tasks', 0, 'status'], value: 'done' },
      { op: 'set', path: ['stages', 1, 'tasks', 0, 'done'], value: '2026-12-03' },
    ]);
    await writeFileAtomic(file, changed);

    const fast = await resealPortal({ paths, store, now: NOW }, SLUG);
    expect(fast.status).toBe('resealed');
    const fromFastPath = await sealedPayload();

    await buildPortals({ paths, env: {}, now: NOW });
    const fromBuild = await sealedPayload();

    expect(fromFastPath.html).toBe(fromBuild.html);
    expect(fromFastPath.title).toBe(fromBuild.title);
    // The change is really in it (not two equally stale portals).
    expect(fromBuild.html).toMatch(/status-done[^>]*data-task="T\d+"/);
  });

  it('reuses the sealed envelope of an unchanged portal instead of re-encrypting it', async () => {
    const before = await sealedPayload();
    const report = await buildPortals({ paths, env: {}, now: NOW });
    expect(report.reused).toContain(SLUG);
    expect(report.sealed).not.toContain(SLUG);
    expect((await sealedPayload()).envelope).toBe(before.envelope);
    const again = await resealPortal({ paths, store, now: NOW }, SLUG);
    expect(again.status).toBe('unchanged');
  }, 120_000);

  it('asks for a full build when the portal was never built', async () => {
    await store.setPassword('halvorsen-marine', generatePassword());
    const result = await resealPortal({ paths, store, now: NOW }, 'halvorsen-marine');
    expect(result.status).toBe('missing');
  });
});

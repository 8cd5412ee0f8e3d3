/**
 * What the portal page needs at build time: which plans get a portal (those with a password)
 * at which unguessable path, and the sealed envelope of each.
 *
 * `twofold build` passes its paths, clock and progress reporting in (see build-context.ts); a
 * plain `astro build` works too, with the current time.
 */
import { buildNow, buildPaths, reportBuildEvent, reportSealed } from './build-context.ts';
import type { Plan } from '../core/plan/plan-types.ts';
import { sealPortal, type KnownPlan, type SealContext, type SealedPortal } from './portal-seal-fs.ts';
import { openSecretStore } from './secret-store-fs.ts';

let context: SealContext | undefined;
function sealContext(): SealContext {
  if (!context) {
    const paths = buildPaths();
    context = { paths, store: openSecretStore(paths, process.env), now: buildNow() };
  }
  return context;
}

export async function portalRoutes(entries: Array<{ id: string; data: Plan; rendered?: { html: string } }>) {
  const ctx = sealContext();
  const routes = [];
  for (const entry of entries) {
    const secrets = await ctx.store.getPortal(entry.id);
    if (!secrets?.password) {
      reportBuildEvent({ kind: 'skipped', slug: entry.id });
      continue;
    }
    routes.push({ params: { portal: secrets.portalId }, props: { slug: entry.id, known: { plan: entry.data, bodyHtml: entry.rendered?.html ?? '' } } });
  }
  return routes;
}

export async function sealForPage(slug: string, known: KnownPlan): Promise<SealedPortal> {
  const sealed = await sealPortal(sealContext(), slug, known);
  if (!sealed) throw new Error(`portal ${slug} lost its password during the build`);
  reportSealed(sealed);
  return sealed;
}

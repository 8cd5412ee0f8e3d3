/**
 * Seal one plan's portal: gather the plan, its records and activity, render the payload with the
 * one renderer, and encrypt it under the portal's stored content key (no key derivation here).
 * The full build (site/pages/p/[portal].astro) and the worker's fast path (portal-reseal-fs.ts)
 * both call `sealPortal`, so they cannot drift apart.
 *
 * A sealed envelope is cached by the digest of everything it contains: an unchanged portal is
 * not re-encrypted, its previous envelope is reused byte for byte.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { planCheckins } from '../core/calendar/checkin-schedule.ts';
import { TwofoldError } from '../core/errors/problem.ts';
import { linkOwners, sealPortalPayload } from '../core/portal/portal-payload-codec.ts';
import { bodyKindOf, renderPlanBody } from '../core/render/plan-body.ts';
import { portalPayload, type PortalPayload } from '../core/render/portal-payload.ts';
import { portalCalendar } from './portal-calendar.ts';
import { writeFileAtomic } from './atomic-write-fs.ts';
import { nodeAesGcmEncrypt } from './node-aes-gcm.ts';
import { readActivity, readRecords } from './plan-records-fs.ts';
import type { Plan } from '../core/plan/plan-types.ts';
import { readPlan, type StoredPlan } from './plan-store-fs.ts';
import type { ProjectPaths } from './project-paths.ts';
import type { PortalSecrets, SecretStore } from './secret-store-fs.ts';

export interface SealContext {
  paths: ProjectPaths;
  store: SecretStore;
  now: Date;
}

export interface SealedPortal {
  slug: string;
  portalId: string;
  /** Envelope JSON for `<script type="application/json" id="twofold-sealed">`. */
  envelope: string;
  /** True when the cached envelope was reused (nothing in the portal changed). */
  reused: boolean;
  payload: PortalPayload;
}

/** The rendered narrative of a plan (the same function the content loader uses). */
export async function renderStoredBody(plan: StoredPlan): Promise<string> {
  const rendered = await renderPlanBody(plan.source.body, bodyKindOf(plan.file));
  if (rendered.problems.length) {
    throw new TwofoldError('PLAN_BODY_INVALID', `${plan.label}: ${rendered.problems[0]!.message}`, { problems: rendered.problems.map((p) => ({ ...p, file: plan.label })) });
  }
  return rendered.html;
}

/**
 * A plan already read and rendered by the caller: the build's content loader has both (it
 * validated the file with the same schema and rendered the body with the same renderer).
 */
export interface KnownPlan {
  plan: Plan;
  bodyHtml: string;
}

/** The payload a portal shows now; the plan is read from its file unless it is passed in. */
export async function portalPayloadFor(ctx: SealContext, slug: string, secrets: PortalSecrets, known?: KnownPlan): Promise<PortalPayload> {
  const [{ plan, bodyHtml }, records, activity] = await Promise.all([known ?? readKnownPlan(ctx, slug), readRecords(ctx.paths, slug), readActivity(ctx.paths, slug)]);
  const checkins = planCheckins(plan, slug, records, ctx.now);
  return portalPayload({
    plan,
    records,
    activity,
    bodyHtml,
    checkins,
    now: ctx.now,
    links: linkOwners(secrets.links, plan.people),
    calendar: portalCalendar(checkins, records, ctx.now),
  });
}

async function readKnownPlan(ctx: SealContext, slug: string): Promise<KnownPlan> {
  const stored = await readPlan(ctx.paths, slug);
  return { plan: stored.plan, bodyHtml: await renderStoredBody(stored) };
}

/** Seal a portal; undefined when the plan has no password yet (it is not published). */
export async function sealPortal(ctx: SealContext, slug: string, known?: KnownPlan): Promise<SealedPortal | undefined> {
  const secrets = await ctx.store.getPortal(slug);
  if (!secrets?.password) return undefined;
  const payload = await portalPayloadFor(ctx, slug, secrets, known);
  const digest = createHash('sha256')
    .update(JSON.stringify(payload))
    .update('\0')
    .update(secrets.kid)
    .update(JSON.stringify(secrets.wraps))
    .digest('hex');
  const cacheFile = path.join(ctx.paths.cacheDir, 'sealed', `${slug}.json`);
  const cached = await readCache(cacheFile);
  if (cached?.digest === digest) return { slug, portalId: secrets.portalId, envelope: cached.envelope, reused: true, payload };
  const envelope = await sealPortalPayload(secrets, payload, nodeAesGcmEncrypt);
  // A cache: rebuilt from scratch if lost, so it is not worth an fsync per portal.
  await writeFileAtomic(cacheFile, JSON.stringify({ digest, envelope }), { durable: false });
  return { slug, portalId: secrets.portalId, envelope, reused: false, payload };
}

async function readCache(file: string): Promise<{ digest: string; envelope: string } | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8'));
    return typeof value?.digest === 'string' && typeof value?.envelope === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

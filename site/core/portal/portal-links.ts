/**
 * Portal URLs and personal unlock links, pure and browser-safe (the unlock script parses the
 * fragment with the same function the CLI uses to write it).
 *
 *   portal:        <base>/p/<portalId>/
 *   personal link: <base>/p/<portalId>/#u=<linkId>.<secret>
 *
 * The link's secret sits in the `#fragment`, which browsers never send to a server; the page
 * removes it from the address bar at once. The portal id is random, not derived from the plan.
 */
import { LINK_ID_SHAPE } from './portal-crypto.ts';

/** 128-bit random ids and secrets are 26 base32 characters. */
export const PORTAL_ID_BYTES = 16;
export const LINK_ID_BYTES = 8;
export const LINK_SECRET_BYTES = 16;
export const PORTAL_ID_SHAPE = /^[a-z2-7]{26,64}$/;
export const LINK_SECRET_SHAPE = /^[a-z2-7]{26,64}$/;
export const UNLOCK_FRAGMENT_PREFIX = '#u=';
/** Where portals are served under the site's base URL. The Astro route is `p/[portalId]`. */
export const PORTAL_ROUTE = 'p';

export interface UnlockLink {
  linkId: string;
  secret: string;
}

export function isPortalId(value: string): boolean {
  return PORTAL_ID_SHAPE.test(value);
}

/** `/p/<portalId>/` */
export function portalPath(portalId: string): string {
  if (!isPortalId(portalId)) throw new Error('not a portal id');
  return `/${PORTAL_ROUTE}/${portalId}/`;
}

/** `<base>/p/<portalId>/`; `base` is an http(s) URL without a trailing slash (see personal-link.ts). */
export function portalUrl(baseUrl: string, portalId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${portalPath(portalId)}`;
}

/** `#u=<linkId>.<secret>` */
export function unlockFragment(link: UnlockLink): string {
  if (!LINK_ID_SHAPE.test(link.linkId) || !LINK_SECRET_SHAPE.test(link.secret)) throw new Error('not a link id and secret');
  return `${UNLOCK_FRAGMENT_PREFIX}${link.linkId}.${link.secret}`;
}

export function unlockLinkUrl(baseUrl: string, portalId: string, link: UnlockLink): string {
  return `${portalUrl(baseUrl, portalId)}${unlockFragment(link)}`;
}

/** The link in a `location.hash`, or undefined when it is not a well-formed unlock fragment. */
export function parseUnlockFragment(hash: string): UnlockLink | undefined {
  if (typeof hash !== 'string' || !hash.startsWith(UNLOCK_FRAGMENT_PREFIX) || hash.length > 200) return undefined;
  // Mail clients sometimes upper-case or append punctuation to links; accept only the exact form.
  const parts = hash.slice(UNLOCK_FRAGMENT_PREFIX.length).split('.');
  if (parts.length !== 2) return undefined;
  const [linkId, secret] = parts as [string, string];
  return LINK_ID_SHAPE.test(linkId) && LINK_SECRET_SHAPE.test(secret) ? { linkId, secret } : undefined;
}

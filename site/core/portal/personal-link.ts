/**
 * Personal unlock links as the CLI prints them and the worker puts them in task emails. The store
 * is passed in (site/lib/secret-store-fs.ts provides it), so this stays pure.
 */
import { TwofoldError } from '../errors/problem.ts';
import { unlockLinkUrl } from './portal-links.ts';

/** Where portals are served when nothing else is configured: the Astro dev/preview server. */
export const DEFAULT_PORTAL_BASE_URL = 'http://localhost:4321';
export const PORTAL_BASE_URL_ENV = 'TWOFOLD_PORTAL_URL';

/** The part of the secret store personal links need. */
export interface PersonalLinkStore {
  ensureLink(slug: string, email: string): Promise<{ portalId: string; id: string; secret: string }>;
}

/**
 * The portals' base URL: the option, else TWOFOLD_PORTAL_URL, else DEFAULT_PORTAL_BASE_URL.
 * Must be http(s) with no query or fragment; returned without a trailing slash.
 */
export function resolvePortalBaseUrl(option: string | undefined, env: Record<string, string | undefined>): string {
  // An empty variable (as CI systems set for undefined secrets) counts as unset.
  const raw = [option, env[PORTAL_BASE_URL_ENV]].find((v) => v !== undefined && v.trim() !== '') ?? DEFAULT_PORTAL_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new TwofoldError('PORTAL_BASE_URL_INVALID', `"${raw.slice(0, 200)}" is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new TwofoldError('PORTAL_BASE_URL_INVALID', `"${raw.slice(0, 200)}" must be an http(s) URL without query, fragment or credentials`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The person's personal unlock link, `<base>/p/<portalId>/#u=<linkId>.<secret>`, created when
 * missing (one PBKDF2 derivation then; a new link opens the portal once it is sealed again).
 * The caller checks that `email` is a person of the plan.
 */
export async function personalLinkUrl(store: PersonalLinkStore, slug: string, email: string, baseUrl: string): Promise<string> {
  const link = await store.ensureLink(slug, email);
  return unlockLinkUrl(resolvePortalBaseUrl(baseUrl, {}), link.portalId, { linkId: link.id, secret: link.secret });
}

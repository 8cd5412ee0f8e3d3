/**
 * Which URLs a plan may link to, one rule for every place a plan puts a link in the portal (a
 * task's `link:`, links and images in the body, `href`/`src` in MDX): http(s) and mailto, or a
 * relative URL. Anything else (`javascript:`, `data:`, `vbscript:`, `file:`) could run code or
 * load content when a client clicks it in the decrypted portal.
 */

const SAFE_SCHEME = /^(https?|mailto):/i;
const ANY_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** Browsers ignore control characters and spaces inside a scheme ("java\tscript:"): so does this. */
const compact = (url: string) => url.replace(/[\u0000-\u0020\u007f]+/g, '');

/** True for a URL with a scheme other than http(s) or mailto; relative URLs are safe. */
export function unsafeLinkUrl(url: string): boolean {
  const c = compact(url);
  return ANY_SCHEME.test(c) && !SAFE_SCHEME.test(c);
}

/** True for an absolute http(s) or mailto URL (a task's `link:` must be one). */
export function absoluteLinkUrl(url: string): boolean {
  return SAFE_SCHEME.test(compact(url)) && url === url.trim();
}

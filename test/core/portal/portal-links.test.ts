import { describe, expect, it } from 'vitest';
import { personalLinkUrl, resolvePortalBaseUrl } from '../../../site/core/portal/personal-link.ts';
import { parseUnlockFragment, portalUrl, unlockLinkUrl } from '../../../site/core/portal/portal-links.ts';

const portalId = 'abcdefghijklmnopqrstuvwxyz';
const link = { linkId: 'abcdefghijklm', secret: 'qrstuvwxyz234567abcdefghij' };

describe('portal and unlock link URLs', () => {
  it('puts the secret only in the fragment', () => {
    const url = new URL(unlockLinkUrl('https://plans.example.com/onboarding', portalId, link));
    expect(url.pathname).toBe(`/onboarding/p/${portalId}/`);
    expect(url.search).toBe('');
    expect(url.hash).toBe(`#u=${link.linkId}.${link.secret}`);
    expect(parseUnlockFragment(url.hash)).toEqual(link);
  });

  it.each([
    { name: 'no fragment', hash: '' },
    { name: 'another fragment', hash: '#portal' },
    { name: 'no secret', hash: `#u=${link.linkId}` },
    { name: 'a short secret', hash: `#u=${link.linkId}.abc` },
    { name: 'an upper-cased link', hash: `#u=${link.linkId.toUpperCase()}.${link.secret.toUpperCase()}` },
    { name: 'trailing punctuation', hash: `#u=${link.linkId}.${link.secret}).` },
    { name: 'three parts', hash: `#u=${link.linkId}.${link.secret}.x` },
    { name: 'a script', hash: '#u=<script>alert(1)</script>' },
  ])('reads no link from $name', ({ hash }) => {
    expect(parseUnlockFragment(hash)).toBeUndefined();
  });

  it('refuses to build a URL for something that is not a portal id', () => {
    expect(() => portalUrl('https://x.example', '../../etc')).toThrow();
  });
});

describe('resolvePortalBaseUrl', () => {
  it.each([
    { name: 'the option first', option: 'https://a.example/', env: { TWOFOLD_PORTAL_URL: 'https://b.example' }, want: 'https://a.example' },
    { name: 'then TWOFOLD_PORTAL_URL', option: undefined, env: { TWOFOLD_PORTAL_URL: 'https://b.example/plans/' }, want: 'https://b.example/plans' },
    { name: 'then the local preview', option: undefined, env: {}, want: 'http://localhost:4321' },
    { name: 'an empty variable as unset (CI sets undefined secrets to "")', option: undefined, env: { TWOFOLD_PORTAL_URL: '' }, want: 'http://localhost:4321' },
  ])('takes $name', ({ option, env, want }) => {
    expect(resolvePortalBaseUrl(option, env)).toBe(want);
  });

  it.each([
    { name: 'not a URL', option: 'plans.example.com' },
    { name: 'javascript:', option: 'javascript:alert(1)' },
    { name: 'a query', option: 'https://a.example/?x=1' },
    { name: 'a fragment', option: 'https://a.example/#x' },
    { name: 'credentials', option: 'https://user:pw@a.example/' },
  ])('refuses $name', ({ option }) => {
    expect(() => resolvePortalBaseUrl(option, {})).toThrowError(expect.objectContaining({ code: 'PORTAL_BASE_URL_INVALID' }));
  });

  it('builds a personal link from the store the caller passes in', async () => {
    const seen: string[] = [];
    const store = { ensureLink: async (slug: string, email: string) => (seen.push(`${slug} ${email}`), { portalId, id: link.linkId, secret: link.secret }) };
    expect(await personalLinkUrl(store, 'acme', 'raj@acme.example', 'https://p.example/')).toBe(`https://p.example/p/${portalId}/#u=${link.linkId}.${link.secret}`);
    expect(seen).toEqual(['acme raj@acme.example']);
  });
});

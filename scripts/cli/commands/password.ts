/**
 * `twofold password <slug> [--rotate]`: create (or rotate) a portal's password. The password is
 * generated (100 bits, see portal-password.ts), printed once and never shown again; replacing
 * one needs --rotate and re-keys the portal, so the old password stops working after the next
 * build. Personal links keep working: they are re-wrapped under the new key.
 */
import { PBKDF2_ITERATIONS } from '../../../site/core/portal/portal-crypto.ts';
import { portalUrl } from '../../../site/core/portal/portal-links.ts';
import { generatePassword, PASSWORD_ENTROPY_BITS } from '../../../site/core/portal/portal-password.ts';
import { DEFAULT_PORTAL_BASE_URL, PORTAL_BASE_URL_ENV, resolvePortalBaseUrl } from '../../../site/core/portal/personal-link.ts';
import { TwofoldError } from '../../../site/core/errors/problem.ts';
import { findPlanFile } from '../../../site/lib/plan-store-fs.ts';
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const command: CliCommand = {
  name: 'password',
  summary: "create or rotate a portal's password (generated, shown once)",
  usage: [
    'npx twofold password <slug> [--rotate] [--base-url <url>]',
    '',
    '  --rotate          replace the existing password and re-key the portal; the old password',
    '                    stops working after the next build (default: refuse to replace one)',
    `  --base-url <url>  where portals are served, for the address printed (default: $${PORTAL_BASE_URL_ENV}, else ${DEFAULT_PORTAL_BASE_URL})`,
    '',
    `Passwords are ${PASSWORD_ENTROPY_BITS} bits (four groups of five characters), derived with PBKDF2-SHA256 × ${PBKDF2_ITERATIONS.toLocaleString('en-US')}.`,
    'Secrets live in .twofold/secrets.json (TWOFOLD_SECRETS_FILE), never in content/ or dist/.',
  ].join('\n'),
  options: { rotate: { type: 'boolean', default: false }, 'base-url': { type: 'string' } },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new TwofoldError('CLI_USAGE', 'password: give exactly one plan slug', { hint: `Usage:\n${command.usage}` });
    const slug = positionals[0]!;
    const rotate = values.rotate === true;
    await findPlanFile(ctx.paths, slug);
    const baseUrl = resolvePortalBaseUrl(values['base-url'] as string | undefined, ctx.env);
    const store = openSecretStore(ctx.paths, ctx.env);
    const before = await store.getPortal(slug);
    if (before?.password && !rotate) {
      throw new TwofoldError('PORTAL_PASSWORD_EXISTS', `the portal "${slug}" already has a password; it was shown when it was created`, {
        hint: `Run \`npx twofold password ${slug} --rotate\` to replace it (the old password stops working after the next build).`,
      });
    }
    const password = generatePassword();
    const portal = await store.setPassword(slug, password, { replace: rotate });
    const rotated = before?.password !== undefined;
    print(ctx.stdout, [
      `${rotated ? 'New password' : 'Password'} for the portal of ${slug} — shown once, keep it in your password manager:`,
      '',
      `  ${password}`,
      '',
      `Portal: ${portalUrl(baseUrl, portal.portalId)}`,
      rotated
        ? 'The portal was re-keyed: after the next `npx twofold build` the old password no longer opens it (personal links keep working).'
        : 'It opens the portal after the next `npx twofold build`.',
    ].join('\n'));
    return 0;
  },
};

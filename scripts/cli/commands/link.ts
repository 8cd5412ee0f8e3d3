/**
 * `twofold link <slug> <email> [--revoke] [--base-url <url>]`: print a person's personal unlock
 * link (`<base>/p/<portalId>/#u=<linkId>.<secret>`), creating it when missing; the secret sits
 * in the #fragment, which browsers never send to a server. `--revoke` removes the link and
 * re-keys the portal, so the link stops working after the next build.
 */
import { personByEmail } from '../../../site/core/plan/plan-model.ts';
import { DEFAULT_PORTAL_BASE_URL, PORTAL_BASE_URL_ENV, personalLinkUrl, resolvePortalBaseUrl } from '../../../site/core/portal/personal-link.ts';
import { TwofoldError } from '../../../site/core/errors/problem.ts';
import { readPlan } from '../../../site/lib/plan-store-fs.ts';
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const command: CliCommand = {
  name: 'link',
  summary: "print (or revoke) a person's personal unlock link to a portal",
  usage: [
    'npx twofold link <slug> <email> [--revoke] [--base-url <url>]',
    '',
    '  --revoke          revoke the person\'s link and re-key the portal; the link stops working',
    '                    after the next build (the password and other links keep working)',
    `  --base-url <url>  where portals are served (default: $${PORTAL_BASE_URL_ENV}, else ${DEFAULT_PORTAL_BASE_URL})`,
    '',
    'The email must be a person of the plan. A link opens the portal with that person\'s tasks',
    'highlighted; it never performs an action. A new link works after the next build.',
  ].join('\n'),
  options: { revoke: { type: 'boolean', default: false }, 'base-url': { type: 'string' } },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 2) throw new TwofoldError('CLI_USAGE', 'link: give a plan slug and an email', { hint: `Usage:\n${command.usage}` });
    const [slug, email] = positionals as [string, string];
    const { plan } = await readPlan(ctx.paths, slug);
    const person = personByEmail(plan, email);
    if (!person) {
      throw new TwofoldError('PORTAL_PERSON_UNKNOWN', `${email.slice(0, 254)} is not a person of the plan "${slug}"`, {
        hint: `People of this plan: ${plan.people.map((p) => p.email).join(', ')}.`,
      });
    }
    const baseUrl = resolvePortalBaseUrl(values['base-url'] as string | undefined, ctx.env);
    const store = openSecretStore(ctx.paths, ctx.env);
    if (values.revoke === true) {
      const revoked = await store.revokeLink(slug, person.email);
      print(ctx.stdout, revoked
        ? `Revoked ${person.name}'s personal link to ${slug}; the portal was re-keyed. Run \`npx twofold build\` to make it stop working.`
        : `${person.name} has no personal link to ${slug}; nothing to revoke.`);
      return 0;
    }
    const existed = (await store.getPortal(slug))?.links.some((l) => l.person === person.email) ?? false;
    const url = await personalLinkUrl(store, slug, person.email, baseUrl);
    print(ctx.stdout, url);
    if (!existed) print(ctx.stderr, `New personal link for ${person.name}: it opens the portal after the next \`npx twofold build\`.`);
    return 0;
  },
};

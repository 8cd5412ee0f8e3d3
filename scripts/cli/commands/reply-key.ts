/** `twofold reply-key [--rotate]` — show or rotate the key that signs reply addresses. */
import { openSecretStore } from '../../../site/lib/secret-store-fs.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const command: CliCommand = {
  name: 'reply-key',
  summary: 'show the reply-token key version in use, or start a new one with --rotate',
  usage: `npx twofold reply-key [--rotate]

Reply addresses in task emails carry a token signed with the reply-token key in
.twofold/secrets.json. Without options, prints the version in use (never the key).

  --rotate   start a new key version for new emails; tokens of older versions keep verifying
             until you delete their version from .twofold/secrets.json`,
  options: { rotate: { type: 'boolean' } },
  positionals: false,
  async run({ values }, ctx) {
    const store = openSecretStore(ctx.paths, ctx.env);
    const key = values.rotate ? await store.rotateReplyKey() : await store.replyKey();
    print(ctx.stdout, values.rotate ? `New reply-token key version ${key.version} in use; older versions still verify.` : `Reply-token key version ${key.version} in use.`);
    return 0;
  },
};

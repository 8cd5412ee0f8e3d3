/** `twofold build` — check the plans, build and seal every portal into dist/, scan for leaks, publish. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { formatProblem } from '../../../site/core/errors/format-problem.ts';
import { isTwofoldError, TwofoldError } from '../../../site/core/errors/problem.ts';
import { buildPortals } from '../../../site/lib/portal-build.ts';
import { clockFromOption, NOW_OPTION_DOC } from '../cli-clock.ts';
import { print, type CliCommand } from '../cli-command.ts';
import { createProgress } from '../progress.ts';

export const command: CliCommand = {
  name: 'build',
  summary: 'check the plans and build every portal, sealed, into dist/',
  usage: `npx twofold build [--now <date|time>] [--publish <command>]

Checks every plan as \`twofold check\` does, builds one password-protected portal per plan that
has a password (\`twofold password <slug>\`) into dist/p/<unguessable id>/, scans the output for
any plan text in the clear, then replaces dist/ in one step. A failure leaves dist/ as it was.

  ${NOW_OPTION_DOC}
  --publish <command>  run this shell command after a successful build, e.g.
                       "rsync -a --delete dist/ web:/srv/plans/" (default: $TWOFOLD_PUBLISH_COMMAND, else none)`,
  options: { now: { type: 'string' }, publish: { type: 'string' } },
  positionals: false,
  async run({ values }, ctx) {
    const clock = clockFromOption(values.now as string | undefined);
    const progress = createProgress(ctx.stdout, ctx.isTTY);
    const started = performance.now();
    let report;
    try {
      report = await buildPortals({ paths: ctx.paths, env: ctx.env, now: clock.instant, hooks: progress });
    } catch (err) {
      progress.done();
      if (isTwofoldError(err) && err.problems.length) {
        for (const p of err.problems) print(ctx.stderr, formatProblem(p));
        throw new TwofoldError(err.code, err.message);
      }
      throw err;
    }
    for (const s of report.skipped) print(ctx.stdout, `  skipped ${s.slug}: ${s.reason}`);
    const publish = (values.publish as string | undefined) ?? ctx.env.TWOFOLD_PUBLISH_COMMAND;
    if (publish) {
      progress.phase('publish command');
      await runPublish(publish, ctx.paths.distDir, ctx.cwd);
    }
    print(ctx.stdout, progress.summary());
    const built = report.sealed.length + report.reused.length;
    print(
      ctx.stdout,
      `Built ${built} portal${built === 1 ? '' : 's'} (${report.sealed.length} sealed, ${report.reused.length} unchanged), skipped ${report.skipped.length}, ` +
        `leak scan clean over ${report.leakScan.files} files, in ${((performance.now() - started) / 1000).toFixed(1)} s → ${path.relative(ctx.cwd, report.distDir) || report.distDir}/`,
    );
    return 0;
  },
};

function runPublish(command: string, distDir: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, cwd, stdio: 'inherit', env: { ...process.env, TWOFOLD_DIST_DIR: distDir } });
    child.on('error', (err) => reject(new TwofoldError('BUILD_PUBLISH_FAILED', `could not run the publish command: ${err.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new TwofoldError('BUILD_PUBLISH_FAILED', `the publish command exited with ${code}; dist/ is built and current`))));
  });
}

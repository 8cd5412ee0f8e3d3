/**
 * One worker process of the benchmark's two-process throughput run: applies the replies in
 * $BENCH_REPLIES_DIR whose index ≡ $BENCH_SHARE (mod $BENCH_SHARES), with its own local store
 * (TWOFOLD_HOME) and the shared content, as a second `twofold worker` on the same mailbox would.
 * Prints one JSON line: { applied, handled, ms }.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadWorkerConfig } from '../../mail-worker/config/worker-config.ts';
import { createWorkerCore } from '../../mail-worker/worker.ts';
import { REPLIES_IN_FLIGHT } from './bench-replies.ts';
import { projectPaths } from '../../site/lib/project-paths.ts';

const dir = process.env.BENCH_REPLIES_DIR!;
const share = Number(process.env.BENCH_SHARE);
const shares = Number(process.env.BENCH_SHARES);
const paths = projectPaths(process.cwd(), process.env);
const config = await loadWorkerConfig(paths, { ...process.env, TWOFOLD_TICK_MINUTES: '0' });
const core = await createWorkerCore({ paths, env: process.env, config, reseal: false, fullBuilds: false, tickAfterReplies: false, log: () => {} });
const names = (await readdir(dir)).filter((n) => n.endsWith('.eml')).sort().filter((_, i) => i % shares === share);
const raws = await Promise.all(names.map((n) => readFile(path.join(dir, n))));
// A running worker holds its plans parsed and its secret store read: load the plans this share
// will touch, and the store (a megabyte of JSON at a thousand portals, parsed once).
await core.store.replyKey();
for (const raw of raws) {
  const slug = /^X-Bench-Plan: (\S+)$/m.exec(raw.toString('latin1'))?.[1];
  if (slug) await core.plans.get(slug);
}
// Start together: the parent measures from its "go" to the last child's result.
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
let next = 0;
let applied = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: REPLIES_IN_FLIGHT }, async () => {
    while (next < raws.length) {
      const outcome = await core.processor.handle(raws[next++]!, { source: 'smtp', receivedAt: new Date() });
      if (outcome.reason === 'REPLY_APPLIED') applied++;
    }
  }),
);
const ms = performance.now() - t0;
await core.close();
process.stdout.write(`${JSON.stringify({ applied, handled: raws.length, ms })}\n`);

// Preloaded by the benchmark (through NODE_OPTIONS, so child processes get it too) into every
// process of a measured command: on exit each writes its peak resident set size (kilobytes,
// from getrusage) to $BENCH_MAXRSS_DIR/<pid>.json.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

process.on('exit', () => {
  const dir = process.env.BENCH_MAXRSS_DIR;
  if (dir) writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, argv: process.argv.slice(1, 3) }));
});

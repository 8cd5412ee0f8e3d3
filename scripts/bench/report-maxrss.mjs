// Preloaded by the benchmark (`node --import`) into a measured process: on exit, write the
// process's peak resident set size (kilobytes, from getrusage) to $BENCH_MAXRSS_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.BENCH_MAXRSS_FILE;
  if (file) writeFileSync(file, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
});

/**
 * Progress on long work: a bar on a terminal, a line every 10% otherwise (CI logs), and a
 * per-phase time summary at the end.
 */
import type { Writable } from 'node:stream';

export interface Progress {
  phase(name: string, total?: number): void;
  tick(done: number, total?: number, label?: string): void;
  /** End the current phase and return the time table so far. */
  done(): Array<{ phase: string; ms: number }>;
  summary(): string;
}

const BAR_WIDTH = 28;

export function createProgress(out: Writable, isTTY: boolean, now: () => number = () => performance.now()): Progress {
  const phases: Array<{ phase: string; ms: number }> = [];
  let current: { name: string; start: number; total: number; lastDecile: number } | undefined;

  const end = () => {
    if (!current) return;
    if (isTTY && current.total > 0) out.write('\n');
    phases.push({ phase: current.name, ms: Math.round(now() - current.start) });
    current = undefined;
  };

  return {
    phase(name, total = 0) {
      end();
      current = { name, start: now(), total, lastDecile: -1 };
      out.write(`▸ ${name}${total ? ` (${total})` : ''}${isTTY && total ? '' : '\n'}`);
    },
    tick(done, total, label) {
      if (!current) return;
      const t = total ?? current.total;
      if (!t) return;
      current.total = t;
      if (isTTY) {
        const filled = Math.round((done / t) * BAR_WIDTH);
        out.write(`\r▸ ${current.name} [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${done}/${t}${label ? ` ${label}` : ''}   `);
      } else {
        const decile = Math.floor((done / t) * 10);
        if (decile > current.lastDecile) {
          current.lastDecile = decile;
          out.write(`  ${current.name}: ${done}/${t}\n`);
        }
      }
    },
    done() {
      end();
      return phases;
    },
    summary() {
      end();
      const total = phases.reduce((n, p) => n + p.ms, 0);
      const width = Math.max(16, ...phases.map((p) => p.phase.length));
      const row = (name: string, ms: number) => `  ${name.padEnd(width)} ${(ms / 1000).toFixed(2).padStart(7)} s`;
      return [...phases.map((p) => row(p.phase, p.ms)), row('total', total)].join('\n');
    },
  };
}

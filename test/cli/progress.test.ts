import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../scripts/cli/progress.ts';

function captured() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { out, text: () => text };
}

describe('progress', () => {
  it('prints a line when work starts and every tenth after when not on a terminal (CI logs), not one per item', () => {
    const { out, text } = captured();
    const progress = createProgress(out, false, () => 0);
    progress.phase('seal portals', 1000);
    for (let i = 1; i <= 1000; i++) progress.tick(i);
    const lines = text().trim().split('\n');
    expect(lines[0]).toBe('▸ seal portals (1000)');
    expect(lines.slice(1)).toEqual(['  seal portals: 1/1000', ...Array.from({ length: 10 }, (_, i) => `  seal portals: ${(i + 1) * 100}/1000`)]);
  });

  it('sums the phases in a table whose times line up however long a phase name is', () => {
    const { out } = captured();
    let clock = 0;
    const progress = createProgress(out, false, () => clock);
    progress.phase('check');
    clock += 1500;
    progress.phase('throughput: parse, authenticate, apply');
    clock += 250;
    const rows = progress.summary().split('\n');
    expect(rows.map((r) => r.trim().split(/\s{2,}/))).toEqual([
      ['check', '1.50 s'],
      ['throughput: parse, authenticate, apply', '0.25 s'],
      ['total', '1.75 s'],
    ]);
    expect(new Set(rows.map((r) => r.length)).size).toBe(1);
  });
});

/**
 * The figures for the closing note of "Nothing lost, nobody in": faults injected and survived,
 * hostile inputs tried (per kind), and replies under load — printed from test/faults/figures.ts,
 * the inventory the other test files of this folder read their sizes from. Every entry must
 * name a test that exists, so the inventory cannot drift from the tests. What each test
 * measured (applied, confirmed, lost) is printed by that test itself and asserted there.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { corpusMessages, mailFixtures } from '../helpers/corpus-messages.ts';
import { COVERED_ELSEWHERE, FAULTS, GRAMMAR_FUZZ, HOSTILE, LOAD, processorFuzzCases } from './figures.ts';

const here = (file: string) => readFileSync(fileURLToPath(new URL(`./${file}`, import.meta.url)), 'utf8');

describe('the figures of test/faults', () => {
  it.each([...FAULTS.map((f) => ({ name: f.fault, file: f.file, test: f.test })), ...HOSTILE.map((h) => ({ name: h.kind, file: h.file, test: h.test }))])('$file has the test for: $name', ({ file, test }) => {
    expect(here(file)).toContain(test);
  });

  it('prints them', () => {
    const sources = corpusMessages().length + mailFixtures().length;
    const fuzz = processorFuzzCases(sources);
    const grammarLines = GRAMMAR_FUZZ.families * (GRAMMAR_FUZZ.linesPerFamily + GRAMMAR_FUZZ.repliesPerFamily * 2);
    const hostile = [
      { kind: `whole-processor fuzz (${sources} corpus/fixture messages mutated and re-addressed, mutated valid replies, random bytes)`, cases: fuzz },
      { kind: `reply-grammar fuzz, lines (at least; the exact count is printed by grammar-fuzz.test.ts)`, cases: grammarLines },
      ...HOSTILE.map((h) => ({ kind: h.kind, cases: h.cases })),
    ];
    const replies = LOAD.reduce((sum, l) => sum + l.replies, 0);
    const lines = [
      `Faults injected and survived: ${FAULTS.length}`,
      ...FAULTS.map((f, i) => `  ${i + 1}. ${f.fault} — ${f.injected} → ${f.survived}`),
      `Hostile inputs tried: ${hostile.reduce((sum, h) => sum + h.cases, 0)}`,
      ...hostile.map((h) => `  ${String(h.cases).padStart(5)}  ${h.kind}`),
      `Replies under load: ${replies} sent, ${replies} applied exactly once and confirmed exactly once, 0 lost (asserted per burst in load.test.ts)`,
      ...LOAD.map((l) => `  ${String(l.replies).padStart(5)}  ${l.burst}`),
      'Covered by other test files (not repeated here):',
      ...COVERED_ELSEWHERE.map((c) => `  - ${c}`),
    ];
    // eslint-disable-next-line no-console
    console.log(lines.join('\n'));
    expect(fuzz).toBeGreaterThanOrEqual(1_000);
    expect(grammarLines).toBeGreaterThanOrEqual(GRAMMAR_FUZZ.minLines);
    expect(replies).toBe(250);
  });
});

/**
 * Fuzzing the reply grammar (`parseReply`) with seeded random text, one reply line at a time and
 * in multi-line replies: random characters (controls, bidi overrides, emoji, lone surrogates),
 * soups of the grammar's own words, and valid commands mutated character by character. For
 * every input: no throw, within a time bound, and a result of the right shape — known verbs,
 * task ids the plan has (or none), dates that are calendar dates, values within their limits
 * and free of control characters. Random characters never become a status change.
 */
import { describe, expect, it } from 'vitest';
import { MAX_NOTE_CHARS, MAX_REASON_CHARS, REPLY_VERBS, type ReplyCommand } from '../../site/core/reply/reply-command.ts';
import { parseReply, type ParseReplyOptions } from '../../site/core/reply/reply-grammar.ts';
import { prng, type Rng } from './mutate.ts';
import { GRAMMAR_FUZZ } from './figures.ts';

const SENT = new Date('2026-12-17T16:00:00Z');
const TASK_IDS = ['T1', 'T2', 'T3', 'T14', 'review'];
const TASK_EMAIL: ParseReplyOptions = { timezone: 'Australia/Sydney', sentAt: SENT, defaultTask: 'T1', taskIds: TASK_IDS, senderName: 'Raj Iyer' };
const DIGEST: ParseReplyOptions = { ...TASK_EMAIL, defaultTask: undefined };
/** Per input; chrono-node's date parsing is the slowest part. */
const INPUT_TIME_LIMIT_MS = 250;

/** Random characters: controls, bidi overrides, zero-width, emoji, a lone surrogate, and check marks (which act only at a line's edge). */
const CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789 :;,.-!?"\'()[]#<>@/\\*_~\t\u2014\u00E9\u4E2D\u0000\u0007\u001b\u202E\u2066\u200B\uFEFF\uD83D\uDE00\u2705\uFE0F\uD800';
const CHECK_MARK_AT_EDGE = /^[\s\p{Cc}\u200B\u202E\u2066\uFEFF]*[\u2705\u2714\u2611\u2713]|[\u2705\u2714\u2611\u2713][\s\p{Cc}\uFE0F\u200B\u200D\u202E\u2066\uFEFF]*$/u;
const WORDS = ['done', 'blocked', 'block', 'unblock', 'reopen', 'in progress', 'in-progress', 'due', 'due:', 'note', 'note:', 'help', 'thanks', 'completed', 'finished', '✅', 'T1', 'T2', 'T3', 'T14', 'T99', 'review', 'next', 'friday', 'tomorrow', 'dec', '18', '2027-01-08', '3/4', 'waiting', 'on', 'IT', ':', '-', ',', '!', 'Hi', 'Raj', 'Sent', 'from', 'my', 'iPhone', '>', 'wrote:'];
const COMMANDS = ['done', 'blocked: waiting on IT', 'unblock', 'reopen', 'in progress', 'due: 2027-01-08', 'due: next friday', 'note: called the vendor', 'T2 done', 'T3 blocked: legal review', 'T14 due: Dec 18', 'review in progress', 'help', 'Done, thanks!', '✅ T2'];

type Family = 'random characters' | 'grammar word soup' | 'mutated commands';

function line(family: Family, rng: Rng): string {
  switch (family) {
    case 'random characters':
      return rng.text(CHARS, 1 + rng.int(300));
    case 'grammar word soup':
      return Array.from({ length: 1 + rng.int(12) }, () => rng.pick(WORDS)).join(rng.pick([' ', '', ': ', ', ']));
    case 'mutated commands': {
      const chars = [...rng.pick(COMMANDS)];
      for (let k = 1 + rng.int(4); k > 0; k--) {
        const at = rng.int(chars.length + 1);
        const op = rng.int(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, rng.pick([...CHARS]));
        else chars[at] = rng.pick([...CHARS]);
      }
      return chars.join('');
    }
  }
}

function shapeProblem(command: ReplyCommand): string | undefined {
  if (!(REPLY_VERBS as readonly string[]).includes(command.verb)) return `unknown verb ${command.verb}`;
  if (command.task !== undefined && !TASK_IDS.some((id) => id.toLowerCase() === command.task!.toLowerCase()) && !/^[A-Za-z][A-Za-z0-9_-]{0,11}$/.test(command.task)) return `task id ${JSON.stringify(command.task)}`;
  if (command.verb === 'due' && !/^\d{4}-\d{2}-\d{2}$/.test(command.value ?? '')) return `due value ${JSON.stringify(command.value)}`;
  if (command.verb === 'blocked' && (command.value ?? '').length > MAX_REASON_CHARS) return 'reason too long';
  if (command.verb === 'note' && (command.value ?? '').length > MAX_NOTE_CHARS) return 'note too long';
  if (command.value !== undefined && /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(command.value)) return `control characters in ${JSON.stringify(command.value)}`;
  return undefined;
}

const FAMILIES: Family[] = ['random characters', 'grammar word soup', 'mutated commands'];
const tally = { inputs: 0, lines: 0, commands: 0, problems: 0 };

describe('text that only looks like a command', () => {
  it.each([
    { name: 'a check mark inside a sentence', text: "I can't see the \u2705 next to T3 in the portal" },
    { name: 'a check mark between words', text: 'the \u2705 emoji looks odd on my phone' },
    { name: 'a check mark glued inside a word', text: 'x\u2705y' },
    { name: 'a command word inside a sentence', text: 'is it done yet or still blocked?' },
  ])('$name stays a note, never a status change', ({ text }) => {
    expect(parseReply(text, TASK_EMAIL).commands).toEqual([{ task: 'T1', verb: 'note', value: text }]);
  });

  it.each([
    { name: 'a check mark leading a remark', text: '\u2705 uploaded it' },
    { name: 'a check mark ending a remark', text: 'uploaded it \u2705' },
  ])('$name still means done', ({ text }) => {
    expect(parseReply(text, TASK_EMAIL).commands[0]).toEqual({ task: 'T1', verb: 'done' });
  });
});

describe('fuzzing the reply grammar', () => {
  it.each(FAMILIES)(`%s: ${GRAMMAR_FUZZ.linesPerFamily} single lines and ${GRAMMAR_FUZZ.repliesPerFamily} multi-line replies, each parsed in time without a throw, every command well formed`, (family) => {
    const rng = prng(GRAMMAR_FUZZ.seed + FAMILIES.indexOf(family));
    const failures: string[] = [];
    const inputs = [
      ...Array.from({ length: GRAMMAR_FUZZ.linesPerFamily }, () => line(family, rng)),
      ...Array.from({ length: GRAMMAR_FUZZ.repliesPerFamily }, () => Array.from({ length: 2 + rng.int(8) }, () => line(family, rng)).join(rng.pick(['\n', '\r\n', '\r', '\u2028']))),
    ];
    for (const [i, text] of inputs.entries()) {
      for (const options of [TASK_EMAIL, DIGEST]) {
        const started = performance.now();
        let result;
        try {
          result = parseReply(text, options);
        } catch (err) {
          failures.push(`#${i} ${JSON.stringify(text).slice(0, 120)}: threw ${String(err)}`);
          continue;
        }
        let elapsed = performance.now() - started;
        if (elapsed > INPUT_TIME_LIMIT_MS) {
          // A slow input is slow every time; one GC pause or a busy core (other test files run
          // alongside) is not: time it once more before calling it a failure.
          const again = performance.now();
          parseReply(text, options);
          elapsed = Math.min(elapsed, performance.now() - again);
        }
        if (elapsed > INPUT_TIME_LIMIT_MS) failures.push(`#${i} ${JSON.stringify(text).slice(0, 120)}: took ${Math.round(elapsed)} ms`);
        for (const command of result.commands) {
          const problem = shapeProblem(command);
          if (problem) failures.push(`#${i} ${JSON.stringify(text).slice(0, 120)}: ${problem}`);
          const checked = text.split(/\r\n|\r|\n|\u2028/).some((l) => CHECK_MARK_AT_EDGE.test(l));
          if (family === 'random characters' && command.verb !== 'note' && !(command.verb === 'done' && checked)) failures.push(`#${i} ${JSON.stringify(text).slice(0, 120)}: random characters became "${command.verb}"`);
        }
        for (const p of result.problems) if (!/^REPLY_/.test(p.code)) failures.push(`#${i}: problem code ${p.code}`);
        tally.commands += result.commands.length;
        tally.problems += result.problems.length;
      }
      tally.inputs++;
      tally.lines += text.split(/\r\n|\r|\n|\u2028/).length;
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it(`parsed at least ${GRAMMAR_FUZZ.minLines} lines, and found commands and problems in them`, () => {
    expect(tally.lines).toBeGreaterThanOrEqual(GRAMMAR_FUZZ.minLines);
    expect(tally.commands).toBeGreaterThan(1_000);
    expect(tally.problems).toBeGreaterThan(100);
    // eslint-disable-next-line no-console
    console.log(`grammar fuzz: ${tally.inputs} replies, ${tally.lines} lines, each parsed as a task-email and a digest reply: ${tally.commands} commands, ${tally.problems} problems, no throw`);
  });
});

/**
 * The reply-command contract shared by the grammar (which produces commands from email text),
 * the plan edits (which apply them), `twofold mail explain` and the CLI. Values are cleaned and
 * checked here once, so every producer and consumer agrees on what a valid command is.
 */
import { problem, type Problem } from '../errors/problem.ts';
import { isIsoDate } from '../util/dates.ts';

export const REPLY_VERBS = ['done', 'blocked', 'unblock', 'reopen', 'in_progress', 'due', 'note'] as const;
export type ReplyVerb = (typeof REPLY_VERBS)[number];

export interface ReplyCommand {
  /** Task id as the sender wrote it (matched case-insensitively); absent means the email's task. */
  task?: string;
  verb: ReplyVerb;
  /** `blocked`: the reason; `due`: the resolved date (YYYY-MM-DD); `note`: the note text. */
  value?: string;
}

/**
 * A problem with a reply, for the sender: a catalog code, a message that says what is wrong in
 * their words, the reply line it came from (1-based) and a hint showing the right form.
 */
export interface ReplyProblem extends Problem {
  /** The task the problem concerns, when known. */
  task?: string;
  /** The offending reply line as written (shortened), so the answer can quote it. */
  quote?: string;
}

/** `blocked.reason` is one plan line; the plan schema refuses longer (plan-schema.ts MAX_LINE). */
export const MAX_REASON_CHARS = 300;
/** A note lands in the activity log and the portal; longer text belongs in a document. */
export const MAX_NOTE_CHARS = 2_000;
/** How much of a reply line a problem quotes back. */
export const MAX_QUOTE_CHARS = 80;

// Control characters, and bidirectional overrides that could make a reason display as
// something else in the portal or an email (the "Trojan Source" trick).
const UNSAFE_CHARS = /[\p{Cc}\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/gu;

/** One-line text for a plan field or an activity entry: unsafe characters gone, spaces collapsed. */
export function cleanReplyValue(text: string): string {
  return text.replace(UNSAFE_CHARS, ' ').replace(/\s+/g, ' ').trim();
}

/** Like cleanReplyValue, but keeps line breaks (a note may have paragraphs). */
export function cleanNoteText(text: string): string {
  return text
    .split('\n')
    .map((line) => cleanReplyValue(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Lowercase word key for matching phrases: `It's DONE!!` → `it s done`. */
export function wordKey(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

export function quoteLine(text: string): string {
  const one = cleanReplyValue(text);
  return one.length > MAX_QUOTE_CHARS ? `${one.slice(0, MAX_QUOTE_CHARS - 1)}…` : one;
}

export function replyProblem(
  code: Problem['code'],
  message: string,
  extra: { line?: number; task?: string; quote?: string; hint?: string } = {},
): ReplyProblem {
  const base = problem(code, message, {
    ...(extra.line ? { line: extra.line } : {}),
    ...(extra.hint ? { hint: extra.hint } : {}),
  });
  return {
    ...base,
    ...(extra.task !== undefined ? { task: extra.task } : {}),
    ...(extra.quote !== undefined ? { quote: quoteLine(extra.quote) } : {}),
  };
}

/**
 * Whether a command's value is one Twofold can write: the grammar only produces valid ones; this
 * guards commands that arrive another way (the CLI, `explain --json` fed back in).
 */
export function commandValueProblem(command: ReplyCommand): ReplyProblem | undefined {
  const task = command.task;
  const at = task !== undefined ? { task } : {};
  const value = command.value === undefined ? undefined : command.verb === 'note' ? cleanNoteText(command.value) : cleanReplyValue(command.value);
  switch (command.verb) {
    case 'blocked':
      if (!value) return replyProblem('REPLY_BLOCKED_NEEDS_REASON', 'a blocked task needs a reason: say what it is waiting on', { ...at, hint: 'Reply `blocked: <what it waits on>`, e.g. `blocked: waiting on IT`.' });
      if (value.length > MAX_REASON_CHARS) return replyProblem('REPLY_TOO_LONG', `the blocker reason is ${value.length} characters; the limit is ${MAX_REASON_CHARS}`, { ...at, hint: 'Keep the reason to one short sentence and add detail with `note: <text>`.' });
      return undefined;
    case 'due':
      if (!value || !isIsoDate(value)) return replyProblem('REPLY_BAD_DATE', `"${quoteLine(value ?? '')}" is not a calendar date`, at);
      return undefined;
    case 'note':
      if (!value) return replyProblem('REPLY_NOTE_EMPTY', 'the note is empty', { ...at, hint: 'Reply `note: <text>`.' });
      if (value.length > MAX_NOTE_CHARS) return replyProblem('REPLY_TOO_LONG', `the note is ${value.length} characters; the limit is ${MAX_NOTE_CHARS}`, { ...at, hint: 'Shorten the note, or link to a document that has the details.' });
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The reply grammar: the new text of a reply email (already extracted: no quoted history, no
 * signature block) → commands for the plan, problems for the sender, and whether they asked for
 * help. Pure and bounded: the text, its lines and every value are capped, and no pattern here
 * can backtrack more than linearly (most matching is done on word keys looked up in sets).
 *
 * The forms, one per line, each optionally led by a task id (`T3 done`, `t3: done`,
 * `T3, T4 - done`), case-insensitive and forgiving of bullets, quotes, emoji and a trailing
 * "thanks":
 *
 *   done | completed | finished | ✅        blocked: <reason> | blocked by/on <reason>
 *   unblock | unblocked                     reopen
 *   in progress | started | working on it   due: <date>          (see reply-date.ts)
 *   note: <text>                            help | ? | commands
 *
 * A status word followed by a separator and more text (`done - uploaded to the drive`) is the
 * command plus a note. Any other text is a note on the task: the email's task, or the task id
 * that leads the line; in a digest reply (no default task) a line without an id is a problem.
 * Free text lines that follow a note (or each other) join that note.
 */
import { TASK_ID } from '../plan/plan-schema.ts';
import type { ErrorCode } from '../errors/error-catalog.ts';
import {
  MAX_NOTE_CHARS,
  MAX_REASON_CHARS,
  cleanNoteText,
  cleanReplyValue,
  replyProblem,
  wordKey as words,
  type ReplyCommand,
  type ReplyProblem,
  type ReplyVerb,
} from './reply-command.ts';
import { parseReplyDate, type ReplyDateContext } from './reply-date.ts';

/**
 * A reply is a few commands; anything longer is a pasted document or an attack. The limit is on
 * the new text, after quotes and signatures are cut (mail-worker/pipeline/extract-reply-text.ts
 * stops there, and the worker refuses a reply whose new text runs past it).
 */
export const MAX_REPLY_CHARS = 4_000;
/** Non-blank lines read from one reply. */
export const MAX_REPLY_LINES = 50;
export const MAX_LINE_CHARS = 1_000;
/** Task ids on one line (`T3, T4, T5 done`). */
export const MAX_IDS_PER_LINE = 10;

export interface ParseReplyOptions {
  /** The plan's IANA time zone: due dates resolve in it. */
  timezone: string;
  /** The email's Date header: `tomorrow` counts from it, in the plan's time zone. */
  sentAt: Date;
  /** The task the answered email was about; absent for a digest. */
  defaultTask?: string;
  /** The plan's task ids, so that an id without a digit (`kickoff done`) is recognised too. */
  taskIds?: readonly string[];
  /** The sender's name, so a bare signature line ("Raj") is not taken for a note. */
  senderName?: string;
}

export interface ParsedReply {
  commands: ReplyCommand[];
  problems: ReplyProblem[];
  wantsHelp: boolean;
}

/** Sent back for `help`: plain text, short lines, readable on a phone. */
export const REPLY_GRAMMAR_HELP = `Reply with one command per line:

done
blocked: <what it is waiting on>
unblock
in progress
due: <date>
note: <text>
reopen
help

Dates: 2026-12-18, Dec 18, friday,
next friday (= Friday of next week),
tomorrow, in 2 weeks, end of week,
end of month. They count from when you
sent the reply, in the plan's time zone.
Write the month as a word: 3/4 could be
March 4 or 3 April, so it is refused.

Replying to a digest? Start each line
with the task id:
T3 done
T4 blocked: waiting on IT
T5 due: Dec 18

Anything else you write is added to the
task as a note.`;

type StatusVerb = Extract<ReplyVerb, 'done' | 'unblock' | 'reopen' | 'in_progress'>;
type Bare = StatusVerb | 'help' | 'blocked_no_reason';

type LineResult =
  | { kind: 'empty' }
  | { kind: 'help' }
  | { kind: 'command'; ids: string[]; verb: ReplyVerb; value?: string; note?: string }
  | { kind: 'problem'; ids: string[]; code: ErrorCode; message: string; hint?: string }
  | { kind: 'text'; ids: string[]; text: string }
  | { kind: 'ids'; ids: string[] };

/** What every line parser needs: the plan's task ids and the date context for `due:`. */
interface LineContext {
  known: ReadonlySet<string>;
  date: ReplyDateContext;
}

// ── word tables ───────────────────────────────────────────────────────────────────────────

const CORES: Record<Bare, string[]> = {
  done: ['done', 'completed', 'complete', 'finished', 'done and done', 'done done'],
  in_progress: ['in progress', 'inprogress', 'started', 'start', 'starting', 'working on it', 'on it', 'wip', 'underway', 'under way'],
  unblock: ['unblock', 'unblocked', 'un blocked', 'not blocked', 'no longer blocked', 'not blocked anymore', 'not blocked any more', 'unblock it'],
  reopen: ['reopen', 'reopened', 're open', 're opened', 'reopen it', 'not done', 'not done yet', 'not finished', 'not finished yet'],
  help: ['help', 'commands', 'command', 'help please', 'help me', 'what can i reply', 'what can i write'],
  blocked_no_reason: ['blocked', 'stuck', 'blocked again', 'still stuck'],
};
const PREFIXES = ['', 'all', 'it s', 'its', 'it is', 'this is', 'that s', 'thats', 'that is', 'task', 'task is', 'status', 'status is', 'now', 'ok', 'okay', 'yes', 'yep', 'yup', 'sure', 'no', 'thanks', 'finally', 'mark', 'mark as', 'mark it', 'mark it as', 'marked', 'marked as', 'please mark', 'please mark as', 'please mark it as', 'set to', 'i m', 'im', 'i am', 'we re', 'we are', 'still', 'is', 'currently'];
const SUFFIXES = ['', 'now', 'already', 'today', 'here', 'again'];

/** Whole-line phrases (as word keys) → their meaning: built once, looked up in O(1). */
const BARE = new Map<string, Bare>();
for (const [meaning, cores] of Object.entries(CORES) as [Bare, string[]][]) {
  for (const core of cores) {
    if (meaning === 'help') {
      BARE.set(core, 'help');
      continue;
    }
    for (const prefix of PREFIXES) for (const suffix of SUFFIXES) BARE.set([prefix, core, suffix].filter(Boolean).join(' '), meaning);
  }
}

/** Courtesy phrases removed from the end of a line (`done, thanks!`). */
const TRAILING_COURTESY = ['thank you very much', 'thank you so much', 'thanks in advance', 'thanks a lot', 'thanks so much', 'many thanks', 'thank you', 'thanks', 'thx', 'tia', 'cheers'];
/** Lines that close a message; a name may follow on the same or the next line. */
const SIGN_OFFS = new Set([
  'thanks', 'thank you', 'thanks a lot', 'thanks so much', 'thank you so much', 'thank you very much', 'many thanks', 'thx', 'cheers', 'best',
  'best regards', 'kind regards', 'warm regards', 'regards', 'all the best', 'br', 'brgds', 'sincerely', 'talk soon', 'best wishes', 'thanks again',
]);
const GREETINGS = new Set(['hi', 'hello', 'hey', 'dear', 'good morning', 'good afternoon', 'good evening', 'hiya', 'greetings', 'hi there', 'hello there', 'hey there']);
/** Words that may open a line before the command itself (`Thanks, T3 done`). */
const LEADING_FILLER = /^(?:ok|okay|yes|yep|yup|sure|thanks|thank you|great|perfect|update|status|status update|quick update|fyi)(?:[\s,!.:;\u2013\u2014-])+/i;

const QUOTE_CHARS = new Set(['"', "'", '\u201C', '\u201D', '\u2018', '\u2019', '\u201E', '\u00AB', '\u00BB', '`', '*', '_', '~']);
const TRIM_END = new Set([' ', ',', '.', '!', ';', ':', '~', '-', '\u2013', '\u2014']);
/** A check mark that leads or ends the line (`✅ uploaded it`, `T3 ✅`); one inside a sentence is text. */
const CHECK_MARK = /^[\u2705\u2714\u2611\u2713]|[\u2705\u2714\u2611\u2713][\uFE0F\u200D\s]*$/u;
const CHECK_MARKS = /[\u2705\u2714\u2611\u2713]/gu;
const EMOJI = /[\p{Extended_Pictographic}\p{Regional_Indicator}\u{1F3FB}-\u{1F3FF}\uFE0E\uFE0F\u20E3\u200D]/gu;
const BULLET = /^(?:[-*\u2022\u00B7\u25E6\u25AA\u2023\u2013\u2014+]+\s*|\d{1,2}[.)]\s+)/u;
const CHECKBOX = /^\[([ xX\u2713\u2714]?)\]\s*/u;
const ID_TOKEN = /^[A-Za-z][A-Za-z0-9_-]{0,11}/;
const SEPARATORS = [':', ' - ', ' \u2013 ', ' \u2014 ', '. ', '! ', ';', ','];

// ── public entry point ────────────────────────────────────────────────────────────────────

/** Parse a reply's new text into commands. Never throws on any input. */
export function parseReply(text: string, options: ParseReplyOptions): ParsedReply {
  const problems: ReplyProblem[] = [];
  if (text.length > MAX_REPLY_CHARS) {
    problems.push(replyProblem('REPLY_TOO_LONG', `the reply is ${text.length} characters; Twofold reads replies up to ${MAX_REPLY_CHARS}`));
    return { commands: [], problems, wantsHelp: false };
  }
  const lines = text.split(/\r\n|\r|\n|\u2028|\u2029/).map((raw, i) => ({ n: i + 1, raw }));
  const filled = lines.filter((l) => l.raw.trim() !== '');
  if (filled.length > MAX_REPLY_LINES) {
    problems.push(replyProblem('REPLY_TOO_LONG', `the reply has ${filled.length} lines; Twofold reads up to ${MAX_REPLY_LINES}`, { hint: 'Send one command per line, and long explanations as a link.' }));
    return { commands: [], problems, wantsHelp: false };
  }
  const spelling = new Map((options.taskIds ?? []).map((id) => [id.toLowerCase(), id]));
  const context: LineContext = {
    known: new Set(spelling.keys()),
    date: { timezone: options.timezone, sentAt: options.sentAt },
  };
  const body = dropGreetingAndSignOff(lines, options.senderName);

  const commands: ReplyCommand[] = [];
  let wantsHelp = false;
  // The note(s) that free text continues: the run ends at any line that is not free text.
  let run: ReplyCommand[] | undefined;
  let blankSinceRun = false;

  for (const { n, raw } of body) {
    if (raw.trim() === '') {
      if (run) blankSinceRun = true;
      continue;
    }
    if (raw.length > MAX_LINE_CHARS) {
      problems.push(replyProblem('REPLY_TOO_LONG', `line ${n} is longer than the ${MAX_LINE_CHARS} characters Twofold reads in a line`, { line: n, quote: raw }));
      run = undefined;
      continue;
    }
    const result = parseLine(raw, context);
    const targets = (ids: string[]): (string | undefined)[] | undefined => {
      // Ids as the plan spells them (`t3` → `T3`); unknown ids stay as written for the problem.
      if (ids.length > 0) return ids.map((id) => spelling.get(id.toLowerCase()) ?? id);
      if (options.defaultTask !== undefined) return [options.defaultTask];
      return undefined;
    };
    const needTask = () =>
      problems.push(replyProblem('REPLY_TASK_REQUIRED', 'this line does not say which task it is about', { line: n, quote: raw, hint: 'Start the line with the task id from the digest, e.g. `T3 done`.' }));

    switch (result.kind) {
      case 'empty':
        continue;
      case 'help':
        wantsHelp = true;
        run = undefined;
        continue;
      case 'ids':
        problems.push(replyProblem('REPLY_NO_COMMAND', `${result.ids.join(', ')}: no command follows the task id`, { line: n, quote: raw, hint: `Write a command after the id, e.g. \`${result.ids[0]} done\`.` }));
        run = undefined;
        continue;
      case 'problem': {
        const task = result.ids[0] !== undefined ? (spelling.get(result.ids[0].toLowerCase()) ?? result.ids[0]) : options.defaultTask;
        problems.push(replyProblem(result.code, result.message, { line: n, quote: raw, ...(task !== undefined ? { task } : {}), ...(result.hint ? { hint: result.hint } : {}) }));
        run = undefined;
        continue;
      }
      case 'command': {
        const tasks = targets(result.ids);
        if (!tasks) {
          needTask();
          run = undefined;
          continue;
        }
        const main = tasks.map((task) => withTask({ verb: result.verb, ...(result.value !== undefined ? { value: result.value } : {}) }, task));
        const notes = result.note ? tasks.map((task) => withTask({ verb: 'note', value: result.note }, task)) : [];
        commands.push(...main, ...notes);
        // Free text right after a note continues it (a note wrapped over several lines).
        run = result.verb === 'note' ? main : notes.length > 0 ? notes : undefined;
        blankSinceRun = false;
        continue;
      }
      case 'text': {
        if (result.ids.length === 0 && run) {
          for (const note of run) note.value = `${note.value}${blankSinceRun ? '\n\n' : ' '}${result.text}`;
          blankSinceRun = false;
          continue;
        }
        const tasks = targets(result.ids);
        if (!tasks) {
          needTask();
          run = undefined;
          continue;
        }
        const notes = tasks.map((task) => withTask({ verb: 'note', value: result.text }, task));
        commands.push(...notes);
        run = notes;
        blankSinceRun = false;
        continue;
      }
    }
  }

  for (const command of commands) {
    if (command.verb !== 'note') continue;
    command.value = cleanNoteText(command.value ?? '');
    if (command.value.length > MAX_NOTE_CHARS) {
      problems.push(replyProblem('REPLY_TOO_LONG', `the note for ${command.task ?? 'the task'} is ${command.value.length} characters; the limit is ${MAX_NOTE_CHARS}`, {
        ...(command.task !== undefined ? { task: command.task } : {}),
        hint: 'Shorten the note, or link to a document that has the details.',
      }));
    }
  }
  if (commands.length === 0 && problems.length === 0 && !wantsHelp) {
    problems.push(replyProblem('REPLY_NO_COMMAND', 'the reply has no command in it'));
  }
  return { commands, problems, wantsHelp };
}

function withTask(command: ReplyCommand, task: string | undefined): ReplyCommand {
  return task === undefined ? command : { task, ...command };
}

// ── one line ──────────────────────────────────────────────────────────────────────────────

function parseLine(raw: string, context: LineContext): LineResult {
  // A `>` line is quoted history the extractor missed; it may quote our own instructions
  // ("reply blocked: <reason>"), so it must never act.
  if (raw.trimStart().startsWith('>')) return { kind: 'empty' };
  const { text, check } = cleanLine(raw);
  const soft = softText(raw);
  if (/^\?+$/.test(text)) return { kind: 'help' };

  let result = parseBody(text, context) ?? parseWithIds(text, context);
  if (!result) {
    const stripped = text.replace(LEADING_FILLER, '');
    if (stripped !== text && stripped) result = parseBody(stripped, context) ?? parseWithIds(stripped, context);
  }
  if (check) {
    // ✅ means done: alone, after ids (`T3 ✅`), or before a remark (`✅ uploaded it`).
    if (!result || result.kind === 'empty') return words(text) ? { kind: 'command', ids: [], verb: 'done', note: text } : { kind: 'command', ids: [], verb: 'done' };
    if (result.kind === 'ids') return { kind: 'command', ids: result.ids, verb: 'done' };
    if (result.kind === 'text') return { kind: 'command', ids: result.ids, verb: 'done', note: result.text };
    return result;
  }
  if (result) return result;
  if (!words(text)) return { kind: 'empty' };
  return { kind: 'text', ids: [], text: soft };
}

/** A command without a leading task id, or undefined when the text is not one. */
function parseBody(text: string, context: LineContext): LineResult | undefined {
  const key = words(text);
  if (!key) return { kind: 'empty' };
  const bare = BARE.get(key);
  if (bare) return bareResult(bare, []);
  if (NOTE_WORDS.has(key)) return { kind: 'problem', ids: [], code: 'REPLY_NOTE_EMPTY', message: 'the note is empty', hint: 'Write the note after the colon: `note: <text>`.' };

  const note = NOTE_HEAD.exec(text);
  if (note) return { kind: 'command', ids: [], verb: 'note', value: unquote(text.slice(note[0].length)) };
  return parseBlocked(text) ?? parseDue(text, context.date) ?? parseStatusWithNote(text);
}

function bareResult(bare: Bare, ids: string[]): LineResult {
  if (bare === 'help') return { kind: 'help' };
  if (bare === 'blocked_no_reason') return blockedNeedsReason(ids);
  return { kind: 'command', ids, verb: bare };
}

function blockedNeedsReason(ids: string[]): LineResult {
  return { kind: 'problem', ids, code: 'REPLY_BLOCKED_NEEDS_REASON', message: '`blocked` needs a reason: what is the task waiting on?', hint: 'Reply `blocked: <reason>`, e.g. `blocked: waiting on IT`.' };
}

const NOTE_HEAD = /^(?:note|notes|comment|fyi|nb)\s*[:\u2013\u2014-]\s*(?=\S)/i;
const NOTE_WORDS = new Set(['note', 'notes', 'comment', 'fyi', 'nb']);

const BLOCKED_HEAD = /^(?:(?:it'?s|it is|this is|task is|task|is|still|currently|now|status|status is)\s+)?(?:blocked|stuck)(?=$|[\s:,;.(\u2013\u2014-])/i;
const BLOCKED_DROP = /^(?:because of|because|due to|by|on|as)(?:\s+|$)/i;
const BLOCKED_KEEP = /^(?:waiting|pending|awaiting|until|till|for|since|needs?)\b/i;

function parseBlocked(text: string): LineResult | undefined {
  const head = BLOCKED_HEAD.exec(text);
  if (!head) return undefined;
  let rest = text.slice(head[0].length).trimStart();
  let separated = false;
  const paren = rest.startsWith('(');
  while (rest && ':,;.(\u2013\u2014-'.includes(rest[0]!)) {
    rest = rest.slice(1).trimStart();
    separated = true;
  }
  const drop = BLOCKED_DROP.exec(rest);
  if (drop) {
    rest = rest.slice(drop[0].length);
    separated = true;
  } else if (!separated && !BLOCKED_KEEP.test(rest)) {
    // "Blocked the calendar for the review" is a sentence, not a blocker.
    return rest ? undefined : blockedNeedsReason([]);
  }
  if (paren && rest.endsWith(')')) rest = rest.slice(0, -1);
  const reason = unquote(rest);
  if (!reason || /^(?:by|on|because|due to)$/i.test(reason)) return blockedNeedsReason([]);
  if (reason.length > MAX_REASON_CHARS) {
    return { kind: 'problem', ids: [], code: 'REPLY_TOO_LONG', message: `the blocker reason is ${reason.length} characters; the limit is ${MAX_REASON_CHARS}`, hint: 'Keep the reason to one short sentence and add detail on the next line as a note.' };
  }
  return { kind: 'command', ids: [], verb: 'blocked', value: reason };
}

const DUE_HEAD = /^(?:(?:new|revised|updated|the)\s+)?(?:due\s+date|due|eta|deadline)(?=$|[\s:=,\u2013\u2014-])/i;
const DUE_FILLER = /^(?:is|now|to|moved to|changed to|set to|date|will be|should be)\s+/i;
/** Without a separator "to" is not filler: "due to the holidays" starts a sentence. */
const DUE_FILLER_UNSEPARATED = /^(?:is|now|moved to|changed to|set to|will be|should be)\s+/i;

function parseDue(text: string, dateContext: ReplyDateContext): LineResult | undefined {
  const head = DUE_HEAD.exec(text);
  if (!head) return undefined;
  let rest = text.slice(head[0].length).trimStart();
  let separated = false;
  while (rest && ':=,\u2013\u2014-'.includes(rest[0]!)) {
    rest = rest.slice(1).trimStart();
    separated = true;
  }
  for (let i = 0; i < 2; i++) {
    const filler = (separated ? DUE_FILLER : DUE_FILLER_UNSEPARATED).exec(rest);
    if (!filler) break;
    rest = rest.slice(filler[0].length);
  }
  if (!rest) return { kind: 'problem', ids: [], code: 'REPLY_BAD_DATE', message: '`due` needs a date', hint: 'Write `due: Dec 18`, `due: friday` or `due: 2026-12-18`.' };
  // Without a separator the rest must be a date and nothing else: "Due to the holidays we
  // slipped a week" holds "a week" but is a sentence.
  const date = parseReplyDate(unquote(rest), dateContext, { whole: !separated });
  if (date.ok) return { kind: 'command', ids: [], verb: 'due', value: date.date };
  // Without a separator, "Due to the holidays we slipped" is a sentence, not a bad date; an
  // ambiguous numeric date is a problem either way (it was surely meant as one).
  if (!separated && date.code === 'REPLY_BAD_DATE') return undefined;
  return { kind: 'problem', ids: [], code: date.code, message: date.message, ...(date.hint ? { hint: date.hint } : {}) };
}

/** `done - uploaded to the drive`: a status word, a separator, then a note. */
function parseStatusWithNote(text: string): LineResult | undefined {
  let cut = -1;
  let width = 0;
  for (const sep of SEPARATORS) {
    const at = text.indexOf(sep);
    if (at > 0 && (cut < 0 || at < cut)) {
      cut = at;
      width = sep.length;
    }
  }
  if (cut < 0) return undefined;
  const bare = BARE.get(words(text.slice(0, cut)));
  if (!bare || bare === 'blocked_no_reason') return undefined;
  if (bare === 'help') return { kind: 'help' };
  const note = unquote(stripCourtesy(text.slice(cut + width)));
  return words(note) ? { kind: 'command', ids: [], verb: bare, note } : { kind: 'command', ids: [], verb: bare };
}

// ── task ids ──────────────────────────────────────────────────────────────────────────────

function parseWithIds(text: string, context: LineContext): LineResult | undefined {
  const { known } = context;
  const lead = leadingIds(text, known);
  if (lead && lead.ids.every((id) => idLike(id, known))) {
    if (!lead.rest) return { kind: 'ids', ids: lead.ids };
    const inner = parseBody(lead.rest, context);
    if (inner && inner.kind !== 'empty') {
      if (inner.kind === 'help') return inner;
      return { ...inner, ids: lead.ids } as LineResult;
    }
    const sure = known.size > 0 ? lead.ids.every((id) => known.has(id.toLowerCase())) : lead.explicit;
    if (sure) return words(lead.rest) ? { kind: 'text', ids: lead.ids, text: lead.rest } : { kind: 'ids', ids: lead.ids };
  }
  return trailingIds(text, known);
}

function idLike(token: string, known: ReadonlySet<string>): boolean {
  if (!TASK_ID.test(token)) return false;
  if (known.has(token.toLowerCase())) return true;
  return /\d/.test(token) && !BARE.has(token.toLowerCase());
}

/** `T3 done`, `t3: done`, `[T3] done`, `T3, T4 & T5 - done`, `Task T3: done`. */
function leadingIds(text: string, known: ReadonlySet<string>): { ids: string[]; rest: string; explicit: boolean } | undefined {
  let pos = /^task\s+/i.exec(text)?.[0].length ?? 0;
  const ids: string[] = [];
  while (ids.length < MAX_IDS_PER_LINE) {
    if (text[pos] === '#' || text[pos] === '[') pos++;
    const m = ID_TOKEN.exec(text.slice(pos, pos + 14));
    if (!m) return undefined;
    let id = m[0];
    while (id.endsWith('-')) id = id.slice(0, -1);
    const after = text[pos + id.length];
    if (after !== undefined && /[A-Za-z0-9_]/.test(after)) return undefined;
    ids.push(id);
    pos += id.length;
    if (text[pos] === ']') pos++;
    const joiner = /^\s*(?:,|&|\/|\band\b)\s*(?=#?\[?[A-Za-z])/i.exec(text.slice(pos, pos + 12));
    if (!joiner) break;
    // Only continue when what follows is another id-shaped token; `T3, done` ends the list.
    const next = ID_TOKEN.exec(text.slice(pos + joiner[0].length).replace(/^[#[]/, '').slice(0, 14));
    if (!next || !idLike(next[0], known)) break;
    pos += joiner[0].length;
  }
  const tail = text.slice(pos);
  const sep = /^\s*[:)\]\u2013\u2014.,-]*\s*/.exec(tail)![0];
  return { ids, rest: tail.slice(sep.length).trim(), explicit: /[:)\u2013\u2014.,-]/.test(sep) };
}

/** `done T3`, `done for T3 and T4`, `✅ T3`: a status word followed by ids. */
function trailingIds(text: string, known: ReadonlySet<string>): LineResult | undefined {
  const tokens = text.split(/[\s,&]+/).filter(Boolean);
  if (tokens.length > 2 + MAX_IDS_PER_LINE * 2) return undefined;
  const ids: string[] = [];
  let end = tokens.length;
  while (end > 0) {
    const token = tokens[end - 1]!.replace(/^[#[]|[\]:.!]$/g, '');
    if (idLike(token, known)) ids.unshift(token);
    else if (!/^(?:and|for|on|with)$/i.test(token) || ids.length === 0) break;
    end--;
  }
  if (ids.length === 0) return undefined;
  const head = words(tokens.slice(0, end).join(' ').replace(/\b(?:for|on|with)$/i, ''));
  if (!head) return { kind: 'ids', ids };
  const bare = BARE.get(head);
  if (!bare || bare === 'help') return undefined;
  return bareResult(bare, ids);
}

// ── cleaning ──────────────────────────────────────────────────────────────────────────────

/** The line for command matching: no emoji, bullets, wrapping quotes or trailing thanks. */
function cleanLine(raw: string): { text: string; check: boolean } {
  let text = stripBullets(cleanReplyValue(raw));
  let check = false;
  const box = CHECKBOX.exec(text);
  if (box) {
    check = /[xX\u2713\u2714]/.test(box[1] ?? '');
    text = text.slice(box[0].length);
  }
  if (CHECK_MARK.test(text)) check = true;
  text = cleanReplyValue(text.replace(CHECK_MARKS, ' ').replace(EMOJI, ' '));
  text = stripQuotes(stripBullets(text));
  text = stripCourtesy(text);
  return { text: stripQuotes(text), check };
}

/** The line as a note: emoji and quotes kept, bullets and a trailing "thanks" dropped. */
function softText(raw: string): string {
  return stripCourtesy(stripBullets(cleanReplyValue(raw))).trim();
}

function stripBullets(text: string): string {
  let out = text;
  for (let i = 0; i < 3; i++) {
    const m = BULLET.exec(out);
    if (!m || m[0].length === out.length) break;
    out = out.slice(m[0].length);
  }
  return out;
}

/** Strip quote and emphasis characters that wrap the whole text (`"done"`, `**done**`). */
function stripQuotes(text: string): string {
  let start = 0;
  let end = text.length;
  while (end - start >= 2 && QUOTE_CHARS.has(text[start]!) && QUOTE_CHARS.has(text[end - 1]!)) {
    start++;
    end--;
  }
  return text.slice(start, end).trim();
}

/** A value as written, minus wrapping quotes: `blocked: "waiting on IT"` → `waiting on IT`. */
function unquote(text: string): string {
  return stripQuotes(cleanReplyValue(text));
}

function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0 && TRIM_END.has(text[end - 1]!)) end--;
  return text.slice(0, end);
}

/**
 * Remove `thanks`, `thank you!`, `cheers, Raj` from the end of a line (a few rounds). Text
 * without a courtesy ending comes back as it was, punctuation included.
 */
function stripCourtesy(text: string): string {
  let out = text;
  for (let round = 0; round < 4; round++) {
    const trimmed = trimEnd(out);
    // "…, thanks Raj" / "… Cheers, Maya": a courtesy word then a capitalised name.
    const tail = trimmed.slice(-60);
    const named = /(?:^|[\s,.!;])(?:thanks|thank you|cheers|best|regards)[\s,!.]+[A-Z][\p{L}'\u2019.-]*(?:\s[A-Z][\p{L}'\u2019.-]*)?$/u.exec(tail);
    if (named && (/^[\s,.!;]?(?:thanks|thank you|cheers)/i.test(named[0]) || /[,!]/.test(named[0]))) {
      out = trimEnd(trimmed.slice(0, trimmed.length - tail.length + named.index));
      continue;
    }
    const lower = trimmed.toLowerCase();
    const phrase = TRAILING_COURTESY.find((p) => lower.endsWith(p) && (lower.length === p.length || !/[\p{L}\p{N}]/u.test(lower[lower.length - p.length - 1]!)));
    if (!phrase) break;
    out = trimEnd(trimmed.slice(0, trimmed.length - phrase.length));
  }
  return out.trim();
}

/** Drop "Hi Maya," at the top and "Thanks,\nRaj" / "Best, Raj" / the sender's name at the end. */
function dropGreetingAndSignOff(lines: { n: number; raw: string }[], senderName?: string): { n: number; raw: string }[] {
  const out = lines.slice();
  const firstIndex = out.findIndex((l) => l.raw.trim() !== '');
  if (firstIndex >= 0) {
    const first = out[firstIndex]!;
    const text = cleanLine(first.raw).text;
    const cut = text.search(/[,!:]/);
    const head = words(cut >= 0 ? text.slice(0, cut) : text);
    const headWords = head.split(' ');
    // A greeting and at most a two-word name: "Hi Maya," / "Good morning team!".
    const opener = GREETINGS.has(headWords.slice(0, 2).join(' ')) ? 2 : GREETINGS.has(headWords[0]!) ? 1 : 0;
    const greeting = opener > 0 && headWords.length - opener <= 2;
    if (greeting && !BARE.has(head)) {
      const rest = cut >= 0 ? text.slice(cut + 1).trim() : '';
      out[firstIndex] = { n: first.n, raw: rest };
    }
  }
  const name = senderName ? words(senderName) : '';
  const nameParts = new Set(name.split(' ').filter(Boolean));
  const lastFilled = () => {
    for (let i = out.length - 1; i >= 0; i--) if (out[i]!.raw.trim() !== '') return i;
    return -1;
  };
  for (let guard = 0; guard < 4; guard++) {
    const i = lastFilled();
    if (i < 0) break;
    const text = plainLine(out[i]!.raw);
    const key = words(text);
    if (isSignOff(text)) {
      out.splice(i, 1);
      continue;
    }
    const isName = (name && (key === name || (key.split(' ').length === 1 && nameParts.has(key)))) || false;
    const prev = (() => {
      for (let j = i - 1; j >= 0; j--) if (out[j]!.raw.trim() !== '') return j;
      return -1;
    })();
    if (isName || (nameLike(text) && prev >= 0 && isSignOff(plainLine(out[prev]!.raw)))) {
      out.splice(i, 1);
      continue;
    }
    break;
  }
  return out;
}

/** A line for sign-off checks: no emoji, bullets or wrapping quotes, courtesy words kept. */
function plainLine(raw: string): string {
  return stripQuotes(stripBullets(cleanReplyValue(raw.replace(EMOJI, ' '))));
}

function isSignOff(text: string): boolean {
  const key = words(text);
  if (!key) return false;
  if (SIGN_OFFS.has(key)) return true;
  // "Best, Raj" / "Thanks, Maya Patel": a sign-off, a comma, a capitalised name.
  const comma = text.indexOf(',');
  return comma > 0 && SIGN_OFFS.has(words(text.slice(0, comma))) && nameLike(text.slice(comma + 1));
}

function nameLike(text: string): boolean {
  const t = text.trim();
  if (!t || t.length > 40 || /[\d:@]/.test(t)) return false;
  const parts = t.split(/\s+/);
  return parts.length <= 3 && parts.every((p) => /^[\p{Lu}][\p{L}'\u2019.-]*$/u.test(p)) && !BARE.has(words(t));
}


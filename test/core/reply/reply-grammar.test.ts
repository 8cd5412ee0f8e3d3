import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, MAX_REPLY_CHARS, MAX_REPLY_LINES, REPLY_GRAMMAR_HELP, parseReply, type ParseReplyOptions } from '../../../site/core/reply/reply-grammar.ts';
import { parseReplyDate } from '../../../site/core/reply/reply-date.ts';
import type { ReplyCommand } from '../../../site/core/reply/reply-command.ts';
import { errorCatalog } from '../../../site/core/errors/error-catalog.ts';

/** Thursday 2026-12-17, 10:00 in Chicago. */
const SENT = new Date('2026-12-17T16:00:00Z');
const TASK_EMAIL: ParseReplyOptions = { timezone: 'America/Chicago', sentAt: SENT, defaultTask: 'T1', taskIds: ['T1', 'T2', 'T3', 'T4', 'T5', 'review'], senderName: 'Raj Iyer' };
const DIGEST: ParseReplyOptions = { ...TASK_EMAIL, defaultTask: undefined };

const c = (verb: ReplyCommand['verb'], task = 'T1', value?: string): ReplyCommand => (value === undefined ? { task, verb } : { task, verb, value });

describe('parseReply: one command per form, replying to a task email', () => {
  it.each([
    // done and its spellings
    { name: 'done', text: 'done', want: [c('done')] },
    { name: 'Done! with capital and bang', text: 'Done!', want: [c('done')] },
    { name: 'Done. with a full stop', text: 'Done.', want: [c('done')] },
    { name: 'all done', text: 'all done', want: [c('done')] },
    { name: 'ALL DONE shouted', text: 'ALL DONE!!!', want: [c('done')] },
    { name: 'completed', text: 'Completed', want: [c('done')] },
    { name: 'complete', text: 'complete', want: [c('done')] },
    { name: 'finished', text: 'finished', want: [c('done')] },
    { name: "it's done", text: "It's done", want: [c('done')] },
    { name: 'curly apostrophe', text: 'it\u2019s done now', want: [c('done')] },
    { name: 'mark as done', text: 'please mark as done', want: [c('done')] },
    { name: 'green check emoji', text: '\u2705', want: [c('done')] },
    { name: 'heavy check with variation selector', text: '\u2714\uFE0F', want: [c('done')] },
    { name: 'ballot box with check', text: '\u2611', want: [c('done')] },
    { name: 'check mark then done', text: '\u2705 done', want: [c('done')] },
    { name: 'markdown checkbox', text: '- [x] done', want: [c('done')] },
    { name: 'done with party emoji', text: 'done \uD83C\uDF89\uD83C\uDF89', want: [c('done')] },
    { name: 'done with ZWJ emoji sequence', text: 'done \uD83D\uDC68\u200D\uD83D\uDCBB', want: [c('done')] },
    { name: 'quoted "done"', text: '"done"', want: [c('done')] },
    { name: 'curly-quoted done', text: '\u201Cdone\u201D', want: [c('done')] },
    { name: 'bold **Done**', text: '**Done**', want: [c('done')] },
    { name: 'bullet - done', text: '- done', want: [c('done')] },
    { name: 'bullet • done', text: '\u2022 done', want: [c('done')] },
    { name: 'numbered 1. done', text: '1. done', want: [c('done')] },
    { name: 'leading spaces and tabs', text: '   \tdone   ', want: [c('done')] },
    { name: 'non-breaking spaces', text: '\u00A0all\u00A0done\u00A0', want: [c('done')] },
    // trailing thanks and sign-offs
    { name: 'done, thanks!', text: 'done, thanks!', want: [c('done')] },
    { name: 'Done. Thank you!', text: 'Done. Thank you!', want: [c('done')] },
    { name: 'done thx', text: 'done thx', want: [c('done')] },
    { name: 'done - cheers, Raj', text: 'done - cheers, Raj', want: [c('done')] },
    { name: 'done, thank you so much', text: 'done, thank you so much', want: [c('done')] },
    { name: 'thanks on its own line', text: 'done\nThanks!', want: [c('done')] },
    { name: 'Thanks, / name', text: 'done\n\nThanks,\nRaj', want: [c('done')] },
    { name: 'Best, Name on one line', text: 'done\nBest, Raj', want: [c('done')] },
    { name: 'Kind regards / full name', text: 'done\n\nKind regards,\nRaj Iyer', want: [c('done')] },
    { name: "the sender's bare name", text: 'done\nRaj', want: [c('done')] },
    { name: 'dash-signed name', text: 'done\n\u2014 Raj', want: [c('done')] },
    { name: 'greeting first', text: 'Hi Maya,\n\ndone\n\nThanks,\nRaj', want: [c('done')] },
    { name: 'greeting and command on one line', text: 'Hi Maya, done', want: [c('done')] },
    { name: 'leading thanks', text: 'Thanks! done', want: [c('done')] },
    { name: 'leading ok', text: 'ok, done', want: [c('done')] },
    // blocked
    { name: 'blocked: reason', text: 'blocked: waiting on IT', want: [c('blocked', 'T1', 'waiting on IT')] },
    { name: 'Blocked - reason', text: 'Blocked - waiting on IT', want: [c('blocked', 'T1', 'waiting on IT')] },
    { name: 'blocked \u2014 reason (em dash)', text: 'blocked \u2014 legal has the contract', want: [c('blocked', 'T1', 'legal has the contract')] },
    { name: 'blocked by', text: 'blocked by the security review', want: [c('blocked', 'T1', 'the security review')] },
    { name: 'blocked on', text: 'Blocked on procurement', want: [c('blocked', 'T1', 'procurement')] },
    { name: 'blocked because', text: 'blocked because the VPN is down', want: [c('blocked', 'T1', 'the VPN is down')] },
    { name: 'blocked waiting (no separator)', text: 'blocked waiting for the SSO cert', want: [c('blocked', 'T1', 'waiting for the SSO cert')] },
    { name: 'blocked (reason in parentheses)', text: 'blocked (waiting on IT)', want: [c('blocked', 'T1', 'waiting on IT')] },
    { name: 'blocked with quoted reason', text: 'blocked: "waiting on IT"', want: [c('blocked', 'T1', 'waiting on IT')] },
    { name: 'blocked reason keeps its case and punctuation', text: 'BLOCKED: Waiting on IT: ticket #4411, thanks', want: [c('blocked', 'T1', 'Waiting on IT: ticket #4411')] },
    { name: 'still blocked: reason', text: 'still blocked: vendor VPN', want: [c('blocked', 'T1', 'vendor VPN')] },
    { name: 'stuck on', text: 'stuck on the firewall change', want: [c('blocked', 'T1', 'the firewall change')] },
    // unblock, reopen, in progress
    { name: 'unblock', text: 'unblock', want: [c('unblock')] },
    { name: 'unblocked!', text: 'Unblocked!', want: [c('unblock')] },
    { name: 'no longer blocked', text: 'no longer blocked', want: [c('unblock')] },
    { name: 'reopen', text: 'reopen', want: [c('reopen')] },
    { name: 're-open', text: 'Re-open', want: [c('reopen')] },
    { name: 'not done yet', text: 'not done yet', want: [c('reopen')] },
    { name: 'in progress', text: 'in progress', want: [c('in_progress')] },
    { name: 'in-progress', text: 'In-Progress', want: [c('in_progress')] },
    { name: 'in_progress', text: 'in_progress', want: [c('in_progress')] },
    { name: 'started', text: 'started', want: [c('in_progress')] },
    { name: 'working on it', text: 'Working on it!', want: [c('in_progress')] },
    { name: 'on it', text: 'on it \uD83D\uDC4D', want: [c('in_progress')] },
    // due
    { name: 'due: ISO date', text: 'due: 2027-01-15', want: [c('due', 'T1', '2027-01-15')] },
    { name: 'due: year-first with slashes', text: 'due: 2027/1/5', want: [c('due', 'T1', '2027-01-05')] },
    { name: 'due: month name', text: 'due: Dec 22', want: [c('due', 'T1', '2026-12-22')] },
    { name: 'due: day month name', text: 'due: 22 December', want: [c('due', 'T1', '2026-12-22')] },
    { name: 'due: weekday and date', text: 'Due: Tuesday, December 22nd', want: [c('due', 'T1', '2026-12-22')] },
    { name: 'due: next friday (Friday of next week)', text: 'due: next friday', want: [c('due', 'T1', '2026-12-25')] },
    { name: 'due: friday (the coming one)', text: 'due: friday', want: [c('due', 'T1', '2026-12-18')] },
    { name: 'due friday (no colon)', text: 'due friday', want: [c('due', 'T1', '2026-12-18')] },
    { name: 'due: tomorrow', text: 'due: tomorrow', want: [c('due', 'T1', '2026-12-18')] },
    { name: 'due: in 2 weeks', text: 'due: in 2 weeks', want: [c('due', 'T1', '2026-12-31')] },
    { name: 'due: end of month', text: 'due: end of month', want: [c('due', 'T1', '2026-12-31')] },
    { name: 'due: end of next month', text: 'due: end of next month', want: [c('due', 'T1', '2027-01-31')] },
    { name: 'due: eow', text: 'due: eow', want: [c('due', 'T1', '2026-12-18')] },
    { name: 'due: end of next week', text: 'due: end of next week', want: [c('due', 'T1', '2026-12-25')] },
    { name: 'due: by end of quarter', text: 'due: by end of quarter', want: [c('due', 'T1', '2026-12-31')] },
    { name: 'due: a week from today', text: 'due: a week from today', want: [c('due', 'T1', '2026-12-24')] },
    { name: 'due by friday at the latest', text: 'due by friday at the latest', want: [c('due', 'T1', '2026-12-18')] },
    { name: 'due date: with thanks', text: 'Due date: Jan 8, thanks!', want: [c('due', 'T1', '2027-01-08')] },
    { name: 'new due date is', text: 'new due date is Jan 8', want: [c('due', 'T1', '2027-01-08')] },
    { name: 'ETA: date', text: 'ETA: Monday', want: [c('due', 'T1', '2026-12-21')] },
    { name: 'a year-less date that has passed is next year', text: 'due: Dec 1', want: [c('due', 'T1', '2027-12-01')] },
    // note and help
    { name: 'note: text', text: 'note: the cert is in the shared drive', want: [c('note', 'T1', 'the cert is in the shared drive')] },
    { name: 'Note - text', text: 'Note - call me before Friday', want: [c('note', 'T1', 'call me before Friday')] },
    { name: 'FYI: text', text: 'FYI: Lena approved the budget', want: [c('note', 'T1', 'Lena approved the budget')] },
    { name: 'help', text: 'help', want: [], help: true },
    { name: 'HELP!', text: 'HELP!', want: [], help: true },
    { name: '?', text: '?', want: [], help: true },
    { name: 'commands', text: 'commands', want: [], help: true },
    // a status with a note after a separator
    { name: 'done - note', text: 'done - uploaded to the shared drive', want: [c('done'), c('note', 'T1', 'uploaded to the shared drive')] },
    { name: 'Done. note', text: 'Done. The file is in the drive.', want: [c('done'), c('note', 'T1', 'The file is in the drive.')] },
    { name: 'started, note', text: 'Started, will finish by Friday', want: [c('in_progress'), c('note', 'T1', 'will finish by Friday')] },
    { name: 'check mark before a remark', text: '\u2705 uploaded it', want: [c('done'), c('note', 'T1', 'uploaded it')] },
    // free text is a note on the email's task
    { name: 'free text', text: 'I will look at this on Monday', want: [c('note', 'T1', 'I will look at this on Monday')] },
    { name: '"done by friday" is a promise, not done', text: 'done by friday', want: [c('note', 'T1', 'done by friday')] },
    { name: '"Blocked the calendar" is a sentence', text: 'Blocked the calendar for the review', want: [c('note', 'T1', 'Blocked the calendar for the review')] },
    { name: '"Due to" is a sentence', text: 'Due to the holidays we slipped a week', want: [c('note', 'T1', 'Due to the holidays we slipped a week')] },
    { name: 'free text keeps emoji', text: 'Looks great \uD83D\uDE80', want: [c('note', 'T1', 'Looks great \uD83D\uDE80')] },
    { name: 'wrapped free text joins one note', text: 'done\nThe SSO file is in the drive\nunder /onboarding.', want: [c('done'), c('note', 'T1', 'The SSO file is in the drive under /onboarding.')] },
    { name: 'paragraphs join one note', text: 'I uploaded it.\n\nLet me know if more is needed.', want: [c('note', 'T1', 'I uploaded it.\n\nLet me know if more is needed.')] },
    { name: 'a note: line continues over lines', text: 'note: the cert\nexpires in March', want: [c('note', 'T1', 'the cert expires in March')] },
    // several commands
    { name: 'two commands in order', text: 'unblock\ndue: Jan 8', want: [c('unblock'), c('due', 'T1', '2027-01-08')] },
    { name: 'quoted history (>) never acts', text: 'done\n> blocked: <reason>\n> due: <date>', want: [c('done')] },
  ])('$name', ({ text, want, help }) => {
    const result = parseReply(text, TASK_EMAIL);
    expect(result.problems).toEqual([]);
    expect(result.commands).toEqual(want);
    expect(result.wantsHelp).toBe(help ?? false);
  });
});

describe('parseReply: task ids (digest replies)', () => {
  it.each([
    { name: 'T3 done', text: 'T3 done', want: [c('done', 'T3')] },
    { name: 't3: done (lowercase, colon) uses the plan spelling', text: 't3: done', want: [c('done', 'T3')] },
    { name: 'T3 - blocked: reason', text: 'T3 - blocked: waiting on legal', want: [c('blocked', 'T3', 'waiting on legal')] },
    { name: '[T3] done', text: '[T3] done', want: [c('done', 'T3')] },
    { name: '#T3 done', text: '#T3 done', want: [c('done', 'T3')] },
    { name: 'T3) done', text: 'T3) done', want: [c('done', 'T3')] },
    { name: 'Task T3: done', text: 'Task T3: done', want: [c('done', 'T3')] },
    { name: 'T3 \u2705', text: 'T3 \u2705', want: [c('done', 'T3')] },
    { name: 'T3 due: date', text: 'T3 due: Jan 8', want: [c('due', 'T3', '2027-01-08')] },
    { name: 'T3 note: text', text: 'T3 note: call Raj', want: [c('note', 'T3', 'call Raj')] },
    { name: 'T3: free text is a note on T3', text: 'T3: uploaded the mapping', want: [c('note', 'T3', 'uploaded the mapping')] },
    { name: 'known id without a digit', text: 'review done', want: [c('done', 'review')] },
    { name: 'several ids', text: 'T2, T3 and T4 done', want: [c('done', 'T2'), c('done', 'T3'), c('done', 'T4')] },
    { name: 'ids after the verb', text: 'done T3', want: [c('done', 'T3')] },
    { name: 'done for ids', text: 'done for T3 and T4', want: [c('done', 'T3'), c('done', 'T4')] },
    { name: 'an unknown id is kept for the plan edits to refuse', text: 'T99 done', want: [c('done', 'T99')] },
    {
      name: 'a digest reply with a line per task',
      text: 'Hi Maya,\n\nT1 done\nT2 blocked: waiting on IT\nT3 due: next friday\nT4: the vendor call moved\n- T5 \u2705\n\nThanks,\nRaj',
      want: [c('done', 'T1'), c('blocked', 'T2', 'waiting on IT'), c('due', 'T3', '2026-12-25'), c('note', 'T4', 'the vendor call moved'), c('done', 'T5')],
    },
    { name: 'a note run continues the id-led note', text: 'T4: the vendor call moved\nto Monday', want: [c('note', 'T4', 'the vendor call moved to Monday')] },
  ])('$name', ({ text, want }) => {
    const result = parseReply(text, DIGEST);
    expect(result.problems).toEqual([]);
    expect(result.commands).toEqual(want);
  });

  it('an id in a task-email reply overrides the email\'s task', () => {
    expect(parseReply('done\nT3 blocked: waiting on IT', TASK_EMAIL).commands).toEqual([c('done', 'T1'), c('blocked', 'T3', 'waiting on IT')]);
  });

  it('"Q3 numbers look good" is free text, not task Q3', () => {
    expect(parseReply('Q3 numbers look good', TASK_EMAIL).commands).toEqual([c('note', 'T1', 'Q3 numbers look good')]);
  });

  it('without the plan\'s ids, an id needs a digit (T3) or an explicit separator to lead free text', () => {
    const bare = { ...TASK_EMAIL, taskIds: undefined };
    expect(parseReply('T3 done', bare).commands).toEqual([c('done', 'T3')]);
    expect(parseReply('T3: uploaded', bare).commands).toEqual([c('note', 'T3', 'uploaded')]);
    expect(parseReply('Sure: uploaded', bare).commands).toEqual([c('note', 'T1', 'Sure: uploaded')]);
  });
});

describe('parseReply: problems for the sender', () => {
  it.each([
    { name: 'blocked without a reason', text: 'blocked', code: 'REPLY_BLOCKED_NEEDS_REASON', options: TASK_EMAIL },
    { name: 'blocked: with nothing after', text: 'blocked:', code: 'REPLY_BLOCKED_NEEDS_REASON', options: TASK_EMAIL },
    { name: 'blocked by (nothing)', text: 'Blocked by', code: 'REPLY_BLOCKED_NEEDS_REASON', options: TASK_EMAIL },
    { name: 'T3 blocked without a reason', text: 'T3 blocked', code: 'REPLY_BLOCKED_NEEDS_REASON', options: DIGEST },
    { name: 'due: someday', text: 'due: someday', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: with nothing after', text: 'due:', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: next month (no day)', text: 'due: next month', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: January (no day)', text: 'due: January', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: two dates', text: 'due: friday or monday', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: in 2 or 3 weeks', text: 'due: in 2 or 3 weeks', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: 2027-02-30', text: 'due: 2027-02-30', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: year 2099', text: 'due: 2099-01-01', code: 'REPLY_BAD_DATE', options: TASK_EMAIL },
    { name: 'due: 3/4 is ambiguous', text: 'due: 3/4', code: 'REPLY_DATE_AMBIGUOUS', options: TASK_EMAIL },
    { name: 'due: 18/12 is refused too', text: 'due: 18/12', code: 'REPLY_DATE_AMBIGUOUS', options: TASK_EMAIL },
    { name: 'due: 12/18/2026', text: 'due: 12/18/2026', code: 'REPLY_DATE_AMBIGUOUS', options: TASK_EMAIL },
    { name: 'due: 18.12.', text: 'due: 18.12.', code: 'REPLY_DATE_AMBIGUOUS', options: TASK_EMAIL },
    { name: 'due 3/4 without a colon', text: 'due 3/4', code: 'REPLY_DATE_AMBIGUOUS', options: TASK_EMAIL },
    { name: 'note: with nothing after', text: 'note:', code: 'REPLY_NOTE_EMPTY', options: TASK_EMAIL },
    { name: 'a digest line without an id', text: 'done', code: 'REPLY_TASK_REQUIRED', options: DIGEST },
    { name: 'free text in a digest reply without an id', text: 'the cert is in the drive', code: 'REPLY_TASK_REQUIRED', options: DIGEST },
    { name: 'an id with nothing after it', text: 'T3', code: 'REPLY_NO_COMMAND', options: DIGEST },
    { name: 'only thanks', text: 'Thanks!', code: 'REPLY_NO_COMMAND', options: TASK_EMAIL },
    { name: 'only a greeting and a sign-off', text: 'Hi Maya,\n\nBest,\nRaj', code: 'REPLY_NO_COMMAND', options: TASK_EMAIL },
    { name: 'empty reply', text: '', code: 'REPLY_NO_COMMAND', options: TASK_EMAIL },
    { name: 'only emoji', text: '\uD83D\uDC4D\uD83C\uDFFD', code: 'REPLY_NO_COMMAND', options: TASK_EMAIL },
    { name: 'a reason longer than a plan line', text: `blocked: ${'x'.repeat(301)}`, code: 'REPLY_TOO_LONG', options: TASK_EMAIL },
    { name: 'a note longer than the limit', text: `note: ${'word '.repeat(150)}\n${'word '.repeat(150)}\n${'word '.repeat(150)}`, code: 'REPLY_TOO_LONG', options: TASK_EMAIL },
  ])('$name → $code', ({ text, code, options }) => {
    const result = parseReply(text, options);
    expect(result.problems.map((p) => p.code)).toContain(code);
    const p = result.problems.find((x) => x.code === code)!;
    expect(p.message.length).toBeGreaterThan(5);
    expect(errorCatalog[p.code].area).toBe('mail');
  });

  it('quotes the offending line and gives its number', () => {
    const result = parseReply('done\n\ndue: someday', TASK_EMAIL);
    expect(result.problems).toMatchObject([{ code: 'REPLY_BAD_DATE', line: 3, quote: 'due: someday', message: '"someday" is not a date Twofold can read' }]);
  });

  it('names the task a digest-line problem is about, as the plan spells it', () => {
    expect(parseReply('t3 blocked', DIGEST).problems).toMatchObject([{ code: 'REPLY_BLOCKED_NEEDS_REASON', task: 'T3', line: 1 }]);
  });

  it('explains an ambiguous date with both readings', () => {
    const [p] = parseReply('due: 3/4', TASK_EMAIL).problems;
    expect(p?.message).toBe('"3/4" could mean Mar 4 or 3 Apr');
    expect(p?.hint).toMatch(/YYYY-MM-DD/);
  });

  it('keeps the good commands beside a problem (the plan edits refuse the whole reply)', () => {
    const result = parseReply('done\ndue: someday', TASK_EMAIL);
    expect(result.commands).toEqual([c('done')]);
    expect(result.problems.map((p) => p.code)).toEqual(['REPLY_BAD_DATE']);
  });

  it('help with other commands keeps both', () => {
    const result = parseReply('done\nhelp', TASK_EMAIL);
    expect(result).toEqual({ commands: [c('done')], problems: [], wantsHelp: true });
  });
});

describe('parseReply: due dates resolve in the plan time zone from the email Date, not the server TZ', () => {
  // 2026-12-18T07:30Z is Thu 23:30 in Los Angeles, Fri 08:30 in Berlin, Fri 20:30 in Auckland.
  // 2026-12-18T11:30Z is Fri 03:30 in Los Angeles, Fri 12:30 in Berlin, Sat 00:30 in Auckland.
  // 2026-12-31T23:30Z is Thu 15:30 in Los Angeles, Fri 2027-01-01 00:30 in Berlin.
  const LATE_THU = new Date('2026-12-18T07:30:00Z');
  const EARLY_SAT_NZ = new Date('2026-12-18T11:30:00Z');
  const NEW_YEAR = new Date('2026-12-31T23:30:00Z');
  const table = [
    { zone: 'America/Los_Angeles', sentAt: LATE_THU, text: 'today', want: '2026-12-17' },
    { zone: 'America/Los_Angeles', sentAt: LATE_THU, text: 'tomorrow', want: '2026-12-18' },
    { zone: 'America/Los_Angeles', sentAt: LATE_THU, text: 'friday', want: '2026-12-18' },
    { zone: 'America/Los_Angeles', sentAt: LATE_THU, text: 'next friday', want: '2026-12-25' },
    { zone: 'America/Los_Angeles', sentAt: LATE_THU, text: 'in 2 weeks', want: '2026-12-31' },
    { zone: 'America/Los_Angeles', sentAt: LATE_THU, text: 'end of week', want: '2026-12-18' },
    { zone: 'Europe/Berlin', sentAt: LATE_THU, text: 'today', want: '2026-12-18' },
    { zone: 'Europe/Berlin', sentAt: LATE_THU, text: 'tomorrow', want: '2026-12-19' },
    { zone: 'Europe/Berlin', sentAt: LATE_THU, text: 'in 2 weeks', want: '2027-01-01' },
    { zone: 'Pacific/Auckland', sentAt: LATE_THU, text: 'tomorrow', want: '2026-12-19' },
    { zone: 'America/Los_Angeles', sentAt: EARLY_SAT_NZ, text: 'tomorrow', want: '2026-12-19' },
    { zone: 'Europe/Berlin', sentAt: EARLY_SAT_NZ, text: 'tomorrow', want: '2026-12-19' },
    { zone: 'Pacific/Auckland', sentAt: EARLY_SAT_NZ, text: 'today', want: '2026-12-19' },
    { zone: 'Pacific/Auckland', sentAt: EARLY_SAT_NZ, text: 'tomorrow', want: '2026-12-20' },
    { zone: 'Pacific/Auckland', sentAt: EARLY_SAT_NZ, text: 'end of week', want: '2026-12-25' },
    { zone: 'Pacific/Auckland', sentAt: EARLY_SAT_NZ, text: 'monday', want: '2026-12-21' },
    { zone: 'America/Los_Angeles', sentAt: NEW_YEAR, text: 'end of month', want: '2026-12-31' },
    { zone: 'America/Los_Angeles', sentAt: NEW_YEAR, text: 'Dec 18', want: '2027-12-18' },
    { zone: 'Europe/Berlin', sentAt: NEW_YEAR, text: 'end of month', want: '2027-01-31' },
    { zone: 'Europe/Berlin', sentAt: NEW_YEAR, text: 'tomorrow', want: '2027-01-02' },
    { zone: 'Europe/Berlin', sentAt: NEW_YEAR, text: 'end of year', want: '2027-12-31' },
    { zone: 'Europe/Berlin', sentAt: NEW_YEAR, text: 'Jan 5', want: '2027-01-05' },
  ];

  it.each(table)('$text sent $sentAt, plan in $zone → $want', ({ zone, sentAt, text, want }) => {
    const result = parseReply(`due: ${text}`, { timezone: zone, sentAt, defaultTask: 'T1' });
    expect(result.problems).toEqual([]);
    expect(result.commands).toEqual([c('due', 'T1', want)]);
  });

  it.each(['UTC', 'Pacific/Kiritimati', 'America/Adak', 'Asia/Kolkata'])('gives the same answers when the server runs in %s', (serverZone) => {
    const saved = process.env.TZ;
    process.env.TZ = serverZone;
    try {
      // The process really runs in that zone now (Node re-reads TZ when it is assigned).
      expect(new Date(Date.UTC(2026, 0, 1, 12)).getTimezoneOffset() + offsetMinutes(serverZone)).toBe(0);
      for (const { zone, sentAt, text, want } of table) {
        expect(parseReplyDate(text, { timezone: zone, sentAt }), `${text} in ${zone} on a ${serverZone} server`).toEqual({ ok: true, date: want });
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

function offsetMinutes(zone: string): number {
  const part = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(new Date(Date.UTC(2026, 0, 1))).find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part);
  if (!m) return 0; // plain "GMT"
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

describe('parseReply: hostile input is bounded', () => {
  const BUDGET_MS = 300;
  // chrono-node compiles its patterns on first use (~0.1 s); time the parser, not that.
  beforeAll(() => void parseReply('due: 22 December', TASK_EMAIL));
  const hostile: { name: string; text: string }[] = [
    { name: 'a long run of spaces then junk', text: `blocked${' '.repeat(MAX_LINE_CHARS - 10)}!` },
    { name: 'separators without end', text: `done${' -'.repeat(490)}x` },
    { name: 'punctuation before a courtesy word', text: `${', '.repeat(495)}thanks` },
    { name: 'repeated thanks', text: 'done thanks'.repeat(90) },
    { name: 'id-like tokens everywhere', text: 'T1, '.repeat(240) },
    { name: 'numbers and slashes in a due date', text: `due: ${'1/'.repeat(490)}` },
    { name: 'a due date of letters', text: `due: ${'a'.repeat(990)}` },
    { name: 'blocked followed by prepositions', text: `blocked ${'by on '.repeat(160)}` },
    { name: 'emoji flood', text: '\u2705\uFE0F\u200D'.repeat(330) },
    { name: 'quote characters', text: `${'"*_'.repeat(330)}done` },
    { name: 'nested brackets', text: `${'[#'.repeat(495)}T1] done` },
    { name: 'greeting lookalike', text: `Hi ${'Maya '.repeat(190)},` },
    { name: 'fifty long lines', text: Array.from({ length: MAX_REPLY_LINES }, (_, i) => `T${i} blocked: ${'waiting on '.repeat(30)}`).join('\n') },
    { name: 'fifty due lines', text: Array.from({ length: MAX_REPLY_LINES }, () => 'due: the friday after next or maybe the monday after that').join('\n') },
    { name: 'control characters and bidi overrides', text: 'done\u0000\u0007\u202E\u2066 blocked: \u202Ereversed' },
    { name: 'lone surrogates', text: '\uD800 done \uDC00' },
  ];

  it.each(hostile)('$name parses within the time budget without throwing', ({ text }) => {
    const started = performance.now();
    for (const options of [TASK_EMAIL, DIGEST]) parseReply(text, options);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS * 2);
  });

  it('refuses a reply longer than the limit before reading it', () => {
    const huge = 'done\n'.repeat(2_000_000);
    const started = performance.now();
    const result = parseReply(huge, TASK_EMAIL);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS);
    expect(result).toMatchObject({ commands: [], problems: [{ code: 'REPLY_TOO_LONG' }] });
    expect(huge.length).toBeGreaterThan(MAX_REPLY_CHARS);
  });

  it('refuses more lines than the limit', () => {
    const result = parseReply('done\n'.repeat(MAX_REPLY_LINES + 1), TASK_EMAIL);
    expect(result.commands).toEqual([]);
    expect(result.problems.map((p) => p.code)).toEqual(['REPLY_TOO_LONG']);
  });

  it('refuses a line longer than the limit and says which', () => {
    const result = parseReply(`done\n${'x'.repeat(MAX_LINE_CHARS + 1)}`, TASK_EMAIL);
    expect(result.problems).toMatchObject([{ code: 'REPLY_TOO_LONG', line: 2, message: `line 2 is longer than the ${MAX_LINE_CHARS} characters Twofold reads in a line` }]);
  });

  it('random garbage never becomes a status change', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 :;,.-!?"\'()[]#\u2014\u00E9\u4E2D\uD83D\uDE00\n';
    const started = performance.now();
    for (let i = 0; i < 300; i++) {
      const length = 20 + Math.floor(rand() * 400);
      let text = '';
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const result = parseReply(text, TASK_EMAIL);
      for (const command of result.commands) expect(['note']).toContain(command.verb);
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('strips control characters and bidi overrides from values', () => {
    const result = parseReply('blocked: waiting\u202E on\u0007 IT', TASK_EMAIL);
    expect(result.commands).toEqual([c('blocked', 'T1', 'waiting on IT')]);
  });
});

describe('REPLY_GRAMMAR_HELP', () => {
  it('lists every command and reads on a phone (short lines, plain text)', () => {
    for (const word of ['done', 'blocked:', 'unblock', 'in progress', 'due:', 'note:', 'reopen', 'help', 'T3 done']) expect(REPLY_GRAMMAR_HELP).toContain(word);
    expect(REPLY_GRAMMAR_HELP).not.toMatch(/<\/?(?:p|br|a|b|i|div|span|strong|em)\b/i);
    for (const line of REPLY_GRAMMAR_HELP.split('\n')) expect(line.length, line).toBeLessThanOrEqual(40);
  });

  it('its examples parse as it says', () => {
    const examples = REPLY_GRAMMAR_HELP.split('\n').filter((l) => /^T\d /.test(l));
    const result = parseReply(examples.join('\n'), DIGEST);
    expect(result.problems).toEqual([]);
    expect(result.commands.map((x) => `${x.task} ${x.verb}`)).toEqual(['T3 done', 'T4 blocked', 'T5 due']);
  });
});

describe('README "Replying by email"', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Replying by email'), readme.indexOf('\n## ', readme.indexOf('## Replying by email') + 5));
  const examples = [...section.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has its examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples.map((text, i) => ({ i, text })))('example $i parses without problems', ({ text }) => {
    const options = /^T\d/m.test(text) ? DIGEST : TASK_EMAIL;
    const result = parseReply(text, options);
    expect(result.problems).toEqual([]);
    expect(result.commands.length).toBeGreaterThan(0);
    expect(result.commands.every((x) => x.verb !== 'note' || /vendor call/.test(x.value ?? ''))).toBe(true);
  });
});

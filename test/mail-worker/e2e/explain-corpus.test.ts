/**
 * Every message of the reply corpus (test/fixtures/corpus/replies, a copy of the shared corpus)
 * through `twofold mail explain --json` — the whole pipeline as a dry run — with its expected
 * outcome recorded here, twice:
 *
 *  1. as it is: none is addressed to a signed reply address, so each is rejected (no token, or
 *     a malformed one), except the machine-made ones, which are ignored before any token check;
 *  2. re-addressed: the same bytes with To rewritten to a valid reply address of an example-plan
 *     person (Hamish, task T9 of tamarind-vale) and From to that person. Then what the sender
 *     newly wrote decides: free text becomes a note on T9 (the grammar's rule), a message whose
 *     new text is only a greeting or a thanks holds no command (REPLY_NO_COMMAND, which the
 *     worker answers with the reply commands), and machines stay ignored.
 *
 * A handful run as real subprocesses of the CLI (and must print exactly what the in-process run
 * gives); the rest run in-process through the same evaluateMessage and explanation().
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explanation, type Explanation } from '../../../scripts/cli/commands/mail/explain.ts';
import { replyAddressFor } from '../../../mail-worker/mail/mail-context.ts';
import { evaluateMessage } from '../../../mail-worker/pipeline/evaluate-message.ts';
import { openPlanDirectory } from '../../../mail-worker/stores/plan-directory-fs.ts';
import { corpusMessages } from '../../helpers/corpus-messages.ts';
import { bodyBytes, readdress } from '../../helpers/reply-builder.ts';
import { runTwofold, STACK_FRAME } from '../../helpers/run-twofold.ts';
import { identityFor, workerProject, type WorkerProject } from '../../helpers/worker-project.ts';

const NOW = '2026-12-03T09:00:00Z';
const HAMISH = 'hamish.fq@tamarindvale.example';

type Outcome = Pick<Explanation, 'verdict' | 'reason'> & { commands?: Explanation['commands'] };

const NO_TOKEN: Outcome = { verdict: 'reject', reason: 'MAIL_NO_TOKEN' };
/** The corpus wrapper for bare bodies writes To: twofold+token@…: our form, a broken token. */
const BAD_TOKEN: Outcome = { verdict: 'reject', reason: 'REPLY_TOKEN_MALFORMED' };
const AUTO_REPLY: Outcome = { verdict: 'ignore', reason: 'MAIL_AUTO_REPLY' };
const BOUNCE: Outcome = { verdict: 'ignore', reason: 'MAIL_BOUNCE' };
const NOTHING_NEW: Outcome = { verdict: 'reject', reason: 'REPLY_NO_COMMAND', commands: [] };
const note = (value: string): Outcome => ({ verdict: 'apply', reason: 'REPLY_APPLIED', commands: [{ task: 'T9', verb: 'note', value }] });

// The crisp-im paragraph, wrapped over five lines in the message: one note, lines joined.
const FUSCE = note(
  'Fusce bibendum, quam hendrerit sagittis tempor, dui turpis tempus erat, pharetra sodales ante sem sit amet metus. Nulla malesuada, orci non vulputate lobortis, massa felis pharetra ex, convallis consectetur ex libero eget ante. Nam vel turpis posuere, rhoncus ligula in, venenatis orci. Duis interdum venenatis ex a rutrum. Duis ut libero eu lectus consequat consequat ut vel lorem. Vestibulum convallis lectus urna, et mollis ligula rutrum quis. Fusce sed odio id arcu varius aliquet nec nec nibh.',
);

/** name → [as it is, re-addressed to Hamish's T9 reply address from Hamish]. */
const EXPECTED: Record<string, [Outcome, Outcome]> = {
  'discourse-android_gmail.eml': [
    NO_TOKEN,
    note('### this is a reply from Android 5 gmail\n\nThe quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.\n\nThis is **bold** in Markdown.\n\nThis is a link to http://example.com'),
  ],
  'discourse-auto_reply.eml': [AUTO_REPLY, AUTO_REPLY],
  'discourse-bounced_email.eml': [BOUNCE, BOUNCE],
  'discourse-chinese_reply.eml': [NO_TOKEN, note('您好！ 你今天好吗？')],
  // "Hey," opens the message: a greeting, not part of the note. (DMARC is off in this project.)
  'discourse-dmarc_fail.eml': [NO_TOKEN, note('this is a topic from an existing user ;)')],
  // The whole body sits in Exchange's quoted-original section: nothing new was written.
  'discourse-exchange_html_reply.eml': [NO_TOKEN, NOTHING_NEW],
  'discourse-hard_bounce_via_verp.eml': [BOUNCE, BOUNCE],
  // Only "Thanks!" above the quote: courtesy, no command.
  'discourse-multiline_wrote.eml': [NO_TOKEN, NOTHING_NEW],
  'email-reply-parser-email_finnish.txt': [BAD_TOKEN, FUSCE],
  'email-reply-parser-email_german.txt': [BAD_TOKEN, FUSCE],
  'email-reply-parser-email_gmail_split_line_from.txt': [BAD_TOKEN, FUSCE],
  'email-reply-parser-email_ios_outlook.txt': [BAD_TOKEN, FUSCE],
  'email-reply-parser-email_msn.txt': [BAD_TOKEN, FUSCE],
  'email-reply-parser-email_norwegian_gmail.txt': [BAD_TOKEN, FUSCE],
  'email-reply-parser-email_outlook_split_line_from.txt': [BAD_TOKEN, FUSCE],
  'email-reply-parser-email_portuguese.txt': [BAD_TOKEN, FUSCE],
  // The grammar drops a trailing "thanks" from each line and the dash before a name.
  'email_reply_parser-email_1_3.txt': [BAD_TOKEN, note('Oh\n\nHaving the function would be great.\n\nAbhishek Kona')],
  'email_reply_parser-email_1_6.txt': [BAD_TOKEN, note('I get proper rendering as well.')],
  'email_reply_parser-email_1_7.txt': [BAD_TOKEN, note(':+1:')],
  'email_reply_parser-email_1_8.txt': [BAD_TOKEN, note('I will reply under this one\n\nand under this.')],
  'email_reply_parser-email_2_1.txt': [BAD_TOKEN, note('Outlook with a reply')],
  'email_reply_parser-email_2_2.txt': [BAD_TOKEN, note('Outlook with a reply directly above line')],
  'email_reply_parser-email_2_3.txt': [BAD_TOKEN, note('Outlook with a reply directly above line')],
  'email_reply_parser-email_one_is_not_on.txt': [BAD_TOKEN, note('Thank, this is really helpful.\n\nOne outstanding question I had:\n\nLocally (on development), when I run...')],
  'email_reply_parser-email_sent_from_my_not_signature.txt': [BAD_TOKEN, note('Here is another email\n\nSent from my desk, is much easier then my mobile phone.')],
  'email_reply_parser-email_sig_delimiter_in_middle_of_line.txt': [BAD_TOKEN, note('Stuff happened.\n\nAnd here is a fix -- this is not a signature.\n\nkthxbai')],
  // Talon's replies say only "Hello" above the quote: a greeting is no command and no note.
  'talon-android.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-aol.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-apple_mail.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-comcast.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-gmail.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-hotmail.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-iphone.eml': [NO_TOKEN, NOTHING_NEW],
  // "Hi. I am fine.\nThanks,\nAlex": the sign-off goes, the sentence is the note.
  'talon-ms_outlook_2010.html': [BAD_TOKEN, note('Hi. I am fine.')],
  'talon-outlook.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-reply-quotations-share-block.eml': [
    NO_TOKEN,
    note("Hi Katharine. Sounds great. Are there and dietry restrictions or things your husband does/doesn't like to eat? Would you like to do a few hors d oeuvres and then a 3 or 4 course dinner? Let me know what you think will work best and I will start working on a menu and proposal. Thanks so much and look forward to hearing from you soon.\n\nJoe XXX"),
  ],
  'talon-sparrow.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-thunderbird.eml': [NO_TOKEN, NOTHING_NEW],
  'talon-windows_mail.html': [BAD_TOKEN, note('Hi. I am fine.')],
  'talon-yahoo.eml': [NO_TOKEN, NOTHING_NEW],
};

/** Run as subprocesses of the real CLI: one per kind of outcome. */
const VIA_CLI = ['discourse-auto_reply.eml', 'talon-gmail.eml', 'email-reply-parser-email_german.txt', 'discourse-dmarc_fail.eml', 'discourse-bounced_email.eml'];

const corpus = corpusMessages();
let project: WorkerProject;
let replyAddress: string;
let scratch: string;

beforeAll(async () => {
  project = await workerProject({ passwords: [] });
  replyAddress = await replyAddressFor({ store: project.store, identity: identityFor(), now: new Date(NOW) }, 'tamarind-vale', 'T9', HAMISH);
  scratch = await mkdtemp(path.join(os.tmpdir(), 'twofold-explain-'));
});

afterAll(async () => {
  await project?.remove();
  await rm(scratch, { recursive: true, force: true });
});

function readdressed(raw: Buffer): Buffer {
  return readdress(raw, { from: `Hamish Ferreira-Quaid <${HAMISH}>`, to: replyAddress });
}

async function explainInProcess(raw: Buffer): Promise<Explanation> {
  return explanation(
    await evaluateMessage(raw, {
      identity: identityFor(),
      plans: openPlanDirectory(project.paths),
      replyKey: async (version) => (await project.store.replyKey(version))?.key,
      now: new Date(NOW),
    }),
  );
}

async function explainViaCli(name: string, raw: Buffer): Promise<Explanation> {
  const file = path.join(scratch, `${name}.eml`);
  await writeFile(file, raw);
  const run = await runTwofold(['mail', 'explain', file, '--json', '--now', NOW], { cwd: project.root, env: cleanEnv() });
  expect(run.stderr).not.toMatch(STACK_FRAME);
  expect(run.code, run.stderr).toBe(0);
  const lines = run.stdout.trim().split('\n');
  expect(lines, 'exactly one JSON object on stdout').toHaveLength(1);
  const printed = JSON.parse(lines[0]!) as Explanation;
  expect(Object.keys(printed)).toEqual(['verdict', 'reason', 'plan', 'task', 'sender', 'text', 'commands']);
  return printed;
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_')));
}

function expectOutcome(got: Explanation, want: Outcome, readdressedCase: boolean): void {
  expect({ verdict: got.verdict, reason: got.reason }).toEqual({ verdict: want.verdict, reason: want.reason });
  if (want.commands) expect(got.commands).toEqual(want.commands);
  if (got.verdict === 'apply' || want.reason === 'REPLY_NO_COMMAND') {
    // Authenticated: the token's plan and task, the sender, the new text all reported.
    expect(got).toMatchObject({ plan: 'tamarind-vale', task: 'T9', sender: HAMISH });
    expect(typeof got.text).toBe('string');
  }
  if (!readdressedCase || want.verdict === 'ignore') {
    // Never authenticated: nothing of a plan, no commands.
    expect(got).toMatchObject({ plan: null, task: null, text: null, commands: [] });
  }
}

describe('the reply corpus through `twofold mail explain --json`', () => {
  it('has an expected outcome for every file of the corpus', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(corpus.map((m) => m.name).sort());
  });

  it.each(corpus.map((m) => ({ ...m, viaCli: VIA_CLI.includes(m.name) })))('$name as it is', async ({ name, raw, viaCli }) => {
    const got = await explainInProcess(raw);
    expectOutcome(got, EXPECTED[name]![0], false);
    if (viaCli) expect(await explainViaCli(name, raw)).toEqual(got);
  });

  it.each(corpus.map((m) => ({ ...m, viaCli: VIA_CLI.includes(m.name) })))('$name re-addressed to a plan person', async ({ name, raw, viaCli }) => {
    const message = readdressed(raw);
    // The body bytes are untouched: only the two header fields changed.
    expect(bodyBytes(message).equals(bodyBytes(raw))).toBe(true);
    expect(message.toString('latin1')).toContain(`To: ${replyAddress}`);
    const got = await explainInProcess(message);
    expectOutcome(got, EXPECTED[name]![1], true);
    if (viaCli) expect(await explainViaCli(`${name}-readdressed`, message)).toEqual(got);
  });

  it('writes nothing: no plan, log, journal or outbox changes after explaining the whole corpus', async () => {
    const before = await project.planBytes();
    const log = await readFile(path.join(project.paths.activityDir, 'tamarind-vale.jsonl'));
    for (const { raw } of corpus) await explainInProcess(readdressed(raw));
    expect(await project.planBytes()).toEqual(before);
    expect((await readFile(path.join(project.paths.activityDir, 'tamarind-vale.jsonl'))).equals(log)).toBe(true);
    const exists = (p: string) => readFile(p).then(() => true, (err) => (err.code === 'EISDIR' ? true : false));
    expect(await exists(project.paths.journalDir)).toBe(false);
    expect(await exists(project.paths.outboxDir)).toBe(false);
  });
});

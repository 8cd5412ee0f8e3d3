/**
 * What the fault, hostile-input and load tests of test/faults/ try, in one place: the tests read
 * their sizes from here, and `figures.test.ts` prints the inventory for the closing note (and
 * fails when an entry names a test that no longer exists).
 */
import { BURST_REPLIES, TWO_WORKER_REPLIES } from './load-plan.ts';

export const GRAMMAR_FUZZ = { seed: 0x6a3_21, families: 3, linesPerFamily: 1_400, repliesPerFamily: 150, minLines: 5_000 } as const;

/** The whole-processor fuzz (processor-fuzz.test.ts): per corpus/fixture message, per valid reply template, and random. */
export const PROCESSOR_FUZZ = {
  seed: 0x2f0_1d,
  mutationsPerSource: 3,
  readdressedPerSource: 3,
  validTemplates: 13,
  mutationsPerValid: 40,
  intactPerValid: 2,
  randomBytes: 120,
  randomHeaderText: 80,
  minCases: 1_000,
  timeLimitMs: 5_000,
} as const;

export function processorFuzzCases(sources: number): number {
  const f = PROCESSOR_FUZZ;
  return sources * (f.mutationsPerSource + f.readdressedPerSource) + f.validTemplates * (f.mutationsPerValid + f.intactPerValid) + f.randomBytes + f.randomHeaderText;
}

/** Every kind of email Twofold sends; the header-injection test sends each one. */
export const OUTGOING_KINDS = ['task', 'digest', 'reminder', 'escalation', 'invite REQUEST', 'invite CANCEL', 'confirmation', 'explanation', 'help', 'CSM notice', 'build failure notice'] as const;

/** Replies sent with a forwarded reply token (tokens.test.ts); more than the CSM's hourly notice limit. */
export const FORWARDED_REPLIES = 30;

/** A fault injected into a running system, and the test that injects it and checks the outcome. */
export interface FaultEntry {
  fault: string;
  injected: string;
  survived: string;
  file: string;
  /** A unique part of the test's title in `file`. */
  test: string;
}

export const FAULTS: FaultEntry[] = [
  {
    fault: 'worker process SIGKILLed between writing a plan and recording the message as done',
    injected: 'TWOFOLD_FAULT=kill-after-plan-write in a real `twofold worker` on Dovecot',
    survived: 'restarted worker applies the reply once (one log entry per verb, the line changed once), one confirmation, a redelivery is a duplicate',
    file: 'worker-process.test.ts',
    test: 'SIGKILL after the plan write',
  },
  {
    fault: 'disk full when the plan is written (`mail ingest`, an MTA pipe)',
    injected: 'TWOFOLD_FAULT=enospc-on-plan-write',
    survived: 'exit 75 (MTA retries), plan bytes unchanged, no temp file, PLAN_WRITE_FAILED logged; the retry applies it once',
    file: 'worker-process.test.ts',
    test: 'ENOSPC on the plan write through `mail ingest`',
  },
  {
    fault: 'disk full when the plan is written (worker on IMAP)',
    injected: 'TWOFOLD_FAULT=enospc-on-plan-write in a real `twofold worker`',
    survived: 'message stays in INBOX, PLAN_WRITE_FAILED + MAIL_HANDLER_FAILED logged; a worker with room applies it once',
    file: 'worker-process.test.ts',
    test: 'ENOSPC in a worker watching IMAP',
  },
  {
    fault: 'outgoing SMTP down when a confirmation is due, worker SIGKILLed and restarted twice',
    injected: 'smtp-capture setDown(true), then false',
    survived: 'spooled, retried at growing intervals, delivered exactly once, nothing resent after restarts',
    file: 'worker-process.test.ts',
    test: 'spools it, retries with growing delays',
  },
  {
    fault: 'Dovecot restarts while the worker idles',
    injected: 'Dovecot stopped and started on the same port under a running `twofold worker`',
    survived: 'the worker reconnects and applies a reply delivered after the restart',
    file: 'worker-process.test.ts',
    test: 'reconnects by itself and applies a reply delivered after the restart',
  },
  {
    fault: 'a worker with no inbound source (scheduler only)',
    injected: 'TWOFOLD_INBOUND_SMTP=false, no IMAP',
    survived: 'keeps running until SIGTERM, exits 0',
    file: 'worker-process.test.ts',
    test: 'keeps running until it is stopped',
  },
  {
    fault: 'outgoing SMTP goes down and comes back in the middle of a 50-reply burst',
    injected: 'smtp-capture setDown(true) for the first 25 confirmations, up while 25 more arrive',
    survived: 'all 50 applied once, all 50 confirmations delivered exactly once',
    file: 'load.test.ts',
    test: 'while the outgoing SMTP server goes down and comes back',
  },
  {
    fault: 'the same reply delivered twice into a mailbox shared by two worker processes with separate journals',
    injected: 'every tenth of 100 replies APPENDed twice while two `twofold worker` processes share the INBOX',
    survived: 'each copy handled by one worker, the second recognised by its Message-ID in the activity log: applied and confirmed once',
    file: 'load.test.ts',
    test: 'each applied exactly once in total',
  },
  {
    fault: '`astro build` fails after a reply changed a plan',
    injected: "Astro's cache directory made a file: the real Astro build fails (BUILD_ASTRO_FAILED)",
    survived: 'the change stays in the plan, dist/ byte-identical and still decrypts, the CSM gets one notice (rate-limited)',
    file: 'portal.test.ts',
    test: 'a full build that Astro fails after a reply',
  },
];

/** Hostile inputs beyond the generated fuzz cases, each a table row or a test of its own. */
export const HOSTILE: Array<{ kind: string; cases: number; file: string; test: string }> = [
  { kind: 'oversized message at each source (SMTP with SIZE, SMTP without, IMAP, mail ingest)', cases: 4, file: 'hostile-input.test.ts', test: 'oversized messages are refused early' },
  { kind: 'header injection: a plan with CR/LF + Bcc in every name and title, replies with it encoded in From and Subject', cases: OUTGOING_KINDS.length, file: 'hostile-input.test.ts', test: 'every kind goes out with one To' },
  { kind: 'hostile plan files refused by build (6 hostile YAML fixtures + a plan over 1 MB) and by check', cases: 7, file: 'hostile-input.test.ts', test: 'build exits 1 with BUILD_PLANS_INVALID' },
  { kind: 'path traversal: 7 CLI commands, a `..md` plan file, `../T1` task ids, a token for "../../etc/passwd"', cases: 10, file: 'hostile-input.test.ts', test: 'path traversal in slugs, names, ids and tokens' },
  { kind: 'HTML/script in plan fields (7) and the Markdown body (3), in the payload and in Chromium', cases: 10, file: 'portal.test.ts', test: 'no dialog opens and no injected handler runs' },
  { kind: 'text that only looks like a command (check marks inside sentences)', cases: 6, file: 'grammar-fuzz.test.ts', test: 'text that only looks like a command' },
  { kind: 'replies with a forwarded reply token', cases: FORWARDED_REPLIES, file: 'tokens.test.ts', test: 'a reply token used by someone the task email was forwarded to' },
];

export const LOAD = [
  { burst: 'embedded SMTP inbox, at once', replies: BURST_REPLIES },
  { burst: 'embedded SMTP inbox, at once, outgoing SMTP down then up', replies: BURST_REPLIES },
  { burst: 'Dovecot mailbox, at once, one worker', replies: BURST_REPLIES },
  { burst: 'Dovecot mailbox, two worker processes with their own local stores (10 replies delivered twice: applied once)', replies: TWO_WORKER_REPLIES },
] as const;

/** Faults and hostile cases other test files already cover (referenced in the closing note, not repeated here). */
export const COVERED_ELSEWHERE = [
  'IMAP connection dropped mid-fetch and before the move; Dovecot restart while the source idles; stalled IDLE; two sources on one mailbox, 100 messages (test/mail-worker/sources/imap-source.test.ts)',
  'poison message moved to Failed after MAX_ATTEMPTS (test/mail-worker/sources/imap-source.test.ts)',
  'mail parsing fuzz: 2,142 seeded cases — 67 corpus and fixture messages × 26 mutations, 200 random byte strings, 200 random header-like texts (test/mail-worker/pipeline/hostile-mail.test.ts)',
  'reply tokens forged, tampered, expired, cross-plan, cross-person, timing-safe (test/core/reply/reply-token.test.ts)',
  'header injection per mail kind (test/mail-worker/mail/*.test.ts)',
  'hostile YAML fixtures under `twofold check` (test/fixtures/plans/invalid, test/core/plan/plan-schema.test.ts, test/cli/check.test.ts)',
  'rate limits of answers and notices (test/mail-worker/mail/reply-rate-limit-fs.test.ts)',
  'wrong portal password in Chromium shows nothing (test/portal/portal-build-browser.test.ts, test/portal/unlock-browser.test.ts)',
];

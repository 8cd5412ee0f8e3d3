/**
 * Every reply scenario of the main job through the real processor (`createWorkerCore` →
 * `processor.handle`, the handler every inbound source calls): the verdict and reason code, the
 * exact lines of the plan file that change (or that no byte changes), the activity log, and the
 * answer — a confirmation, an explanation, the help text, a notice to the CSM, or silence —
 * read from the outbox the worker writes. Each scenario runs in its own copy of the example
 * plans. Replies are built like a mail client writes them (test/helpers/reply-builder.ts), the
 * machine-made ones come from test/fixtures/replies/.
 */
import type { ParsedMail } from 'mailparser';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../site/core/errors/error-catalog.ts';
import type { ActivityEntry } from '../../../site/core/plan/activity.ts';
import { loadPlanText } from '../../../site/core/plan/plan-validate.ts';
import { tokenFromAddress, verifyReplyToken } from '../../../site/core/reply/reply-token.ts';
import { threadRootId } from '../../../mail-worker/mail/mail-context.ts';
import { sendTaskEmails } from '../../../mail-worker/mail/send-task-emails.ts';
import type { VerdictKind } from '../../../mail-worker/pipeline/evaluate-message.ts';
import { normaliseMessageId } from '../../../mail-worker/pipeline/normalise-message-id.ts';
import { openPlanDirectory } from '../../../mail-worker/stores/plan-directory-fs.ts';
import type { SourceEvent } from '../../../mail-worker/sources/message-handler.ts';
import type { WorkerCore } from '../../../mail-worker/worker.ts';
import { answerSent, REPLY_FIXTURES_DIR, replyAs, replyFixture, type ReplyAsOptions } from '../../helpers/reply-builder.ts';
import { lineDiff, workerProject, type WorkerProject } from '../../helpers/worker-project.ts';

/** Thursday 3 December 2026, 20:00 in Sydney (the plan's zone): "today" there is 2026-12-03. */
const NOW = new Date('2026-12-03T09:00:00Z');
const SLUG = 'tamarind-vale';
const HAMISH = { name: 'Hamish Ferreira-Quaid', address: 'hamish.fq@tamarindvale.example' };
const KIRRA = 'kirra.woodbury@tamarindvale.example';
const BRONWYN = 'bronwyn.achterberg@tamarindvale.example';
const DELPHINE = { name: 'Delphine Okonjo-Marsh', address: 'delphine.okonjo-marsh@tamarindvale.example' };
const WRENNA = 'wrenna.castellanos@kestrelbyte.example';
const EIRIK = { name: 'Eirik Tvedtnes', address: 'eirik.tvedtnes@halvorsen-marine.example' };

// Lines of content/plans/tamarind-vale.mdx the scenarios touch.
const T9 = (tail = ', due: +8w') => `      - { id: T9, title: Configure single sign-on in Okta and send the app metadata, owner: hamish${tail} }`;
const T8_STATUS = '        status: blocked';
const T8_BLOCKED = '        blocked: { reason: waiting on the external penetration-test report the risk committee asked for, since: 2026-11-16 }';
const T11 = (tail: string) => `      - { id: T11, title: Map the 38 stores and their rosters into support queues, owner: kirra, due: +7w${tail} }`;
const T13 = (tail: string) => `      - { id: T13, title: Choose the five pilot pharmacies and book their training, owner: bronwyn, due: +10w${tail} }`;
const T16 = (tail: string) => `      - { id: T16, title: Run two weeks of pilot support and log every question that fell through, owner: kirra, due: +12w${tail} }`;

type Answer = 'confirm' | 'explain' | 'help' | 'csm' | 'silent';

interface Scenario {
  name: string;
  build(kit: Kit): Promise<Buffer>;
  verdict: VerdictKind;
  reason: ErrorCode;
  /** The plan file's lines that go and come; absent: not one byte of any plan changes. */
  plan?: { removed: string[]; added: string[] };
  /** Activity entries the message adds (matched on these fields). */
  activity?: Array<Partial<ActivityEntry>>;
  answer: Answer;
  /** Text the answer's plain-text part must contain. */
  says?: string[];
}

interface Kit {
  project: WorkerProject;
  core: WorkerCore;
  /** A reply to a tamarind-vale task email (default: from the task's owner, at NOW). */
  reply(options: Omit<ReplyAsOptions, 'slug'> & { slug?: string }): Promise<Buffer>;
  /** A fixture of test/fixtures/replies, sent by Hamish to his T9 reply address. */
  fixture(name: string): Promise<Buffer>;
}

const grammar: Scenario[] = [
  { name: 'done', build: (k) => k.reply({ task: 'T9', text: 'done' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: +8w, status: done, done: 2026-12-03')] }, activity: [{ actor: 'hamish', verb: 'done', task: 'T9' }], answer: 'confirm', says: ['T9: to do → done'] },
  { name: 'completed', build: (k) => k.reply({ task: 'T9', text: 'Completed.' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: +8w, status: done, done: 2026-12-03')] }, activity: [{ verb: 'done', task: 'T9' }], answer: 'confirm', says: ['T9: to do → done'] },
  { name: 'a check mark emoji', build: (k) => k.reply({ task: 'T9', text: '✅' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: +8w, status: done, done: 2026-12-03')] }, activity: [{ verb: 'done', task: 'T9' }], answer: 'confirm', says: ['T9: to do → done'] },
  { name: '"Finished!! thanks" with punctuation and a trailing thanks', build: (k) => k.reply({ task: 'T9', text: 'Finished!! thanks 🙏' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: +8w, status: done, done: 2026-12-03')] }, activity: [{ verb: 'done', task: 'T9' }], answer: 'confirm' },
  {
    name: 'blocked: reason',
    build: (k) => k.reply({ task: 'T9', text: 'blocked: waiting on IT' }),
    verdict: 'apply',
    reason: 'REPLY_APPLIED',
    plan: { removed: [T9()], added: [T9(', due: +8w, status: blocked, blocked: { reason: waiting on IT, since: 2026-12-03 }')] },
    activity: [{ actor: 'hamish', verb: 'blocked', task: 'T9', value: 'waiting on IT' }],
    answer: 'confirm',
    says: ['T9: to do → blocked (waiting on IT)'],
  },
  { name: 'unblock', build: (k) => k.reply({ task: 'T8', text: 'Unblock' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T8_STATUS, T8_BLOCKED], added: ['        status: todo'] }, activity: [{ verb: 'unblock', task: 'T8' }], answer: 'confirm', says: ['T8: blocked → to do'] },
  { name: 'reopen', build: (k) => k.reply({ task: 'T11', text: 'reopen' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T11(', status: done, done: 2026-11-27')], added: [T11(', status: todo')] }, activity: [{ actor: 'kirra', verb: 'reopen', task: 'T11' }], answer: 'confirm', says: ['T11: done → to do'] },
  { name: 'in progress', build: (k) => k.reply({ task: 'T9', text: 'in progress' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: +8w, status: in_progress')] }, activity: [{ verb: 'in_progress', task: 'T9' }], answer: 'confirm', says: ['T9: to do → in progress'] },
  { name: 'due: an absolute date', build: (k) => k.reply({ task: 'T9', text: 'due: 2026-12-10' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: 2026-12-10')] }, activity: [{ verb: 'due', task: 'T9', value: '2026-12-10' }], answer: 'confirm', says: ['T9: due 2026-12-07 → 2026-12-10'] },
  // The "Technical setup" milestone is due +9w = 2026-12-14: a task cannot end after it.
  {
    name: 'due: a date past the milestone, which moves the milestone too',
    build: (k) => k.reply({ task: 'T9', text: 'Due: Dec 18' }),
    verdict: 'apply',
    reason: 'REPLY_APPLIED',
    plan: { removed: ['    due: +9w', T9()], added: ['    due: 2026-12-18', T9(', due: 2026-12-18')] },
    activity: [{ verb: 'due', task: 'T9', value: '2026-12-18' }],
    answer: 'confirm',
    says: ['T9: due 2026-12-07 → 2026-12-18; the "Technical setup" milestone moves to 2026-12-18 with it'],
  },
  // Sent Thursday 3 December in Sydney: "next friday" is the Friday of next week.
  { name: 'due: next friday', build: (k) => k.reply({ task: 'T9', text: 'due: next friday' }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: 2026-12-11')] }, activity: [{ verb: 'due', task: 'T9', value: '2026-12-11' }], answer: 'confirm', says: ['T9: due 2026-12-07 → 2026-12-11'] },
  {
    name: 'note: text',
    build: (k) => k.reply({ task: 'T9', text: 'note: the Okta tenant is tamarindvale.okta.example' }),
    verdict: 'apply',
    reason: 'REPLY_APPLIED',
    activity: [{ actor: 'hamish', verb: 'note', task: 'T9', value: 'the Okta tenant is tamarindvale.okta.example' }],
    answer: 'confirm',
    says: ['Note added to T9:', 'the Okta tenant is tamarindvale.okta.example'],
  },
  {
    name: 'free text, which becomes a note',
    build: (k) => k.reply({ task: 'T9', text: 'Hi Wrenna,\n\nI asked Okta support to enable SAML for our tenant.\n\nCheers,\nHamish' }),
    verdict: 'apply',
    reason: 'REPLY_APPLIED',
    activity: [{ verb: 'note', task: 'T9', value: 'I asked Okta support to enable SAML for our tenant.' }],
    answer: 'confirm',
    says: ['I asked Okta support to enable SAML for our tenant.'],
  },
  {
    name: 'a multi-line digest reply',
    build: (k) => k.reply({ task: 'digest', person: HAMISH.address, text: 'T9 done\nT8 blocked: waiting on the risk committee, meets 9 Dec' }),
    verdict: 'apply',
    reason: 'REPLY_APPLIED',
    plan: { removed: [T8_BLOCKED, T9()], added: [T8_BLOCKED.replace(/reason: .*?, since/, 'reason: "waiting on the risk committee, meets 9 Dec", since'), T9(', due: +8w, status: done, done: 2026-12-03')] },
    activity: [{ verb: 'done', task: 'T9' }, { verb: 'blocked', task: 'T8', value: 'waiting on the risk committee, meets 9 Dec' }],
    answer: 'confirm',
    says: ['T9: to do → done', 'T8: blocker is now "waiting on the risk committee, meets 9 Dec"'],
  },
  { name: 'help', build: (k) => k.reply({ task: 'T9', text: 'help' }), verdict: 'reject', reason: 'REPLY_HELP', answer: 'help', says: ['Reply with one command per line', 'blocked: <what it is waiting on>'] },
  {
    name: 'a person acting for the owner (acts_for)',
    build: (k) => k.reply({ task: 'T13', person: BRONWYN, from: DELPHINE, text: 'done' }),
    verdict: 'apply',
    reason: 'REPLY_APPLIED',
    plan: { removed: [T13('')], added: [T13(', status: done, done: 2026-12-03')] },
    activity: [{ actor: 'delphine', verb: 'done', task: 'T13' }],
    answer: 'confirm',
  },
  // Commands that cannot apply: explained to the sender, nothing changes.
  { name: 'a due date before the plan starts', build: (k) => k.reply({ task: 'T9', text: 'due: 2026-01-05' }), verdict: 'reject', reason: 'REPLY_DATE_BEFORE_START', answer: 'explain', says: ['before the plan'] },
  { name: 'a digest line naming a task the plan does not have', build: (k) => k.reply({ task: 'digest', person: HAMISH.address, text: 'T9 done\nT99 done' }), verdict: 'reject', reason: 'REPLY_TASK_UNKNOWN', answer: 'explain', says: ['T99'] },
  { name: '"blocked" without a reason', build: (k) => k.reply({ task: 'T9', text: 'blocked' }), verdict: 'reject', reason: 'REPLY_BLOCKED_NEEDS_REASON', answer: 'explain', says: ['blocked: <'] },
  { name: 'a task another person owns', build: (k) => k.reply({ task: 'digest', person: HAMISH.address, text: 'T16 done' }), verdict: 'reject', reason: 'REPLY_NOT_ALLOWED', answer: 'explain', says: ['T16'] },
];

const odd: Scenario[] = [
  { name: 'an HTML-only Outlook reply', build: (k) => k.fixture('outlook-html-only.eml'), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: +8w, status: blocked, blocked: { reason: waiting on IT for the Okta admin role, since: 2026-12-03 }')] }, activity: [{ verb: 'blocked', task: 'T9', value: 'waiting on IT for the Okta admin role' }], answer: 'confirm' },
  {
    name: 'a reply with a 10 MB attachment (applied, the attachment ignored)',
    build: (k) => k.reply({ task: 'T9', text: 'done, the metadata XML and the screenshots are attached', attachments: [{ filename: 'okta-screens.zip', content: Buffer.alloc(10 * 1024 * 1024, 7), contentType: 'application/zip' }] }),
    verdict: 'apply',
    reason: 'REPLY_APPLIED',
    plan: { removed: [T9()], added: [T9(', due: +8w, status: done, done: 2026-12-03')] },
    activity: [{ verb: 'done', task: 'T9' }, { verb: 'note', task: 'T9', value: 'the metadata XML and the screenshots are attached' }],
    answer: 'confirm',
  },
  {
    name: 'a reply whose new text runs past the limit: refused whole, not its first part applied',
    build: (k) => k.reply({ task: 'T9', text: ['in progress', ...Array.from({ length: 48 }, (_, i) => `note: step ${i + 1} of the Okta runbook, pasted here in full because the IT security team asked us for it`)].join('\n') }),
    verdict: 'reject',
    reason: 'REPLY_TOO_LONG',
    answer: 'explain',
    says: ['longer than the 4,000 characters Twofold reads'],
  },
  { name: 'a reply without a Message-ID (deduped by its digest)', build: (k) => k.reply({ task: 'T9', text: 'in progress', messageId: null }), verdict: 'apply', reason: 'REPLY_APPLIED', plan: { removed: [T9()], added: [T9(', due: +8w, status: in_progress')] }, activity: [{ verb: 'in_progress', task: 'T9' }], answer: 'confirm' },
];

/** Hostile or machine-made: none of these may change a byte of any plan or add to any log. */
const hostile: Scenario[] = [
  ...['ooo-german-exchange-headers.eml', 'ooo-french-subject-only.eml', 'ooo-spanish-x-autorespond.eml', 'ooo-japanese-subject-only.eml', 'ooo-dutch-x-autoreply.eml'].map(
    (file): Scenario => ({ name: `an out-of-office reply: ${file}`, build: (k) => k.fixture(file), verdict: 'ignore', reason: 'MAIL_AUTO_REPLY', answer: 'silent' }),
  ),
  { name: 'a bounce (DSN) sent to a reply address', build: (k) => k.fixture('bounce-dsn-to-reply-address.eml'), verdict: 'ignore', reason: 'MAIL_BOUNCE', answer: 'silent' },
  {
    name: 'a forged From: a look-alike address outside the plan',
    build: (k) => k.reply({ task: 'T9', from: { name: HAMISH.name, address: 'hamish.fq@tamarindvale-it.example' }, text: 'done' }),
    verdict: 'reject',
    reason: 'REPLY_SENDER_MISMATCH',
    answer: 'csm',
    says: ['hamish.fq@tamarindvale-it.example'],
  },
  { name: 'a valid token forwarded to someone outside the plan', build: (k) => k.reply({ task: 'T9', from: { name: 'IT Helpdesk', address: 'helpdesk@tamarindvale.example' }, text: 'Done - closed ticket 4411' }), verdict: 'reject', reason: 'REPLY_SENDER_MISMATCH', answer: 'csm', says: ['helpdesk@tamarindvale.example'] },
  { name: 'a valid token used by a plan member who may not act for its owner', build: (k) => k.reply({ task: 'T9', from: KIRRA, text: 'done' }), verdict: 'reject', reason: 'REPLY_SENDER_MISMATCH', answer: 'csm', says: [KIRRA] },
  { name: 'a valid token used by a member of another plan', build: (k) => k.reply({ task: 'T9', from: EIRIK, text: 'done' }), verdict: 'reject', reason: 'REPLY_SENDER_MISMATCH', answer: 'csm' },
  {
    name: "a From with two mailboxes, the owner's first",
    build: (k) => k.reply({ task: 'T9', text: 'done' }).then((raw) => Buffer.from(raw.toString('latin1').replace(/^(From: .*)$/m, '$1, Eve <eve@evil.example>'), 'latin1')),
    verdict: 'reject',
    reason: 'MAIL_FROM_AMBIGUOUS',
    answer: 'csm',
    says: ['eve@evil.example'],
  },
  {
    name: "two From headers, the owner's first (what a DMARC check may have judged by the other)",
    build: (k) => k.reply({ task: 'T9', text: 'done' }).then((raw) => Buffer.from(raw.toString('latin1').replace(/^(From: .*)$/m, '$1\r\nFrom: eve@evil.example'), 'latin1')),
    verdict: 'reject',
    reason: 'MAIL_FROM_AMBIGUOUS',
    answer: 'csm',
    says: ['eve@evil.example'],
  },
  { name: 'an expired token used by a stranger', build: (k) => k.reply({ task: 'T9', from: 'someone@elsewhere.example', text: 'done', tokenNow: daysBefore(NOW, 200) }), verdict: 'reject', reason: 'REPLY_TOKEN_EXPIRED', answer: 'silent' },
  { name: 'a tampered token (one character changed)', build: async (k) => tamper(await k.reply({ task: 'T9', text: 'done' })), verdict: 'reject', reason: 'REPLY_TOKEN_FORGED', answer: 'silent' },
  { name: 'a made-up reply address (key version 0, never issued)', build: (k) => k.reply({ task: 'T9', text: 'done' }).then((raw) => Buffer.from(raw.toString('latin1').replace(/twofold\+[a-z2-7]+@/g, 'twofold+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@'), 'latin1')), verdict: 'reject', reason: 'REPLY_TOKEN_UNKNOWN_KEY', answer: 'silent' },
  { name: 'a made-up reply address (current key version, no such plan)', build: (k) => k.reply({ task: 'T9', text: 'done' }).then((raw) => Buffer.from(raw.toString('latin1').replace(/twofold\+[a-z2-7]+@/g, 'twofold+bqzqzqzqzqzqzqzqzqzqzqzqzqzqzqzq@'), 'latin1')), verdict: 'reject', reason: 'REPLY_TOKEN_UNKNOWN_PLAN', answer: 'silent' },
  { name: 'a malformed message (no header at all)', build: async () => readFile(path.join(REPLY_FIXTURES_DIR, 'malformed-no-header.eml')), verdict: 'fail', reason: 'MAIL_MALFORMED', answer: 'silent' },
];

let project: WorkerProject | undefined;
const cores: WorkerCore[] = [];
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
  await project?.remove();
  project = undefined;
});

async function setup(): Promise<{ kit: Kit; events: SourceEvent[]; handle(raw: Buffer): ReturnType<WorkerCore['processor']['handle']> }> {
  project = await workerProject({ passwords: [] });
  const p = project;
  const { core, events } = await p.core({ clock: () => NOW, fullBuilds: false });
  cores.push(core);
  const ctx = { paths: p.paths, store: p.store, identity: core.identity };
  const kit: Kit = {
    project: p,
    core,
    reply: async (o) => (await replyAs(ctx, { slug: SLUG, date: NOW, ...o })).raw,
    async fixture(name) {
      const { to } = await replyAs(ctx, { slug: SLUG, task: 'T9', date: NOW, text: '' });
      return replyFixture(name, { from: `${HAMISH.name} <${HAMISH.address}>`, replyAddress: to, date: NOW, thread: threadRootId(core.identity, SLUG, 'T9', HAMISH.address) });
    },
  };
  return { kit, events, handle: (raw) => core.processor.handle(raw, { source: 'file', receivedAt: NOW }) };
}

interface Sent {
  kind: Answer | 'invite' | 'task' | 'digest';
  mail: ParsedMail;
  file: string;
}

/** What the worker wrote to the outbox, by the tag in each file name. */
async function sentMail(p: WorkerProject): Promise<Sent[]> {
  return (await p.outbox()).map(({ file, mail }) => {
    const tag = path.basename(file).replace(/^\d{4}-\d\d-\d\dT[\d-]+Z-/, '').replace(/-[0-9a-f]{20}\.eml$/, '');
    const kind: Sent['kind'] = tag.startsWith('confirm-') ? 'confirm' : tag === 'reply-help' ? 'help' : tag === 'reply-problem' ? 'explain' : tag.startsWith('notice-') ? 'csm' : tag.startsWith('invite-') ? 'invite' : tag.startsWith('task-') ? 'task' : tag.startsWith('digest-') ? 'digest' : (() => {
      throw new Error(`unexpected outbox file ${file}`);
    })();
    return { kind, mail, file };
  });
}

const to = (mail: ParsedMail) => [mail.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address));

describe.each([
  { group: 'the reply grammar', cases: grammar },
  { group: 'odd but genuine replies', cases: odd },
  { group: 'hostile and machine-made mail', cases: hostile },
])('$group', ({ cases }) => {
  it.each(cases)('$name', async (s) => {
    const { kit, events, handle } = await setup();
    const p = kit.project;
    const raw = await s.build(kit);
    const sender = raw.toString('latin1').match(/^From: (?:.*<)?([^<>\s]+@[^<>\s]+?)>?\s*$/im)?.[1]?.toLowerCase();
    // Ids are recorded in the pipeline's one form (normalise-message-id.ts: domain lowercased).
    const messageId = normaliseMessageId(raw.toString('latin1').match(/^Message-ID: (<[^>]+>)/im)?.[1]);
    const plansBefore = await p.planBytes();
    const textBefore = await p.planText(SLUG);
    const activityBefore = await p.activity(SLUG);

    const outcome = await handle(raw);

    const processed = events.find((e) => e.event === 'message.processed');
    expect(processed, JSON.stringify(events)).toMatchObject({ verdict: s.verdict, code: s.reason });
    expect(outcome).toEqual({ disposition: s.verdict === 'fail' ? 'failed' : 'processed', reason: s.reason });

    // The plan: exactly these lines, or not one byte of any plan.
    if (s.plan) {
      const after = await p.planText(SLUG);
      const diff = lineDiff(textBefore, after);
      expect({ removed: diff.removed.map((l) => l.text), added: diff.added.map((l) => l.text) }).toEqual(s.plan);
      const reloaded = loadPlanText(after, 'tamarind-vale.mdx');
      expect(reloaded.ok, 'the plan is still valid').toBe(true);
    } else {
      expect(await p.planBytes()).toEqual(plansBefore);
    }

    // The activity log: the entries this message added, each carrying its Message-ID.
    const added = (await p.activity(SLUG)).slice(activityBefore.length).filter((a) => a.verb !== 'invite');
    expect(added).toEqual((s.activity ?? []).map((a) => expect.objectContaining({ via: 'email', ...(messageId ? { message: messageId } : {}), ...a })));

    // The answer.
    const sent = (await sentMail(p)).filter((m) => !['invite', 'task', 'digest'].includes(m.kind));
    if (s.answer === 'silent') {
      expect(sent).toEqual([]);
    } else {
      expect(sent.map((m) => m.kind)).toEqual([s.answer]);
      const { mail } = sent[0]!;
      if (s.answer === 'csm') {
        expect(to(mail)).toEqual([WRENNA]);
      } else {
        expect(to(mail)).toEqual([sender]);
        if (messageId) expect(mail.inReplyTo).toBe(messageId);
        expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
      }
      for (const phrase of s.says ?? []) expect(readable(mail)).toContain(phrase);
    }
    if (s.verdict === 'fail') {
      expect(await p.failedMessages()).toHaveLength(1);
      const kept = await readFile(path.join(p.paths.journalDir, 'failed', (await p.failedMessages())[0]!));
      expect(kept.equals(raw), 'the failed folder keeps the exact bytes').toBe(true);
    } else {
      expect(await p.failedMessages()).toEqual([]);
    }
  });
});

describe('answers that need more than a table row', () => {
  it('explains an expired token to its owner, with a fresh reply address that works', async () => {
    const { kit, events, handle } = await setup();
    const raw = await kit.reply({ task: 'T9', text: 'done', tokenNow: daysBefore(NOW, 200) });
    const plansBefore = await kit.project.planBytes();
    await handle(raw);
    expect(events.find((e) => e.event === 'message.processed')).toMatchObject({ verdict: 'reject', code: 'REPLY_TOKEN_EXPIRED', plan: SLUG, task: 'T9' });
    expect(await kit.project.planBytes()).toEqual(plansBefore);
    const sent = (await sentMail(kit.project)).filter((m) => m.kind !== 'invite');
    expect(sent.map((m) => m.kind)).toEqual(['explain']);
    const fresh = sent[0]!.mail.replyTo?.value[0]?.address ?? '';
    const { version, key } = await kit.project.store.replyKey();
    const verified = await verifyReplyToken(tokenFromAddress(kit.core.identity.reply, fresh) ?? '', { keys: { [version]: key }, lookup: openPlanDirectory(kit.project.paths).lookup, now: NOW });
    expect(verified).toMatchObject({ ok: true, plan: SLUG, task: 'T9', email: HAMISH.address });
  });

  it('applies the same message delivered twice once: one activity entry, one confirmation, the second a duplicate', async () => {
    const { kit, events, handle } = await setup();
    const raw = await kit.reply({ task: 'T9', text: 'blocked: waiting on IT' });
    const messageId = raw.toString('latin1').match(/^Message-ID: (<[^>]+>)/im)![1];
    expect(await handle(raw)).toEqual({ disposition: 'processed', reason: 'REPLY_APPLIED' });
    const afterFirst = await kit.project.planText(SLUG);
    expect(await handle(raw)).toEqual({ disposition: 'processed', reason: 'duplicate' });
    expect(await kit.project.planText(SLUG)).toBe(afterFirst);
    expect((await kit.project.activity(SLUG)).filter((a) => a.message === messageId)).toHaveLength(1);
    expect((await sentMail(kit.project)).filter((m) => m.kind === 'confirm')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'message.duplicate')).toHaveLength(1);
  });

  it('keeps a reply to a plan whose file has errors (nothing recorded, nothing sent) and applies it once the plan is fixed', async () => {
    const { kit, events, handle } = await setup();
    const raw = await kit.reply({ task: 'T9', text: 'done' });
    const file = await kit.project.planFile(SLUG);
    const good = await readFile(file, 'utf8');
    // A CSM's edit in progress: a typo in the time zone makes the whole plan invalid.
    await writeFile(file, good.replace('timezone: Australia/Sydney', 'timezone: Australia/Sydny'));
    await expect(handle(raw)).rejects.toMatchObject({ code: 'MAIL_PLAN_INVALID', message: expect.stringContaining('"Australia/Sydny" is not an IANA time zone') });
    expect(events.filter((e) => e.event === 'message.processed')).toEqual([]);
    expect((await sentMail(kit.project)).filter((m) => m.kind !== 'invite')).toEqual([]);

    await writeFile(file, good);
    expect(await handle(raw)).toEqual({ disposition: 'processed', reason: 'REPLY_APPLIED' });
    expect((await kit.project.planText(SLUG)).split('\n')).toContain(T9(', due: +8w, status: done, done: 2026-12-03'));
    expect((await kit.project.activity(SLUG)).filter((e) => e.verb === 'done' && e.task === 'T9' && e.via === 'email')).toHaveLength(1);
    expect((await sentMail(kit.project)).filter((m) => m.kind === 'confirm')).toHaveLength(1);
  });

  it('applies two replies to the same plan at the same moment, losing neither, and the plan stays valid', async () => {
    const { kit, handle } = await setup();
    const before = await kit.project.planText(SLUG);
    const [a, b] = await Promise.all([kit.reply({ task: 'T9', text: 'done' }), kit.reply({ task: 'T16', text: 'in progress' })]);
    const outcomes = await Promise.all([handle(a), handle(b)]);
    expect(outcomes).toEqual([
      { disposition: 'processed', reason: 'REPLY_APPLIED' },
      { disposition: 'processed', reason: 'REPLY_APPLIED' },
    ]);
    const after = await kit.project.planText(SLUG);
    const diff = lineDiff(before, after);
    expect(diff.removed.map((l) => l.text)).toEqual([T9(), T16('')]);
    expect(diff.added.map((l) => l.text)).toEqual([T9(', due: +8w, status: done, done: 2026-12-03'), T16(', status: in_progress')]);
    expect(loadPlanText(after, 'tamarind-vale.mdx').ok).toBe(true);
    const logged = (await kit.project.activity(SLUG)).filter((e) => e.via === 'email' && e.verb !== 'invite').slice(-2);
    expect(logged.map((e) => `${e.task} ${e.verb}`).sort()).toEqual(['T16 in_progress', 'T9 done']);
    expect((await sentMail(kit.project)).filter((m) => m.kind === 'confirm')).toHaveLength(2);
  });

  it('applies two replies delivered at once to two worker processes on one project, losing neither', async () => {
    const { kit, handle } = await setup();
    // A second worker on the same files: its own processor, plan cache and journal handle.
    const second = await kit.project.core({ clock: () => NOW, fullBuilds: false });
    cores.push(second.core);
    const before = await kit.project.planText(SLUG);
    const a = await kit.reply({ task: 'T9', text: 'blocked: waiting on IT' });
    const b = await kit.reply({ task: 'T11', text: 'reopen' });
    await Promise.all([handle(a), second.core.processor.handle(b, { source: 'file', receivedAt: NOW }), handle(b), second.core.processor.handle(a, { source: 'file', receivedAt: NOW })].map((p) => p.catch((err) => err)));
    const diff = lineDiff(before, await kit.project.planText(SLUG));
    expect(diff.added.map((l) => l.text)).toEqual([T9(', due: +8w, status: blocked, blocked: { reason: waiting on IT, since: 2026-12-03 }'), T11(', status: todo')]);
    const logged = (await kit.project.activity(SLUG)).filter((e) => e.via === 'email' && e.verb !== 'invite');
    expect(logged.filter((e) => e.verb === 'blocked' && e.task === 'T9')).toHaveLength(1);
    expect(logged.filter((e) => e.verb === 'reopen' && e.task === 'T11')).toHaveLength(1);
  });
});

describe('answers to the emails Twofold really sent, quoted the way each mail client quotes', () => {
  // Outlook quotes nothing: the original's reply commands sit unmarked below a From/Sent block.
  it.each([{ style: 'gmail' as const }, { style: 'outlook' as const }, { style: 'iphone' as const }])(
    '$style: task email → "in progress" → confirmation → "help" → help → "done": each reply applies only what it says',
    async ({ style }) => {
      const { kit, handle } = await setup();
      const before = await kit.project.planText(SLUG);
      await sendTaskEmails({ paths: kit.project.paths, store: kit.project.store, identity: kit.core.identity, mailer: kit.core.mailer, now: NOW, slug: SLUG, task: 'T9' });
      const latest = async (kind: Sent['kind']) => (await sentMail(kit.project)).filter((m) => m.kind === kind).sort((a, b) => a.file.localeCompare(b.file)).at(-1)!.mail;
      const answer = async (mail: ParsedMail, text: string) => {
        const { raw, messageId } = await answerSent(mail, { from: HAMISH, text, style, date: NOW });
        expect(await handle(raw)).toMatchObject({ disposition: 'processed' });
        return normaliseMessageId(messageId)!;
      };

      const first = await answer(await latest('task'), 'in progress');
      expect(readable(await latest('confirm'))).toContain('T9: to do → in progress');
      const second = await answer(await latest('confirm'), 'help');
      expect(readable(await latest('help'))).toContain('Reply with one command per line');
      const third = await answer(await latest('help'), 'done');

      const diff = lineDiff(before, await kit.project.planText(SLUG));
      expect({ removed: diff.removed.map((l) => l.text), added: diff.added.map((l) => l.text) }).toEqual({ removed: [T9()], added: [T9(', due: +8w, status: done, done: 2026-12-03')] });
      const logged = (await kit.project.activity(SLUG)).filter((e) => [first, second, third].includes(e.message!));
      expect(logged.map((e) => `${e.message === first ? 1 : e.message === second ? 2 : 3} ${e.task} ${e.verb}`)).toEqual(['1 T9 in_progress', '3 T9 done']);
      const answers = (await sentMail(kit.project)).filter((m) => ['confirm', 'help', 'explain', 'csm'].includes(m.kind));
      expect(answers.map((m) => m.kind).sort()).toEqual(['confirm', 'confirm', 'help']);
      for (const { mail } of answers) expect(mail.references).toContain(threadRootId(kit.core.identity, SLUG, 'T9', HAMISH.address));
    },
  );

  it.each([{ style: 'gmail' as const }, { style: 'outlook' as const }, { style: 'iphone' as const }])('$style: a reply to the digest applies its task lines and nothing from the quoted list of tasks', async ({ style }) => {
    const { kit, handle } = await setup();
    const before = await kit.project.planText(SLUG);
    await sendTaskEmails({ paths: kit.project.paths, store: kit.project.store, identity: kit.core.identity, mailer: kit.core.mailer, now: NOW, slug: SLUG, to: HAMISH.address });
    const digest = (await sentMail(kit.project)).find((m) => m.kind === 'digest')!.mail;
    expect(digest.text).toMatch(/T9\b/);
    const { raw } = await answerSent(digest, { from: HAMISH, text: 'T9 in progress\nT8 due: Dec 11', style, date: NOW });
    expect(await handle(raw)).toEqual({ disposition: 'processed', reason: 'REPLY_APPLIED' });
    const diff = lineDiff(before, await kit.project.planText(SLUG));
    expect(diff.removed.map((l) => l.text)).toEqual(['        due: +5w', T9()]);
    expect(diff.added.map((l) => l.text)).toEqual(['        due: 2026-12-11', T9(', due: +8w, status: in_progress')]);
  });
});

/** The answer's text as a person reads it: quote marks of wrapped lines and line breaks gone. */
function readable(mail: ParsedMail): string {
  return (mail.text ?? '').replace(/^> ?/gm, '').replace(/\s+/g, ' ');
}

function daysBefore(date: Date, days: number): Date {
  return new Date(date.getTime() - days * 86_400_000);
}

/** Change one character in the middle of the reply token of every reply address in the message. */
function tamper(raw: Buffer): Buffer {
  return Buffer.from(
    raw.toString('latin1').replace(/(twofold\+[a-z2-7]{10})([a-z2-7])/g, (_m, head: string, c: string) => `${head}${c === 'a' ? 'b' : 'a'}`),
    'latin1',
  );
}


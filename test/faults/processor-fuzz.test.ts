/**
 * Fuzzing the WHOLE processor — `processor.handle`, the handler every inbound source calls:
 * parse, dedupe (journal), classify, authenticate, extract, parse commands, apply under the plan
 * lock, log, answer — on a copy of the example plans, with a seeded PRNG:
 *
 *   - every corpus and fixture message, mutated (truncated, bytes flipped, garbage inserted,
 *     headers mangled), as it came (to no valid reply address);
 *   - the same messages re-addressed to a real signed reply address From the task's owner,
 *     then mutated: real-world text reaching authentication, extraction and the grammar;
 *   - valid replies (every verb, a digest, someone acting for the owner), mutated — and some left
 *     intact, to prove the fuzz reaches the apply step;
 *   - random bytes and random header-like text.
 *
 * For every case: handle resolves (no crash, no rejection, no unhandled rejection) within a time
 * bound, and a plan file's bytes change only when the message still carries the reply address
 * AND the From of a person who may use it — garbage never changes a plan — and then the plan
 * stays valid and the processor says it applied the message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlanText } from '../../site/core/plan/plan-validate.ts';
import type { SourceEvent } from '../../mail-worker/sources/message-handler.ts';
import type { WorkerCore } from '../../mail-worker/worker.ts';
import { corpusMessages, mailFixtures } from '../helpers/corpus-messages.ts';
import { readdress, replyAs, withoutHeader } from '../helpers/reply-builder.ts';
import { workerProject, type WorkerProject } from '../helpers/worker-project.ts';
import { PROCESSOR_FUZZ, processorFuzzCases } from './figures.ts';
import { mutateAny, prng, type Rng } from './mutate.ts';

/** Per message (PROCESSOR_FUZZ.timeLimitMs), with journal and plan writes fsynced on a loaded two-core machine. */
const CASE_TIME_LIMIT_MS = PROCESSOR_FUZZ.timeLimitMs;
const MIN_CASES = PROCESSOR_FUZZ.minCases;
const NOW = new Date('2026-12-03T09:00:00Z');
const SLUG = 'tamarind-vale';

/** Who may answer which task (owner, or someone the plan lets act for them), and what they write. */
const VALID: Array<{ task: string; from: string; text: string }> = [
  { task: 'T9', from: 'hamish.fq@tamarindvale.example', text: 'done' },
  { task: 'T9', from: 'hamish.fq@tamarindvale.example', text: 'blocked: waiting on IT for the Okta admin role' },
  { task: 'T9', from: 'hamish.fq@tamarindvale.example', text: 'due: 2027-01-08' },
  { task: 'T9', from: 'hamish.fq@tamarindvale.example', text: 'in progress\nnote: metadata exported' },
  { task: 'T8', from: 'hamish.fq@tamarindvale.example', text: 'unblock' },
  { task: 'T13', from: 'bronwyn.achterberg@tamarindvale.example', text: 'in progress' },
  { task: 'T13', from: 'delphine.okonjo-marsh@tamarindvale.example', text: 'done, thanks!' },
  { task: 'T16', from: 'kirra.woodbury@tamarindvale.example', text: 'due: next friday' },
  { task: 'T11', from: 'kirra.woodbury@tamarindvale.example', text: 'reopen' },
  { task: 'T12', from: 'anouk.dessaline@kestrelbyte.example', text: '✅' },
  { task: 'T14', from: 'anouk.dessaline@kestrelbyte.example', text: 'note: the desk admins start Monday' },
  { task: 'digest', from: 'wrenna.castellanos@kestrelbyte.example', text: 'T15 in progress\nT17 due: 2027-02-19\nT21 done' },
  { task: 'T9', from: 'hamish.fq@tamarindvale.example', text: 'help' },
];
const { mutationsPerValid: MUTATIONS_PER_VALID, intactPerValid: INTACT_PER_VALID, mutationsPerSource: MUTATIONS_PER_SOURCE, readdressedPerSource: READDRESSED_PER_SOURCE, randomBytes: RANDOM_BYTES, randomHeaderText: RANDOM_HEADER_TEXT } = PROCESSOR_FUZZ;

interface Case {
  family: string;
  label: string;
  raw: Buffer;
  /** The reply address and sender the message was built with, when it had a real one. */
  token?: { address: string; from: string };
}

let project: WorkerProject;
let core: WorkerCore;
let events: SourceEvent[];
let cases: Case[];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
const tally = { cases: 0, applied: 0, planChanged: 0, rejected: 0, ignored: 0, failed: 0, duplicates: 0 };

async function buildCases(rng: Rng): Promise<Case[]> {
  const out: Case[] = [];
  const ctx = { paths: project.paths, store: project.store, identity: core.identity };
  const addressFor = async (task: string, person: string) => (await replyAs(ctx, { slug: SLUG, task, person, text: '', date: NOW, tokenNow: NOW })).to;
  const owners = [
    { task: 'T9', from: 'hamish.fq@tamarindvale.example' },
    { task: 'T13', from: 'bronwyn.achterberg@tamarindvale.example' },
    { task: 'digest', from: 'wrenna.castellanos@kestrelbyte.example' },
  ];
  let n = 0;
  // Each case its own Message-ID, so the journal's dedupe does not stop it before the pipeline.
  const fresh = (raw: Buffer) => Buffer.concat([Buffer.from(`Message-ID: <fuzz-case-${n++}@fuzz.example>\r\n`), withoutHeader(raw, 'Message-ID')]);
  for (const { name, raw } of [...corpusMessages(), ...mailFixtures()]) {
    for (let i = 0; i < MUTATIONS_PER_SOURCE; i++) {
      const m = mutateAny(fresh(raw), rng);
      out.push({ family: 'corpus and fixtures, mutated', label: `${name} ${m.how} #${i}`, raw: m.raw });
    }
    for (let i = 0; i < READDRESSED_PER_SOURCE; i++) {
      const who = rng.pick(owners);
      const address = await addressFor(who.task, who.from);
      const readdressed = fresh(readdress(raw, { from: `Someone <${who.from}>`, to: address }));
      // The first stays intact: real-world text from the right person to the right address.
      const m = i === 0 ? { raw: readdressed, how: 'intact' } : mutateAny(readdressed, rng);
      out.push({ family: 'corpus and fixtures, re-addressed to a real reply address, then mutated', label: `${name} → ${who.task} ${m.how} #${i}`, raw: m.raw, token: { address, from: who.from } });
    }
  }
  for (const [v, valid] of VALID.entries()) {
    for (let i = 0; i < MUTATIONS_PER_VALID + INTACT_PER_VALID; i++) {
      // The task's owner's reply address (a digest's: the sender's own), answered by `from`.
      const built = await replyAs(ctx, { slug: SLUG, task: valid.task, ...(valid.task === 'digest' ? { person: valid.from } : {}), from: { name: 'A plan person', address: valid.from }, text: valid.text, date: NOW, tokenNow: NOW, messageId: `<fuzz-${v}-${i}@client.example>` });
      const m = i < INTACT_PER_VALID ? { raw: built.raw, how: 'intact' } : mutateAny(built.raw, rng);
      out.push({ family: 'valid replies, mutated', label: `${valid.task} "${valid.text.split('\n')[0]}" ${m.how} #${i}`, raw: m.raw, token: { address: built.to, from: valid.from } });
    }
  }
  for (let i = 0; i < RANDOM_BYTES; i++) out.push({ family: 'random bytes', label: `#${i}`, raw: rng.bytes(rng.int(4096)) });
  const alphabet = 'abcdefghijklmnopqrstuvwxyz:;<>@=?-\r\n\t "done blocked due note From To Subject twofold+';
  for (let i = 0; i < RANDOM_HEADER_TEXT; i++) out.push({ family: 'random header-like text', label: `#${i}`, raw: Buffer.from(rng.text(alphabet, rng.int(2048)), 'latin1') });
  return out;
}

/** True when the bytes still hold the reply address and a From header with its sender. */
function stillAddressed(c: Case): boolean {
  if (!c.token) return false;
  const text = c.raw.toString('latin1');
  const from = new RegExp(`^From:[^\\r\\n]*${c.token.from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'im');
  return text.toLowerCase().includes(c.token.address.toLowerCase()) && from.test(text);
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  project = await workerProject({ passwords: [] });
  const started = await project.core({ clock: () => NOW, fullBuilds: false });
  core = started.core;
  events = started.events;
  cases = await buildCases(prng(PROCESSOR_FUZZ.seed));
}, 120_000);

afterAll(async () => {
  await core?.close();
  process.off('unhandledRejection', onUnhandled);
  await project?.remove();
  // eslint-disable-next-line no-console
  console.log(`processor fuzz: ${tally.cases} messages through processor.handle — ${tally.applied} with the verdict apply (${tally.planChanged} changed a plan), ${tally.rejected} rejected, ${tally.ignored} ignored, ${tally.failed} kept as unreadable, ${tally.duplicates} duplicates`);
});

describe('fuzzing the whole processor', () => {
  it(`builds at least ${MIN_CASES} seeded cases`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(MIN_CASES);
    expect(VALID).toHaveLength(PROCESSOR_FUZZ.validTemplates);
    expect(cases.length).toBe(processorFuzzCases(corpusMessages().length + mailFixtures().length));
  });

  it('every case: handle resolves in time, no unhandled rejection, and no plan changes unless the message is still a valid reply', async () => {
    const problems: string[] = [];
    let before = await project.planBytes();
    for (const c of cases) {
      const seen = events.length;
      const started = performance.now();
      let outcome;
      try {
        outcome = await core.processor.handle(c.raw, { source: 'file', receivedAt: NOW });
      } catch (err) {
        problems.push(`${c.family} / ${c.label}: handle threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        continue;
      }
      const elapsed = performance.now() - started;
      if (elapsed > CASE_TIME_LIMIT_MS) problems.push(`${c.family} / ${c.label}: took ${Math.round(elapsed)} ms`);
      tally.cases++;
      if (outcome.reason === 'duplicate') tally.duplicates++;
      const processed = events.slice(seen).find((e) => e.event === 'message.processed');
      const verdict = processed?.verdict;
      if (verdict === 'apply') tally.applied++;
      else if (verdict === 'reject') tally.rejected++;
      else if (verdict === 'ignore') tally.ignored++;
      else if (verdict === 'fail') tally.failed++;

      const after = await project.planBytes();
      const changed = [...after].filter(([file, bytes]) => !before.get(file)?.equals(bytes)).map(([file]) => file);
      if (changed.length) {
        tally.planChanged++;
        if (!stillAddressed(c)) problems.push(`${c.family} / ${c.label}: changed ${changed.join(', ')} without a valid reply address and sender`);
        if (verdict !== 'apply') problems.push(`${c.family} / ${c.label}: changed ${changed.join(', ')} with verdict ${verdict}`);
        if (changed.some((f) => f !== 'tamarind-vale.mdx')) problems.push(`${c.family} / ${c.label}: changed another plan: ${changed.join(', ')}`);
        for (const file of changed) if (!loadPlanText(after.get(file)!.toString('utf8'), file).ok) problems.push(`${c.family} / ${c.label}: left ${file} invalid`);
      }
      before = after;
    }
    expect(problems).toEqual([]);
    expect(unhandled).toEqual([]);
  }, 600_000);

  it('reached every step: replies applied and plans changed, rejections, ignored machines, unreadable messages kept', () => {
    expect(tally.cases).toBe(cases.length);
    expect(tally.applied).toBeGreaterThanOrEqual(VALID.length); // at least the intact replies
    expect(tally.planChanged).toBeGreaterThan(5);
    expect(tally.rejected).toBeGreaterThan(cases.length / 10);
    expect(tally.ignored).toBeGreaterThan(10);
    expect(tally.failed).toBeGreaterThan(10);
  });
});

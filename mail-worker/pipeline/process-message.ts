/**
 * The processor: the one MessageHandler behind every inbound source. For each message:
 *
 *   dedupe (journal claim) → evaluate (evaluate-message.ts) → apply under the plan lock
 *   (journal "applying" record, atomic plan write, activity log, git commit, invites)
 *   → publish (re-seal the portal) → answer (outcome-replies) → journal "done"
 *
 * The journal makes each step safe to redo: a crash anywhere re-processes the message on
 * restart (recover()) and applies it exactly once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { applyCommands, type ApplyResult } from '../../site/core/plan/plan-edits.ts';
import { editPlanSource } from '../../site/core/plan/plan-file.ts';
import { validatePlanData } from '../../site/core/plan/plan-validate.ts';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';
import { withPlanLock } from '../../site/lib/plan-lock-fs.ts';
import { activityFile, appendActivity } from '../../site/lib/plan-records-fs.ts';
import { readPlan, type StoredPlan } from '../../site/lib/plan-store-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import { recordRsvp } from '../calendar/rsvp.ts';
import type { HandledOutcome, MessageMeta, SourceLog } from '../sources/message-handler.ts';
import type { JournalRecord, MessageJournal, PendingApply } from '../stores/message-journal-fs.ts';
import type { CachedPlanDirectory } from '../stores/plan-directory-fs.ts';
import { evaluateParsed, parsedKey, type EvaluateDeps, type Evaluation } from './evaluate-message.ts';
import type { FaultHook } from './fault-injection.ts';
import { parseMessage } from './parse-message.ts';

/** A plan as written: what the steps after applying need (no parse of the new text). */
export type PlanOnDisk = Pick<StoredPlan, 'slug' | 'file' | 'label' | 'text' | 'plan'>;

export interface AppliedReply {
  plan: PlanOnDisk;
  result: ApplyResult;
}

/** Answers a message (confirmation, explanation, CSM notice, or nothing); returns Message-IDs sent. */
export type Answerer = (evaluation: Evaluation, applied: AppliedReply | undefined) => Promise<string[]>;

export interface AfterApply {
  /** Called under the plan lock after a plan changed: invites, records, git, re-seal. */
  (slug: string, plan: PlanOnDisk, evaluation: Evaluation): Promise<void>;
}

export interface ProcessorDeps extends Omit<EvaluateDeps, 'now' | 'meta'> {
  paths: ProjectPaths;
  journal: MessageJournal;
  plans: CachedPlanDirectory;
  clock: () => Date;
  answer: Answerer;
  afterApply: AfterApply;
  log: SourceLog;
  /** The fault-injection test hook (`TWOFOLD_FAULT`, fault-injection.ts); absent in production. */
  fault?: FaultHook;
}

export class MessageBusyError extends Error {
  constructor(key: string) {
    super(`message ${key} is being processed by another worker`);
    this.name = 'MessageBusyError';
  }
}

export interface Processor {
  handle(raw: Buffer, meta: MessageMeta): Promise<HandledOutcome>;
  /** Finish plan writes a crash left half done (run before the sources start). */
  recover(): Promise<number>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** applyReply's answer when the plan's log shows the message was applied already (by another worker). */
const ALREADY_APPLIED = Symbol('already applied');

export function createProcessor(deps: ProcessorDeps): Processor {
  async function handle(raw: Buffer, meta: MessageMeta): Promise<HandledOutcome> {
    const parsed = await parseMessage(raw, meta.envelope ? { envelope: meta.envelope } : {});
    const key = parsedKey(parsed);
    const claim = await deps.journal.claim(key, { receivedAt: meta.receivedAt, source: meta.source });
    if (claim.status === 'busy') throw new MessageBusyError(key);
    if (claim.status === 'duplicate') {
      deps.log({ event: 'message.duplicate', key, source: meta.source });
      return { disposition: 'processed', reason: 'duplicate' };
    }
    try {
      if (claim.record.state === 'applying') return await answerRecovered(claim.record, parsed, meta, raw);
      return await run(claim.record, parsed, meta, raw);
    } catch (err) {
      // Leave the journal record as it is (recover() or the next delivery finishes it), free the claim.
      await deps.journal.release(key);
      throw err;
    }
  }

  async function run(record: JournalRecord, parsed: Awaited<ReturnType<typeof parseMessage>>, meta: MessageMeta, raw: Buffer): Promise<HandledOutcome> {
    const started = performance.now();
    const evaluation = await evaluateParsed(parsed, { ...deps, now: deps.clock(), meta });
    let applied: AppliedReply | undefined;
    if (evaluation.verdict === 'apply' && evaluation.calendar) await applyRsvp(evaluation);
    else if (evaluation.verdict === 'apply') {
      const outcome = await applyReply(record, evaluation);
      if (outcome === ALREADY_APPLIED) return appliedElsewhere(record, evaluation, meta, raw);
      if (!outcome) {
        // The plan changed under us so that the commands no longer apply: evaluate again.
        return run(record, parsed, meta, raw);
      }
      applied = outcome;
    }
    const answers = await deps.answer(evaluation, applied);
    const done: JournalRecord = {
      ...record,
      verdict: evaluation.verdict,
      reason: evaluation.reason,
      ...(evaluation.plan ? { plan: evaluation.plan } : {}),
      ...(evaluation.task ? { task: evaluation.task } : {}),
      ...(evaluation.sender ? { sender: evaluation.sender } : {}),
      ...(applied ? { changes: applied.result.changes.map((c) => c.summary) } : {}),
      answers,
    };
    await deps.journal.finish(done, raw);
    deps.log({
      event: 'message.processed',
      key: record.key,
      source: meta.source,
      verdict: evaluation.verdict,
      code: evaluation.reason,
      plan: evaluation.plan,
      task: evaluation.task,
      sender: evaluation.sender,
      changes: done.changes,
      ms: Math.round(performance.now() - started),
    });
    return { disposition: evaluation.verdict === 'fail' ? 'failed' : 'processed', reason: evaluation.reason };
  }

  /**
   * Another copy of this message was applied by a worker with its own journal (two workers on
   * one mailbox, each copy of a twice-delivered reply taken by a different one): the plan's
   * activity log, which every worker shares, says so. Done with, answered by that worker.
   */
  async function appliedElsewhere(record: JournalRecord, evaluation: Evaluation, meta: MessageMeta, raw: Buffer): Promise<HandledOutcome> {
    await deps.journal.finish({ ...record, verdict: 'apply', reason: 'duplicate', ...(evaluation.plan ? { plan: evaluation.plan } : {}), ...(evaluation.sender ? { sender: evaluation.sender } : {}), answers: [] }, raw);
    deps.log({ event: 'message.duplicate', key: record.key, source: meta.source, plan: evaluation.plan, seenIn: 'activity log' });
    return { disposition: 'processed', reason: 'duplicate' };
  }

  /** True when the plan's activity log (shared by every worker, unlike the journal) has an entry of this message key. */
  async function activityHolds(slug: string, messageId: string | undefined): Promise<boolean> {
    if (!messageId) return false;
    const text = await readFile(activityFile(deps.paths, slug), 'utf8').catch(() => '');
    // formatActivityLine writes `"message":<JSON string>` last on each line: a substring test, no parse.
    return text.includes(`"message":${JSON.stringify(messageId)}`);
  }

  async function applyRsvp(evaluation: Evaluation): Promise<void> {
    const ics = evaluation.message?.calendar.find((c) => c.method === 'REPLY')?.text;
    if (!ics) return;
    try {
      const result = await recordRsvp(deps.paths, ics, { now: deps.clock(), ...(evaluation.sender ? { sender: evaluation.sender } : {}), ...(evaluation.message?.messageId ? { messageId: evaluation.message.messageId } : {}) });
      deps.log({ event: 'rsvp', outcome: result.outcome, plan: evaluation.plan });
    } catch (err: any) {
      // An answer to an invite we cannot match is dropped silently (never a mail loop).
      deps.log({ event: 'rsvp.ignored', code: err?.code, reason: String(err?.message ?? err) });
    }
  }

  /** Apply under the plan lock, against the plan as it is now. Undefined: re-evaluate. */
  async function applyReply(record: JournalRecord, evaluation: Evaluation): Promise<AppliedReply | undefined | typeof ALREADY_APPLIED> {
    const slug = evaluation.plan!;
    return withPlanLock(deps.paths, slug, async () => {
      // The directory re-reads the file when it changed on disk; under the lock it is current.
      const fresh = await deps.plans.get(slug);
      if (!fresh) return undefined;
      // The journal key (the Message-ID, or a digest of a message without one) marks every
      // activity line of the reply, so a second copy or a recovery can tell it is applied.
      if (await activityHolds(slug, record.key)) return ALREADY_APPLIED;
      const result = applyCommands(fresh.plan, evaluation.commands, {
        actor: evaluation.actor!,
        ...(evaluation.task && evaluation.task !== 'digest' ? { defaultTask: evaluation.task } : {}),
        now: evaluation.sentAt ?? deps.clock(),
        via: 'email',
        messageId: record.key,
      });
      if (result.problems.length) return undefined;
      let updated: PlanOnDisk = fresh;
      if (result.edits.length) {
        const edited = editPlanSource(fresh.text, result.edits, fresh.source);
        const checked = validatePlanData(edited.data);
        if (!checked.ok) throw new TwofoldError('PLAN_EDIT_CONFLICT', `the change would leave ${fresh.label} invalid: ${checked.problems[0]?.message}`);
        updated = { slug: fresh.slug, file: fresh.file, label: fresh.label, text: edited.text, plan: checked.plan };
      }
      await deps.journal.update({ ...record, state: 'applying', plan: slug, apply: { slug, before: sha256(fresh.text), after: sha256(updated.text), afterText: updated.text, activity: result.activity, changes: result.changes } });
      await writePlanAndLog(fresh, updated.text, result.activity);
      // The directory parses the new text (with source ranges) when a later reply needs it.
      if (updated !== fresh) deps.plans.invalidate(slug);
      await deps.afterApply(slug, updated, evaluation);
      return { plan: updated, result };
    });
  }

  /**
   * The plan, then its log. A write that fails (a full disk, a read-only mount) leaves the plan
   * as it was (the write is atomic) and throws PLAN_WRITE_FAILED: the journal keeps the pending
   * change and the message comes again, so a retry finishes it.
   */
  async function writePlanAndLog(plan: StoredPlan, afterText: string, activity: ApplyResult['activity']): Promise<void> {
    try {
      if (afterText !== plan.text) {
        deps.fault?.('plan-write');
        await writeFileAtomic(plan.file, afterText);
        deps.fault?.('plan-written');
      }
      await appendActivity(deps.paths, plan.slug, activity);
    } catch (err: any) {
      const reason = err?.code ? `${err.code} (${String(err.message ?? err)})` : String(err?.message ?? err);
      deps.log({ event: 'plan.write_failed', code: 'PLAN_WRITE_FAILED', plan: plan.slug, file: plan.label, reason });
      throw new TwofoldError('PLAN_WRITE_FAILED', `${plan.label} could not be written: ${reason}; the change is kept in the journal and applied when the message is tried again`, { cause: err });
    }
  }

  /**
   * Finish a plan write a crash interrupted: the plan file and activity log end up exactly as if
   * the reply had been applied once. True when the change is (now) on disk.
   */
  async function completePending(pending: PendingApply): Promise<boolean> {
    return withPlanLock(deps.paths, pending.slug, async () => {
      deps.plans.invalidate(pending.slug);
      const current = await readPlan(deps.paths, pending.slug).catch(() => undefined);
      if (!current) return false;
      const logged = await activityHolds(pending.slug, pending.activity.find((a) => a.message)?.message);
      const digest = sha256(current.text);
      if (digest === pending.after) {
        if (!logged) await appendActivity(deps.paths, pending.slug, pending.activity);
        return true;
      }
      if (digest === pending.before) {
        await writePlanAndLog(current, pending.afterText, pending.activity);
        return true;
      }
      // The plan moved on since (a later edit): the change is in it when the log says so.
      return logged;
    });
  }

  /**
   * At start: finish what a crash left half written. The message itself comes again from its
   * source and is answered then. A record whose claim a live process holds is that process's
   * work in progress (another worker, a concurrent `mail ingest`), not a crash: left alone.
   */
  async function recover(): Promise<number> {
    let recovered = 0;
    for (const record of await deps.journal.unfinished()) {
      const claim = await deps.journal.claim(record.key, { receivedAt: new Date(record.receivedAt), source: record.source ?? 'recover' });
      if (claim.status !== 'claimed') continue;
      try {
        const pending = claim.record.state === 'applying' ? claim.record.apply : undefined;
        if (!pending) continue;
        const finished = await completePending(pending);
        deps.log({ event: 'recover.apply', key: record.key, plan: pending.slug, finished });
        recovered++;
      } finally {
        await deps.journal.release(record.key);
      }
    }
    return recovered;
  }

  /** A message whose change a crash left in the journal: finish the write, then answer as applied. */
  async function answerRecovered(record: JournalRecord, parsed: Awaited<ReturnType<typeof parseMessage>>, meta: MessageMeta, raw: Buffer): Promise<HandledOutcome> {
    const pending = record.apply!;
    if (!(await completePending(pending))) {
      // The change never reached the plan and the plan has moved on: process the message afresh.
      return run({ ...record, state: 'new' }, parsed, meta, raw);
    }
    const evaluation = await evaluateParsed(parsed, { ...deps, now: deps.clock(), meta });
    const plan = await withPlanLock(deps.paths, pending.slug, async () => {
      const current = await readPlan(deps.paths, pending.slug);
      await deps.plans.put(current);
      await deps.afterApply(pending.slug, current, evaluation);
      return current;
    });
    const result: ApplyResult = { edits: [], changes: pending.changes, activity: pending.activity, problems: [] };
    const answers = await deps.answer({ ...evaluation, verdict: 'apply', reason: 'REPLY_APPLIED', plan: pending.slug }, { plan, result });
    await deps.journal.finish({ ...record, verdict: 'apply', reason: 'REPLY_APPLIED', plan: pending.slug, answers, changes: pending.changes.map((c) => c.summary) });
    deps.log({ event: 'message.recovered', key: record.key, plan: pending.slug });
    return { disposition: 'processed', reason: 'REPLY_APPLIED' };
  }

  return { handle, recover };
}

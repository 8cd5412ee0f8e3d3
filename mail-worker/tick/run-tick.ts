/**
 * One tick: for each plan, under its lock, plan what is due now (plan-tick.ts) and send it,
 * settling each email's keys in the tick state as soon as it is spooled, so a tick that dies
 * mid-way resumes where it stopped and a second tick for the same moment sends nothing.
 *
 * Order per plan: stage completions are recorded first (an on-complete check-in is timed from
 * them), every email is composed (a person without a personal link gets one, and the portal is
 * re-sealed before an email carrying a new link goes out), then check-in invites
 * (`sendInvites`), the next stage's task emails, escalations (recorded in `records.escalations`
 * with an `escalated` activity entry, so both sides see them), reminder and weekly digests
 * (`reminder` activity entries), and the resets of escalations that no longer apply. The portal
 * is re-sealed at the end when the records or the activity changed.
 *
 * Every scheduled email gets a Message-ID derived from its state key: the mailer spools a
 * Message-ID once, so even a lost state file cannot make the same email go out twice.
 *
 * A dry run plans and lists, and touches nothing: no email composed (composing can create a
 * personal link), no records, activity or state written.
 */
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import { formatPath, isTwofoldError } from '../../site/core/errors/problem.ts';
import type { ActivityEntry } from '../../site/core/plan/activity.ts';
import { allTasks, personById } from '../../site/core/plan/plan-model.ts';
import type { PlanRecords } from '../../site/core/plan/plan-records.ts';
import { placeholderProblems } from '../../site/core/plan/plan-warnings.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { withPlanLock } from '../../site/lib/plan-lock-fs.ts';
import { appendActivity, readRecords, writeRecords } from '../../site/lib/plan-records-fs.ts';
import { listPlanFiles, readPlanFile, type PlanFile } from '../../site/lib/plan-store-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import { sendInvites } from '../calendar/send-invites.ts';
import type { MailIdentity } from '../config/mail-identity.ts';
import { composeDigestEmail } from '../mail/digest-email.ts';
import { composeEscalationEmail } from '../mail/escalation-email.ts';
import { messageIdFor, type ComposedEmail, type MailContext } from '../mail/mail-context.ts';
import { dueWords } from '../mail/task-facts.ts';
import { composeTaskEmail } from '../mail/task-email.ts';
import type { Mailer } from '../mailer/mailer.ts';
import { inviteItem, itemKey, planTick, tickItems, type PlanTick, type TickItem, type TickScope } from './plan-tick.ts';
import { settle, tickKeys, type TickState } from './tick-state.ts';
import { readTickState, writeTickState } from './tick-state-fs.ts';
import { DEFAULT_QUIET_HOURS, momentOnDay, nextOpening, type TickClosedReason } from './tick-window.ts';

export interface TickDeps {
  paths: ProjectPaths;
  identity: MailIdentity;
  /** Reply-token keys and personal links. */
  store: MailContext['store'];
  mailer: Pick<Mailer, 'send'>;
  /** HH:MM-HH:MM in each plan's zone (default DEFAULT_QUIET_HOURS, "19:00-08:00"). */
  quietHours?: string;
  /** Re-seal a plan's portal. Called under the plan's lock: do not take it again. */
  reseal?: (slug: string) => Promise<unknown>;
  log?: (event: Record<string, unknown>) => void;
}

export interface RunTickOptions extends TickDeps {
  now: Date;
  /**
   * A calendar date meaning "that day" in every plan's zone (`--now 2026-03-09`): each plan ticks
   * at the first moment of its window that day (tick-window.ts `momentOnDay`).
   */
  today?: string;
  /** Plan and list only: nothing is sent, composed or stored. */
  dryRun?: boolean;
  /** Only these plans (default every plan in content/plans). */
  slugs?: readonly string[];
  /** `changes`: only stage completions and check-ins (the worker's tick after a reply). Default `all`. */
  scope?: TickScope;
}

export type TickPlanStatus = 'ran' | 'closed' | 'invalid' | 'failed';

export interface TickPlanOutcome {
  plan: string;
  status: TickPlanStatus;
  /** The moment the plan was ticked at (ISO), and the plan's zone. */
  at?: string;
  timezone?: string;
  /** Closed: why, and when the window opens next (ISO). */
  reason?: TickClosedReason;
  opensAt?: string;
  /** Invalid or failed: the catalog code and what happened. */
  code?: ErrorCode;
  message?: string;
  /** Emails sent (or, in a dry run, that would be). */
  emails: number;
}

export interface TickResult {
  dryRun: boolean;
  /** Every email sent, or that would be sent in a dry run, in order. */
  sent: TickItem[];
  plans: TickPlanOutcome[];
}

export async function runTick(options: RunTickOptions): Promise<TickResult> {
  const files = await listPlanFiles(options.paths);
  const wanted = options.slugs ? new Set(options.slugs) : undefined;
  const sent: TickItem[] = [];
  const plans: TickPlanOutcome[] = [];
  for (const slug of wanted ?? []) {
    if (!files.some((f) => f.slug === slug)) plans.push({ plan: slug, status: 'failed', code: 'PLAN_NOT_FOUND', message: `no plan "${slug}"`, emails: 0 });
  }
  for (const file of files) {
    if (wanted && !wanted.has(file.slug)) continue;
    const items: TickItem[] = [];
    let outcome: TickPlanOutcome;
    try {
      // A dry run only reads (every file it reads is replaced atomically), so it takes no lock.
      outcome = options.dryRun ? await tickPlan(options, file, items) : await withPlanLock(options.paths, file.slug, () => tickPlan(options, file, items));
    } catch (err: any) {
      const code: ErrorCode = isTwofoldError(err) ? err.code : 'TICK_PLAN_FAILED';
      outcome = { plan: file.slug, status: 'failed', code, message: String(err?.message ?? err), emails: items.length };
      options.log?.({ event: 'tick.plan-failed', plan: file.slug, code, reason: outcome.message, sent: items.length });
    }
    sent.push(...items);
    plans.push(outcome);
  }
  return { dryRun: options.dryRun === true, sent, plans };
}

/** Plan and (unless a dry run) send one plan's due items, pushing each sent email onto `items`. */
async function tickPlan(options: RunTickOptions, file: PlanFile, items: TickItem[]): Promise<TickPlanOutcome> {
  const { paths } = options;
  const slug = file.slug;
  const quietHours = options.quietHours ?? DEFAULT_QUIET_HOURS;
  const read = await readPlanFile(file);
  if (!read.ok) {
    const first = read.problems.find((p) => p.severity === 'error') ?? read.problems[0];
    return { plan: slug, status: 'invalid', code: 'TICK_PLAN_INVALID', message: `${file.label}: ${first?.message ?? 'invalid plan'} — nothing sent for this plan`, emails: 0 };
  }
  const { plan } = read.value;
  // A plan fresh from `twofold new` names placeholder people: nobody is mailed until they are real.
  const placeholder = placeholderProblems(plan)[0];
  if (placeholder) {
    return { plan: slug, status: 'invalid', code: 'PLAN_PLACEHOLDER_LEFT', message: `${file.label}: ${formatPath(placeholder.path)} ${placeholder.message} — nothing sent for this plan until every FILL IN is replaced`, emails: 0 };
  }
  const now = options.today ? momentOnDay(plan, options.today, quietHours) : options.now;
  const records = await readRecords(paths, slug);
  const state = await readTickState(paths, slug);
  const tick = planTick({ slug, plan, records, state, now, quietHours, ...(options.scope ? { scope: options.scope } : {}) });
  if (!tick.window.open) {
    const opens = nextOpening(plan, now, quietHours);
    return { plan: slug, status: 'closed', at: now.toISOString(), timezone: plan.timezone, ...(tick.window.reason ? { reason: tick.window.reason } : {}), ...(opens ? { opensAt: opens.toISOString() } : {}), emails: 0 };
  }
  if (options.dryRun) {
    items.push(...tickItems(tick));
  } else {
    await sendPlanTick({ ...options, quietHours }, { slug, plan, tick, records, state, now }, items);
  }
  return { plan: slug, status: 'ran', at: now.toISOString(), timezone: plan.timezone, emails: items.length };
}

interface PlanTickRun {
  slug: string;
  plan: Plan;
  tick: PlanTick;
  records: PlanRecords;
  state: TickState;
  now: Date;
}

/** One composed email and the item it is in the tick's list. */
interface Outgoing {
  item: TickItem;
  email: ComposedEmail;
}

async function sendPlanTick(deps: TickDeps, run: PlanTickRun, items: TickItem[]): Promise<void> {
  const { paths, identity, mailer } = deps;
  const { slug, plan, tick, now } = run;
  let { records, state } = run;
  const at = now.toISOString();
  let changed = false;
  const ctx: MailContext = { paths, store: deps.store, identity, now, today: tick.today };
  const saveState = async (keys: readonly string[]) => {
    state = settle(state, keys, now);
    await writeTickState(paths, slug, state, now);
  };
  const stableId = (...parts: string[]) => messageIdFor(identity, ['tick', slug, ...parts]);
  const planned = new Map(tickItems(tick).map((i) => [itemKey(i), i]));
  const itemFor = (kind: TickItem['kind'], to: string, task?: string) => planned.get(itemKey({ kind, to, task: task ?? null }))!;

  // 1. Stage completions, recorded before anything is planned on them (check-in times).
  for (const s of tick.stages) {
    if (!s.recorded) {
      records = { ...records, stages: { ...records.stages, [s.stageId]: { completedAt: s.completedAt } } };
      await writeRecords(paths, slug, records);
      if (s.announce) await appendActivity(paths, slug, [{ at, actor: 'twofold', verb: 'stage_complete', stage: s.stageId, via: 'tick' }]);
      deps.log?.({ event: 'tick.stage-complete', plan: slug, stage: s.stageId, day: s.day, announced: s.announce });
      changed = true;
    }
    if (s.taskEmails.length === 0) await saveState([s.key]);
  }

  // 2. Compose every email first: new personal links open the portal only once it is re-sealed.
  const stageMail: Array<{ key: string; mail: Outgoing[] }> = [];
  for (const s of [...tick.openings, ...tick.stages]) {
    if (s.taskEmails.length === 0) continue;
    const mail: Outgoing[] = [];
    for (const t of s.taskEmails) {
      const email = await composeTaskEmail(ctx, { slug, plan, task: t.task, to: t.to });
      email.message.messageId = stableId(s.key, 'task', t.task.toLowerCase(), t.to);
      mail.push({ item: itemFor('task', t.to, t.task), email });
    }
    stageMail.push({ key: s.key, mail });
  }
  const escalationMail: Array<{ due: PlanTick['escalations'][number]; mail: Outgoing[] }> = [];
  for (const e of tick.escalations) {
    const mail: Outgoing[] = [];
    for (const r of e.recipients) {
      const email = await composeEscalationEmail(ctx, { slug, plan, task: e.task, to: r.email, step: r.step });
      email.message.messageId = stableId(tickKeys.escalation(e.task, e.since, r.step), r.email);
      mail.push({ item: itemFor('escalation', r.email, e.task), email });
    }
    escalationMail.push({ due: e, mail });
  }
  const digestMail: Array<{ due: PlanTick['digests'][number]; mail: Outgoing }> = [];
  for (const d of tick.digests) {
    const email = await composeDigestEmail(ctx, { slug, plan, to: d.to, kind: d.kind, reminders: d.reminders.map((r) => r.task) });
    email.message.messageId = stableId(d.key);
    digestMail.push({ due: d, mail: { item: itemFor('digest', d.to), email } });
  }
  const newLinks = [...stageMail.flatMap((s) => s.mail), ...escalationMail.flatMap((e) => e.mail), ...digestMail.map((d) => d.mail)].flatMap((o) => o.email.newLinks);
  if (newLinks.length > 0) await deps.reseal?.(slug);

  const send = async ({ item, email }: Outgoing) => {
    const result = await mailer.send(email.message, email.tag);
    deps.log?.({ event: `tick.${item.kind}`, plan: slug, to: item.to, task: item.task, step: item.step, messageId: result.messageId, delivered: result.delivered });
    items.push(item);
  };

  // 3. Check-in invites (new, moved, renamed, removed; stage completions above included).
  if (tick.invites.length > 0) {
    const result = await sendInvites({ paths, slug, plan, now, mailer, messageIdDomain: identity.messageIdDomain, via: 'tick' });
    records = result.records;
    for (const s of result.sent) {
      const a = s.action;
      const item = inviteItem(slug, a);
      deps.log?.({ event: 'tick.checkin', plan: slug, to: item.to, stage: a.stageId, method: a.method, sequence: a.sequence, messageId: s.messageId, delivered: s.delivered });
      items.push(item);
    }
    if (result.sent.length > 0) changed = true;
  }

  // 4. Task emails: the first stage's at the plan's start, the next stage's on a completion.
  for (const s of stageMail) {
    for (const o of s.mail) await send(o);
    await saveState([s.key]);
  }

  // 5. Escalations: emailed, recorded, logged for both sides.
  for (const { due, mail } of escalationMail) {
    for (const o of mail) await send(o);
    records = { ...records, escalations: { ...records.escalations, [due.task]: due.record } };
    await writeRecords(paths, slug, records);
    await appendActivity(paths, slug, due.steps.map((step) => escalationActivity(plan, due.task, step, at)));
    await saveState(due.keys);
    changed = true;
  }

  // 6. Reminder and weekly digests: one email per person per day.
  const views = new Map(allTasks(plan, tick.today).map((v) => [v.task.id, v]));
  for (const { due, mail } of digestMail) {
    await send(mail);
    const entries: ActivityEntry[] = due.reminders.map((r) => ({ at, actor: 'twofold', verb: 'reminder', task: r.task, value: dueWords(plan, views.get(r.task)!, tick.today) || 'due soon', via: 'tick' }));
    await appendActivity(paths, slug, entries);
    await saveState(due.keys);
    if (entries.length > 0) changed = true;
  }

  // 7. Escalations that no longer apply (unblocked, a new blocker, the task gone) reset the ladder.
  if (tick.resets.length > 0) {
    const escalations = { ...records.escalations };
    for (const id of tick.resets) delete escalations[id];
    records = { ...records, escalations };
    await writeRecords(paths, slug, records);
    changed = true;
  }

  if (changed) await deps.reseal?.(slug);
}

/** `step 2 of 3: Ines Ortega, Sam Reed notified` — the form the activity log and the portal show. */
function escalationActivity(plan: Plan, task: string, step: number, at: string): ActivityEntry {
  const names = (plan.escalation[step]?.notify ?? []).map((id) => personById(plan, id)?.name ?? id).join(', ');
  return { at, actor: 'twofold', verb: 'escalated', task, value: `step ${step + 1} of ${plan.escalation.length}: ${names} notified`, via: 'tick' };
}

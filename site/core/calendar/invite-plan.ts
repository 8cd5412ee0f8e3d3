/**
 * Which invites a plan needs now, and the plan records after each one is sent. Pure: plan,
 * records and "now" in; actions and records out. The mail worker, the scheduler and
 * `twofold invite` all call `planInvites`, so a moved milestone updates the same event however
 * the move was noticed.
 *
 * Per check-in (keyed by stage id in `records.checkins`):
 * - new → REQUEST, SEQUENCE 0, to every attendee;
 * - changed (anything the invite says: time, title, description, location, attendees,
 *   organizer — the revision digest) → REQUEST with SEQUENCE + 1 to the current attendees and
 *   CANCEL (same UID and SEQUENCE, no STATUS) to each attendee who was removed;
 * - removed from the plan (or its stage removed, or an on-complete check-in back to pending
 *   because its stage was reopened) → CANCEL with STATUS:CANCELLED to everyone who has it;
 * - unchanged (same revision, everyone sent) → nothing;
 * - a retry of the same revision (a crash mid-way) → the same SEQUENCE, only to those not yet
 *   sent (`record.sent`), so SEQUENCE is never raised twice for one revision.
 * Check-ins that are over (ended before now, before and after the change) are left alone: no
 * invite to a past meeting, no CANCEL that would erase one from calendars.
 *
 * SEQUENCE lives only in the records (`content/records/<slug>.json`), never in the plan text.
 */
import { csmOf, personByEmail } from '../plan/plan-model.ts';
import type { CheckinRecord, PlanRecords } from '../plan/plan-records.ts';
import type { Plan } from '../plan/plan-types.ts';
import { instantAt } from '../util/dates.ts';
import { stableDigest } from '../util/stable-digest.ts';
import { checkinEnd, planCheckins, stageCompletionDay, type CheckinEvent, type CheckinPlan } from './checkin-schedule.ts';

/** The revision of a check-in that was cancelled as a whole (never a digest: those are hex). */
export const CANCELLED_REVISION = 'cancelled';

export type InviteReason = 'new' | 'changed' | 'retry' | 'uninvited' | 'removed' | 'unscheduled';

export interface InviteRecipient {
  email: string;
  name?: string;
}

export interface InviteAction {
  stageId: string;
  method: 'REQUEST' | 'CANCEL';
  /** CANCEL: the whole check-in (`event`) or one attendee uninvited from it (`attendee`). */
  cancel?: 'event' | 'attendee';
  sequence: number;
  revision: string;
  reason: InviteReason;
  /** One message per recipient: each gets its own Message-ID and its own line in `record.sent`. */
  recipient: InviteRecipient;
  /** What the calendar object says (an uninvite lists only the uninvited attendee). */
  event: CheckinEvent;
  /** The check-in as the plan has it now; absent when it left the plan. */
  checkin?: CheckinPlan;
  /** This revision moves the check-in (start, end or all-day changed): earlier RSVPs lapse. */
  moved: boolean;
}

export interface InvitePlan {
  actions: InviteAction[];
  /** The records before sending: the input plus bookkeeping (a stage completion day fixed). */
  before: PlanRecords;
  /** The records after every action is sent (`recordInviteSent` folded over `actions`). */
  after: PlanRecords;
}

export interface PlanInvitesOptions {
  /** Only these stages' check-ins (`twofold invite <plan> <stage>`). Default: all. */
  stageIds?: string[];
}

/** The invites the plan needs now. */
export function planInvites(plan: Plan, slug: string, records: PlanRecords, now: Date, options: PlanInvitesOptions = {}): InvitePlan {
  const before = fixCompletionDays(plan, records, now);
  const current = new Map(planCheckins(plan, slug, before, now).map((c) => [c.stageId, c]));
  const wanted = (id: string) => !options.stageIds || options.stageIds.includes(id);
  const stageIds = [...new Set([...current.keys(), ...Object.keys(before.checkins)])].filter(wanted);
  const actions: InviteAction[] = [];
  for (const stageId of stageIds) {
    const checkin = current.get(stageId);
    const record = before.checkins[stageId];
    actions.push(...(checkin?.status === 'scheduled' ? scheduledActions(plan, checkin, record, now) : cancelActions(plan, stageId, record, now)));
  }
  const after = actions.reduce(recordInviteSent, before);
  return { actions, before, after };
}

/** The revision digest: everything the invite says, so any change to it is an update. */
export function checkinRevision(checkin: CheckinEvent): string {
  const canonical = {
    uid: checkin.uid,
    title: checkin.title,
    description: checkin.description ?? '',
    location: checkin.location ?? '',
    allDay: checkin.allDay,
    start: startText(checkin),
    end: endText(checkin),
    organizer: { email: checkin.organizer.email, name: checkin.organizer.name ?? '' },
    attendees: checkin.attendees.map((a) => ({ email: a.email, name: a.name ?? '' })).sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)),
  };
  return stableDigest(JSON.stringify(canonical));
}

/**
 * The SEQUENCE the invite for this check-in carries now: the stored one while the revision is
 * unchanged, one more once it changed, 0 before the first invite. The portal's "add to
 * calendar" uses it too, so a hand-added copy and the emailed invite are one event.
 */
export function checkinSequence(checkin: CheckinEvent, record: CheckinRecord | undefined): number {
  if (!record) return 0;
  return record.revision === checkinRevision(checkin) ? record.sequence : record.sequence + 1;
}

/** The records once `action` has been sent (spooled): call after each message. */
export function recordInviteSent(records: PlanRecords, action: InviteAction): PlanRecords {
  const prev = records.checkins[action.stageId];
  const fresh = !prev || prev.revision !== action.revision;
  const email = action.recipient.email;
  const holders = new Set(prev?.attendees ?? []);
  if (action.method === 'REQUEST') holders.add(email);
  else holders.delete(email);
  const sent = new Set(fresh ? [] : (prev?.sent ?? []));
  sent.add(email);

  // A whole-event CANCEL keeps what was last shown; anything else records the current check-in.
  const shown: Shown = (action.cancel === 'event' ? prev : action.checkin && recordTimes(action.checkin)) ?? {};
  const next: CheckinRecord = {
    uid: action.event.uid,
    sequence: action.sequence,
    revision: action.revision,
    attendees: [...holders].sort(),
    ...(shown.start !== undefined ? { start: shown.start } : {}),
    ...(shown.end !== undefined ? { end: shown.end } : {}),
    ...(shown.title !== undefined ? { title: shown.title } : {}),
    ...(shown.allDay ? { allDay: true } : {}),
    ...(action.cancel === 'event' ? { cancelled: true } : {}),
    sent: [...sent].sort(),
  };
  const timeSequence = fresh && action.moved ? action.sequence : prev?.timeSequence;
  if (timeSequence !== undefined) next.timeSequence = timeSequence;

  const rsvps = { ...records.rsvps };
  if (fresh && action.moved) delete rsvps[action.stageId];
  if (action.method === 'CANCEL' && rsvps[action.stageId]) {
    const { [email]: _gone, ...rest } = rsvps[action.stageId]!;
    rsvps[action.stageId] = rest;
  }
  return { ...records, checkins: { ...records.checkins, [action.stageId]: next }, rsvps };
}

function scheduledActions(plan: Plan, checkin: CheckinPlan, record: CheckinRecord | undefined, now: Date): InviteAction[] {
  const revision = checkinRevision(checkin);
  const isPastNow = checkinEnd(checkin, plan.timezone).getTime() <= now.getTime();
  const live = record && !record.cancelled ? record : undefined;
  if (record?.revision === revision) {
    // Same revision: finish sending it (a retry), with the same SEQUENCE.
    const sent = new Set(record.sent ?? [...record.attendees]);
    const requests = checkin.attendees.filter((p) => !sent.has(p.email));
    const current = new Set(checkin.attendees.map((p) => p.email));
    const uninvited = record.attendees.filter((e) => !current.has(e) && !sent.has(e));
    return [
      ...requests.map((p) => request(checkin, revision, record.sequence, p, 'retry', false)),
      ...uninvited.map((e) => uninvite(plan, checkin, revision, record.sequence, e)),
    ];
  }
  if (isPastNow && (!live || recordIsPast(plan, live, now))) return [];
  const sequence = checkinSequence(checkin, record);
  const moved = !live || live.start !== startText(checkin) || live.end !== endText(checkin) || Boolean(live.allDay) !== checkin.allDay;
  const current = new Set(checkin.attendees.map((p) => p.email));
  const reason: InviteReason = live ? 'changed' : 'new';
  return [
    ...checkin.attendees.map((p) => request(checkin, revision, sequence, p, reason, moved)),
    ...(live?.attendees ?? []).filter((e) => !current.has(e)).map((e) => uninvite(plan, checkin, revision, sequence, e)),
  ];
}

function cancelActions(plan: Plan, stageId: string, record: CheckinRecord | undefined, now: Date): InviteAction[] {
  if (!record || record.attendees.length === 0) return [];
  const retry = record.revision === CANCELLED_REVISION;
  if (!retry && recordIsPast(plan, record, now)) return [];
  const sequence = retry ? record.sequence : record.sequence + 1;
  const event = recordedEvent(plan, record);
  // A check-in still in the plan but pending again (its stage was reopened), or gone from it.
  const reason: InviteReason = plan.stages.some((s) => s.id === stageId && s.checkin) ? 'unscheduled' : 'removed';
  return record.attendees.map((email) => ({
    stageId,
    method: 'CANCEL' as const,
    cancel: 'event' as const,
    sequence,
    revision: CANCELLED_REVISION,
    reason: retry ? 'retry' : reason,
    recipient: recipientFor(plan, email),
    event,
    moved: false,
  }));
}

function request(checkin: CheckinPlan, revision: string, sequence: number, person: InviteRecipient, reason: InviteReason, moved: boolean): InviteAction {
  return { stageId: checkin.stageId, method: 'REQUEST', sequence, revision, reason, recipient: { email: person.email, ...(person.name ? { name: person.name } : {}) }, event: checkin, checkin, moved };
}

function uninvite(plan: Plan, checkin: CheckinPlan, revision: string, sequence: number, email: string): InviteAction {
  const recipient = recipientFor(plan, email);
  return { stageId: checkin.stageId, method: 'CANCEL', cancel: 'attendee', sequence, revision, reason: 'uninvited', recipient, event: { ...checkin, attendees: [recipient] }, checkin, moved: false };
}

/** The event as last sent, rebuilt from its record, for a CANCEL of a check-in gone from the plan. */
function recordedEvent(plan: Plan, record: CheckinRecord): CheckinEvent {
  const organizer = csmOf(plan);
  const base: CheckinEvent = {
    uid: record.uid,
    title: record.title ?? 'Check-in',
    allDay: record.allDay === true,
    organizer: { name: organizer.name, email: organizer.email },
    attendees: record.attendees.map((e) => recipientFor(plan, e)),
  };
  const start = record.start ?? '';
  if (record.allDay) return { ...base, date: start, endDate: record.end ?? start };
  return { ...base, start: new Date(start), end: new Date(record.end ?? start) };
}

function recipientFor(plan: Plan, email: string): InviteRecipient {
  const person = personByEmail(plan, email);
  return person ? { email: person.email, name: person.name } : { email };
}

/** Has the check-in a record describes ended by now? Unknown times count as not past. */
function recordIsPast(plan: Plan, record: CheckinRecord, now: Date): boolean {
  const end = record.end ?? record.start;
  if (!end) return false;
  const instant = record.allDay ? instantAt(end, '00:00', plan.timezone) : new Date(end);
  return !Number.isNaN(instant.getTime()) && instant.getTime() <= now.getTime();
}

type Shown = Pick<CheckinRecord, 'start' | 'end' | 'title' | 'allDay'>;

function recordTimes(checkin: CheckinPlan): Shown {
  return { start: startText(checkin), end: endText(checkin), title: checkin.title, ...(checkin.allDay ? { allDay: true } : {}) };
}

function startText(event: CheckinEvent): string {
  return event.allDay ? (event.date ?? '') : (event.start?.toISOString() ?? '');
}

function endText(event: CheckinEvent): string {
  return event.allDay ? (event.endDate ?? '') : (event.end?.toISOString() ?? '');
}

/**
 * An on-complete check-in whose stage completed with no date anywhere is placed after "today";
 * storing today as the completion keeps that time from drifting on later runs.
 */
function fixCompletionDays(plan: Plan, records: PlanRecords, now: Date): PlanRecords {
  let stages = records.stages;
  for (const stage of plan.stages) {
    if (stage.checkin?.when !== 'on-complete' || stages[stage.id]?.completedAt) continue;
    if (!stageCompletionDay(plan, stage, records, now) || stage.tasks.some((t) => t.done)) continue;
    stages = { ...stages, [stage.id]: { completedAt: now.toISOString() } };
  }
  return stages === records.stages ? records : { ...records, stages };
}

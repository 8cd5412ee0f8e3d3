/**
 * Accept / Decline / Tentative answers to check-in invites (iTIP METHOD:REPLY, RFC 5546 §3.2.3)
 * that reach the worker: read the text/calendar part with ical.js, find the plan and stage from
 * the UID, and record who answered what in the plan records (`rsvps[stageId][email]`) with an
 * `rsvp` activity entry. An answer is never a task command.
 *
 * Ignored, not recorded (outcome `stale`): an answer to an invite older than the last time
 * change (its SEQUENCE is below `record.timeSequence` — it accepted an older time), and one
 * older (DTSTAMP) than the answer already recorded. Refused with a coded error: anything that is
 * not a readable REPLY, a UID Twofold did not send, an attendee who is not invited, and an
 * email sent by someone else than the attendee it answers for.
 */
import ICAL from 'ical.js';
import { parseCheckinUid } from '../../site/core/calendar/checkin-schedule.ts';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import type { ActivityEntry } from '../../site/core/plan/activity.ts';
import { personByEmail } from '../../site/core/plan/plan-model.ts';
import type { PartStat, PlanRecords } from '../../site/core/plan/plan-records.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { appendActivity, readRecords, writeRecords } from '../../site/lib/plan-records-fs.ts';
import { readPlan } from '../../site/lib/plan-store-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';

/** Larger calendar parts are refused unread (a REPLY is a few hundred bytes). */
export const MAX_REPLY_ICS_CHARS = 256_000;
const PARTSTATS: readonly PartStat[] = ['ACCEPTED', 'DECLINED', 'TENTATIVE', 'NEEDS-ACTION'];

export interface ItipReply {
  uid: string;
  /** The answering attendee's address, lowercased. */
  attendee: string;
  partstat: PartStat;
  sequence: number;
  /** When the attendee answered (DTSTAMP), when given. */
  dtstamp?: Date;
}

export interface RsvpResult {
  outcome: 'recorded' | 'unchanged' | 'stale';
  slug: string;
  stageId: string;
  reply: ItipReply;
  /** The records to store (unchanged unless `recorded`). */
  records: PlanRecords;
  /** The activity entry to append (only when `recorded`). */
  activity?: ActivityEntry;
}

/** Read an iTIP REPLY (the text of a text/calendar part). Throws CALENDAR_REPLY_INVALID. */
export function parseItipReply(ics: string): ItipReply {
  if (ics.length > MAX_REPLY_ICS_CHARS) throw invalid(`the calendar part is ${ics.length} characters long; Twofold reads at most ${MAX_REPLY_ICS_CHARS}`);
  let calendar: ICAL.Component;
  try {
    calendar = new ICAL.Component(ICAL.parse(ics));
  } catch (err) {
    throw invalid(`the calendar part does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (calendar.name !== 'vcalendar') throw invalid(`the calendar part is a ${calendar.name}, not a VCALENDAR`);
  const method = String(calendar.getFirstPropertyValue('method') ?? '').toUpperCase();
  if (method !== 'REPLY') throw invalid(`the calendar part has METHOD:${method || '(none)'}, not REPLY`);
  const event = calendar.getAllSubcomponents('vevent').find((e) => !e.hasProperty('recurrence-id')) ?? calendar.getFirstSubcomponent('vevent');
  if (!event) throw invalid('the REPLY holds no VEVENT');
  const uid = String(event.getFirstPropertyValue('uid') ?? '').trim();
  if (!uid) throw invalid('the REPLY has no UID');
  const attendees = event.getAllProperties('attendee');
  if (attendees.length !== 1) throw invalid(`a REPLY names exactly one attendee; this one names ${attendees.length}`);
  const prop = attendees[0]!;
  const attendee = String(prop.getFirstValue() ?? '').replace(/^mailto:/i, '').trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(attendee)) throw invalid('the REPLY\'s attendee is not an email address');
  const partstat = String(prop.getParameter('partstat') ?? '').toUpperCase() as PartStat;
  if (!PARTSTATS.includes(partstat)) throw invalid(`PARTSTAT "${partstat || '(none)'}" is not an answer Twofold records (ACCEPTED, DECLINED or TENTATIVE)`);
  const sequence = Number(event.getFirstPropertyValue('sequence') ?? 0);
  const stamp = event.getFirstPropertyValue('dtstamp');
  const dtstamp = stamp instanceof ICAL.Time ? stamp.toJSDate() : undefined;
  return {
    uid,
    attendee,
    partstat,
    sequence: Number.isInteger(sequence) && sequence >= 0 ? sequence : 0,
    ...(dtstamp && !Number.isNaN(dtstamp.getTime()) ? { dtstamp } : {}),
  };
}

/** The plan and stage a REPLY answers, from its UID. Throws CALENDAR_REPLY_UNKNOWN. */
export function rsvpTarget(reply: ItipReply): { slug: string; stageId: string } {
  const target = parseCheckinUid(reply.uid);
  if (!target) throw new TwofoldError('CALENDAR_REPLY_UNKNOWN', `UID "${reply.uid.slice(0, 120)}" is not a Twofold check-in`);
  return target;
}

export interface ApplyRsvpInput {
  reply: ItipReply;
  slug: string;
  plan: Plan;
  records: PlanRecords;
  now: Date;
  /** The email's From address: must be the attendee the answer is for. */
  sender?: string;
  /** Message-ID of the answer, kept in the activity entry. */
  messageId?: string;
}

/** Record one answer (pure). Throws CALENDAR_REPLY_UNKNOWN or CALENDAR_REPLY_NOT_INVITED. */
export function applyRsvp(input: ApplyRsvpInput): RsvpResult {
  const { reply, slug, plan, records, now } = input;
  const { stageId } = rsvpTarget(reply);
  const record = records.checkins[stageId];
  if (!record || record.uid !== reply.uid) throw new TwofoldError('CALENDAR_REPLY_UNKNOWN', `plan ${slug} has no check-in with UID ${reply.uid}`);
  if (input.sender !== undefined && input.sender.trim().toLowerCase() !== reply.attendee) {
    throw new TwofoldError('CALENDAR_REPLY_NOT_INVITED', `${input.sender} answered for ${reply.attendee}; an answer must come from the attendee`);
  }
  if (!record.attendees.includes(reply.attendee)) {
    throw new TwofoldError('CALENDAR_REPLY_NOT_INVITED', `${reply.attendee} is not invited to the ${stageId} check-in of plan ${slug}`);
  }
  const same = { slug, stageId, reply, records };
  if (reply.sequence < (record.timeSequence ?? 0)) return { outcome: 'stale', ...same };
  const previous = records.rsvps[stageId]?.[reply.attendee];
  const at = (reply.dtstamp ?? now).toISOString();
  if (previous && previous.at > at) return { outcome: 'stale', ...same };
  if (previous?.partstat === reply.partstat) return { outcome: 'unchanged', ...same };
  const next: PlanRecords = {
    ...records,
    rsvps: { ...records.rsvps, [stageId]: { ...records.rsvps[stageId], [reply.attendee]: { partstat: reply.partstat, at } } },
  };
  const activity: ActivityEntry = {
    at: now.toISOString(),
    actor: personByEmail(plan, reply.attendee)?.id ?? reply.attendee,
    verb: 'rsvp',
    stage: stageId,
    value: reply.partstat,
    via: 'calendar',
    ...(input.messageId ? { message: input.messageId } : {}),
  };
  return { outcome: 'recorded', slug, stageId, reply, records: next, activity };
}

/**
 * Read, apply and store one answer: the processor calls this for a message whose
 * text/calendar part has METHOD:REPLY, under the plan's lock, instead of the reply grammar.
 */
export async function recordRsvp(paths: ProjectPaths, ics: string, options: { now: Date; sender?: string; messageId?: string }): Promise<RsvpResult> {
  const reply = parseItipReply(ics);
  const { slug } = rsvpTarget(reply);
  let plan: Plan;
  try {
    plan = (await readPlan(paths, slug)).plan;
  } catch (err) {
    throw new TwofoldError('CALENDAR_REPLY_UNKNOWN', `the answer is for plan "${slug}", which cannot be read`, { cause: err });
  }
  const result = applyRsvp({ reply, slug, plan, records: await readRecords(paths, slug), now: options.now, ...optional(options) });
  if (result.outcome === 'recorded') {
    await writeRecords(paths, slug, result.records);
    await appendActivity(paths, slug, [result.activity!]);
  }
  return result;
}

function optional(options: { sender?: string; messageId?: string }): { sender?: string; messageId?: string } {
  return { ...(options.sender !== undefined ? { sender: options.sender } : {}), ...(options.messageId !== undefined ? { messageId: options.messageId } : {}) };
}

function invalid(message: string): TwofoldError {
  return new TwofoldError('CALENDAR_REPLY_INVALID', message);
}

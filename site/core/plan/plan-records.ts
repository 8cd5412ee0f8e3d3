/**
 * Plan records: machine-written facts about a plan that are not plan text but belong to its
 * record (kept in git beside it, `content/records/<slug>.json`) and show in its portal.
 */
export type PartStat = 'ACCEPTED' | 'DECLINED' | 'TENTATIVE' | 'NEEDS-ACTION';

export interface CheckinRecord {
  /** Stable iCalendar UID, namespaced by plan, never derived from the date. */
  uid: string;
  /** iCalendar SEQUENCE of the last invite sent. */
  sequence: number;
  /** Digest of what the last invite said (time, title, attendees…); a retry with the same revision keeps the sequence. */
  revision: string;
  /** Attendee emails the last REQUEST went to (a removed one gets a CANCEL). */
  attendees: string[];
  /** ISO instant or date of the last invite, for the portal. */
  start?: string;
  cancelled?: boolean;
  /** End (ISO instant, or the exclusive end date of an all-day check-in), title and all-day flag of the last invite: a CANCEL for a check-in gone from the plan still names it. */
  end?: string;
  title?: string;
  allDay?: boolean;
  /** Emails already sent `revision` (REQUEST or CANCEL): after a crash mid-way, only the rest are sent, with the same SEQUENCE. */
  sent?: string[];
  /** SEQUENCE of the invite that last set the time: a REPLY to an older one answered an older time. */
  timeSequence?: number;
}

export interface EscalationRecord {
  /** The blocked.since date this ladder counts from; a new blocker resets the ladder. */
  since: string;
  /** Index in `plan.escalation` of the highest step reached. */
  step: number;
  /** ISO instant the step was notified. */
  at: string;
  /** Emails of the people notified at that moment (the step's `notify`, as the plan had it). */
  notified?: string[];
}

export interface PlanRecords {
  version: 1;
  checkins: Record<string, CheckinRecord>;
  rsvps: Record<string, Record<string, { partstat: PartStat; at: string }>>;
  escalations: Record<string, EscalationRecord>;
  stages: Record<string, { completedAt: string }>;
}

export function emptyRecords(): PlanRecords {
  return { version: 1, checkins: {}, rsvps: {}, escalations: {}, stages: {} };
}

/** Tolerant read: unknown or missing parts become empty. */
export function normaliseRecords(value: unknown): PlanRecords {
  const v = (value && typeof value === 'object' ? value : {}) as Partial<PlanRecords>;
  const obj = (x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? (x as any) : {});
  return { version: 1, checkins: obj(v.checkins), rsvps: obj(v.rsvps), escalations: obj(v.escalations), stages: obj(v.stages) };
}

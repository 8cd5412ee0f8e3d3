/**
 * The "add to calendar" files sealed into a portal: one .ics per scheduled check-in, with the
 * same UID and the SEQUENCE the emailed invite has (or will have) for the same revision, so
 * adding it by hand and receiving the invite never make two events.
 */
import { DateTime } from 'luxon';
import { checkinIcs } from '../core/calendar/checkin-ics.ts';
import type { CheckinPlan } from '../core/calendar/checkin-schedule.ts';
import { checkinSequence } from '../core/calendar/invite-plan.ts';
import type { PlanRecords } from '../core/plan/plan-records.ts';
import type { PortalPayload } from '../core/render/portal-payload.ts';

export function portalCalendar(checkins: CheckinPlan[], records: PlanRecords, now: Date): PortalPayload['calendar'] {
  // DTSTAMP by day, so the full build and the fast path seal the same bytes on the same day.
  const dtstamp = DateTime.fromJSDate(now, { zone: 'UTC' }).startOf('day').toJSDate();
  const out: PortalPayload['calendar'] = {};
  for (const c of checkins) {
    if (c.status !== 'scheduled') continue;
    const ics = checkinIcs(c, { method: 'PUBLISH', sequence: checkinSequence(c, records.checkins[c.stageId]), dtstamp });
    out[c.stageId] = { filename: `${c.stageId}-check-in.ics`, ics };
  }
  return out;
}

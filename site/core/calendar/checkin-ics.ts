/**
 * One check-in as an iCalendar object (RFC 5545) carrying an iTIP method (RFC 5546): REQUEST
 * for a new or changed check-in, CANCEL for a removed one (or to an uninvited attendee),
 * PUBLISH for the portal's "add to calendar" download. Pure and browser-safe: ical-generator
 * has no Node-only imports (it needs `TextEncoder` and `crypto.randomUUID`, which browsers
 * give in secure contexts — the portal already needs one for WebCrypto).
 *
 * Times are written in UTC (`DTSTART:20260310T150000Z`), never as wall-clock with a TZID:
 * a check-in is a single, non-recurring meeting, so one absolute instant is all an invite must
 * carry, and UTC is the form every client reads the same way — Google Calendar sends its own
 * one-off invitations that way, Outlook converts UTC to the reader's zone, and no VTIMEZONE
 * has to be generated (a TZID without one is shifted by Outlook; a VTIMEZONE with stale or
 * unusual rules is the other classic Outlook off-by-an-hour). The plan's zone is where the
 * instant is computed (checkin-schedule.ts, Luxon) and where the email text states the time.
 * All-day check-ins are `VALUE=DATE` with an exclusive DTEND (the next day).
 *
 * ical-generator escapes TEXT (`\` `;` `,` newlines) and folds lines at 75 octets without
 * splitting a UTF-8 sequence; this module adds the final CRLF it leaves off and keeps
 * parameter values (CN) free of the characters a quoted parameter cannot hold.
 */
import ical, {
  ICalAttendeeRole,
  ICalAttendeeStatus,
  ICalCalendarMethod,
  ICalEventStatus,
  ICalEventTransparency,
  type ICalAttendeeData,
} from 'ical-generator';
import type { CheckinEvent } from './checkin-schedule.ts';

export type ItipMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH';

/** PRODID of every object Twofold writes (`-//` is added by ical-generator). */
export const ICS_PRODID = '//Twofold//Milestone check-ins//EN';

export interface CheckinIcsOptions {
  method: ItipMethod;
  /** iCalendar SEQUENCE: 0 for the first invite, raised on every change (kept in plan records). */
  sequence: number;
  /** When this object was made; written as DTSTAMP in UTC. */
  dtstamp: Date;
  /**
   * CANCEL only. `event` (default) cancels the whole check-in: STATUS:CANCELLED, every
   * attendee listed. `attendee` uninvites the listed attendees from an event that goes on:
   * no STATUS (RFC 5546 §3.2.5: "If uninviting specific Attendees, then MUST NOT be included").
   */
  cancel?: 'event' | 'attendee';
}

const METHODS: Record<ItipMethod, ICalCalendarMethod> = {
  REQUEST: ICalCalendarMethod.REQUEST,
  CANCEL: ICalCalendarMethod.CANCEL,
  PUBLISH: ICalCalendarMethod.PUBLISH,
};

/** The VCALENDAR text (CRLF line ends, folded) for one check-in. */
export function checkinIcs(event: CheckinEvent, options: CheckinIcsOptions): string {
  const { method, sequence, dtstamp } = options;
  if (!Number.isInteger(sequence) || sequence < 0) throw new Error(`SEQUENCE must be a non-negative integer, got ${sequence}`);
  const calendar = ical({ prodId: ICS_PRODID, method: METHODS[method] });
  const when = eventTimes(event);
  const cancelEvent = method === 'CANCEL' && (options.cancel ?? 'event') === 'event';
  calendar.createEvent({
    id: event.uid,
    sequence,
    stamp: dtstamp,
    ...when,
    summary: event.title,
    ...(event.description ? { description: event.description } : {}),
    ...(event.location ? { location: event.location } : {}),
    organizer: { name: paramText(event.organizer.name) || event.organizer.email, email: event.organizer.email },
    // PUBLISH is a copy for one's own calendar: RFC 5546 §3.2.1 allows no attendees in it.
    attendees: method === 'PUBLISH' ? [] : event.attendees.map((a) => attendee(a, method)),
    // A cancelled check-in says so; an uninvite must not (see `cancel`).
    ...(cancelEvent ? { status: ICalEventStatus.CANCELLED } : method === 'CANCEL' ? {} : { status: ICalEventStatus.CONFIRMED }),
    // A milestone review day should not block the whole day as busy.
    transparency: event.allDay ? ICalEventTransparency.TRANSPARENT : ICalEventTransparency.OPAQUE,
  });
  return `${calendar.toString()}\r\n`;
}

function eventTimes(event: CheckinEvent): { start: Date; end: Date; allDay: boolean } {
  if (event.allDay) {
    if (!event.date || !event.endDate) throw new Error(`all-day check-in ${event.uid} has no date`);
    // ical-generator writes a Date's UTC calendar date for VALUE=DATE when no zone is set,
    // so UTC midnight of the plan-zone date gives that date whatever the server's TZ.
    return { start: utcMidnight(event.date), end: utcMidnight(event.endDate), allDay: true };
  }
  if (!event.start || !event.end) throw new Error(`check-in ${event.uid} has no time yet`);
  return { start: event.start, end: event.end, allDay: false };
}

function attendee(person: { name?: string; email: string }, method: ItipMethod): ICalAttendeeData {
  const name = paramText(person.name);
  return {
    email: person.email,
    ...(name ? { name } : {}),
    role: ICalAttendeeRole.REQ,
    // A REQUEST asks every attendee to answer (again, after a change); a CANCEL asks nothing.
    ...(method === 'REQUEST' ? { status: ICalAttendeeStatus.NEEDSACTION, rsvp: true } : {}),
  };
}

/**
 * A value safe inside a quoted parameter (`CN="…"`): RFC 5545 forbids DQUOTE and control
 * characters there and has no escape for them, and ical-generator would backslash-escape a
 * quote, which clients misread. Quotes become apostrophes, controls and backslashes spaces.
 */
export function paramText(value: string | undefined): string {
  if (!value) return '';
  return value.replace(/"/g, "'").replace(/[\u0000-\u001f\u007f\\]+/g, ' ').replace(/\s+/g, ' ').trim();
}

function utcMidnight(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

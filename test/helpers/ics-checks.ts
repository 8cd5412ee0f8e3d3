/**
 * Checks on iCalendar text as bytes (RFC 5545 §3.1) and a reader for it with ical.js, shared by
 * the calendar tests: what a parser forgives (bare LF, long lines, a UTF-8 sequence split by a
 * fold) some calendar clients do not.
 */
import ICAL from 'ical.js';
import { expect } from 'vitest';

/** RFC 5545 §3.1: "Lines of text SHOULD NOT be longer than 75 octets, excluding the line break." */
export const MAX_LINE_OCTETS = 75;

/** Assert the raw form; returns the unfolded content lines. */
export function expectRawIcs(text: string | Buffer): string[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const latin = bytes.toString('latin1');
  expect(latin.endsWith('\r\n'), 'the last line ends with CRLF too').toBe(true);
  expect(/\r(?!\n)|(?<!\r)\n/.test(latin), 'every line break is CRLF').toBe(false);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let i = 0; i < bytes.length - 1; i++) {
    if (bytes[i] !== 0x0d || bytes[i + 1] !== 0x0a) continue;
    const line = bytes.subarray(start, i);
    expect(line.length, `line "${line.toString('utf8')}" is ${line.length} octets`).toBeLessThanOrEqual(MAX_LINE_OCTETS);
    // A fold inside a multi-byte character leaves invalid UTF-8 on both sides of the break.
    expect(() => decoder.decode(line), `line "${line.toString('latin1')}" is valid UTF-8 on its own`).not.toThrow();
    start = i + 2;
  }
  return unfold(bytes.toString('utf8')).split('\r\n').filter(Boolean);
}

export function unfold(text: string): string {
  return text.replace(/\r\n[ \t]/g, '');
}

/** The unfolded content lines whose property name is `name` (e.g. `ATTENDEE`). */
export function propertyLines(text: string, name: string): string[] {
  return unfold(text)
    .split('\r\n')
    .filter((l) => new RegExp(`^${name}[;:]`, 'i').test(l));
}

export interface ReadIcs {
  calendar: ICAL.Component;
  event: ICAL.Component;
  method: string;
  uid: string;
  sequence: number;
  summary: string;
  status: string | null;
  dtstamp: ICAL.Time;
  dtstart: ICAL.Time;
  dtend: ICAL.Time | null;
  organizer: { email: string; params: Record<string, unknown> };
  attendees: { email: string; params: Record<string, unknown> }[];
}

export function readIcs(text: string): ReadIcs {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const event = calendar.getFirstSubcomponent('vevent');
  if (!event) throw new Error('no VEVENT');
  const address = (prop: ICAL.Property) => ({
    email: String(prop.getFirstValue()).replace(/^mailto:/i, '').toLowerCase(),
    params: { ...(prop.toJSON()[1] as Record<string, unknown>) },
  });
  const organizer = event.getFirstProperty('organizer');
  if (!organizer) throw new Error('no ORGANIZER');
  return {
    calendar,
    event,
    method: String(calendar.getFirstPropertyValue('method')),
    uid: String(event.getFirstPropertyValue('uid')),
    sequence: Number(event.getFirstPropertyValue('sequence')),
    summary: String(event.getFirstPropertyValue('summary')),
    status: (event.getFirstPropertyValue('status') as string | null) ?? null,
    dtstamp: event.getFirstPropertyValue('dtstamp') as ICAL.Time,
    dtstart: event.getFirstPropertyValue('dtstart') as ICAL.Time,
    dtend: (event.getFirstPropertyValue('dtend') as ICAL.Time | null) ?? null,
    organizer: address(organizer),
    attendees: event.getAllProperties('attendee').map(address),
  };
}

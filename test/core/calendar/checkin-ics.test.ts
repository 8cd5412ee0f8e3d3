import { describe, expect, it } from 'vitest';
import { checkinIcs, paramText, type CheckinIcsOptions } from '../../../site/core/calendar/checkin-ics.ts';
import type { CheckinEvent } from '../../../site/core/calendar/checkin-schedule.ts';
import { expectRawIcs, propertyLines, readIcs } from '../../helpers/ics-checks.ts';

const organizer = { name: 'Maya Lee', email: 'maya@northwind.example' };
const raj = { name: 'Raj Patel', email: 'raj@acme.example' };
const ines = { name: 'Inès Müller', email: 'ines@acme.example' };
const dtstamp = new Date('2026-03-01T12:34:56.789Z');

const timed: CheckinEvent = {
  uid: 'checkin-kickoff.acme@northwind.example',
  title: 'Kickoff check-in — Acme Logistics × Northwind',
  description: 'Milestone check-in.\nGoal: agree scope',
  location: 'https://meet.example/acme',
  allDay: false,
  start: new Date('2026-03-10T15:00:00Z'),
  end: new Date('2026-03-10T15:30:00Z'),
  organizer,
  attendees: [raj, ines],
};
const allDay: CheckinEvent = { ...timed, uid: 'checkin-golive.acme@northwind.example', allDay: true, date: '2026-04-24', endDate: '2026-04-25', start: undefined as never, end: undefined as never };
delete (allDay as Partial<CheckinEvent>).start;
delete (allDay as Partial<CheckinEvent>).end;
const hostileTitle = 'Review, scope; budget \\ risks — Zürich naïve 東京 🚀 "final"\nsecond line';

interface Case {
  name: string;
  event: CheckinEvent;
  options: CheckinIcsOptions;
  status: string | null;
  attendees: string[];
  dtstart: string;
  dtend: string;
}

const cases: Case[] = [
  { name: 'a timed REQUEST', event: timed, options: { method: 'REQUEST', sequence: 0, dtstamp }, status: 'CONFIRMED', attendees: [raj.email, ines.email], dtstart: 'DTSTART:20260310T150000Z', dtend: 'DTEND:20260310T153000Z' },
  { name: 'an updated REQUEST', event: timed, options: { method: 'REQUEST', sequence: 7, dtstamp }, status: 'CONFIRMED', attendees: [raj.email, ines.email], dtstart: 'DTSTART:20260310T150000Z', dtend: 'DTEND:20260310T153000Z' },
  { name: 'an all-day REQUEST', event: allDay, options: { method: 'REQUEST', sequence: 1, dtstamp }, status: 'CONFIRMED', attendees: [raj.email, ines.email], dtstart: 'DTSTART;VALUE=DATE:20260424', dtend: 'DTEND;VALUE=DATE:20260425' },
  { name: 'a CANCEL of the whole check-in', event: timed, options: { method: 'CANCEL', sequence: 2, dtstamp }, status: 'CANCELLED', attendees: [raj.email, ines.email], dtstart: 'DTSTART:20260310T150000Z', dtend: 'DTEND:20260310T153000Z' },
  { name: 'a CANCEL to one uninvited attendee', event: { ...timed, attendees: [ines] }, options: { method: 'CANCEL', sequence: 2, dtstamp, cancel: 'attendee' }, status: null, attendees: [ines.email], dtstart: 'DTSTART:20260310T150000Z', dtend: 'DTEND:20260310T153000Z' },
  { name: 'a PUBLISH for "add to calendar"', event: timed, options: { method: 'PUBLISH', sequence: 3, dtstamp }, status: 'CONFIRMED', attendees: [], dtstart: 'DTSTART:20260310T150000Z', dtend: 'DTEND:20260310T153000Z' },
  { name: 'a hostile title and names', event: { ...timed, title: hostileTitle, location: 'Room 4; floor 2, "north"', attendees: [{ name: 'O"Brien, Pat\\x\r\nEvil: yes', email: 'pat@acme.example' }] }, options: { method: 'REQUEST', sequence: 0, dtstamp }, status: 'CONFIRMED', attendees: ['pat@acme.example'], dtstart: 'DTSTART:20260310T150000Z', dtend: 'DTEND:20260310T153000Z' },
];

describe('checkinIcs', () => {
  it.each(cases)('writes $name as valid iTIP', ({ event, options, status, attendees, dtstart, dtend }) => {
    const text = checkinIcs(event, options);
    const lines = expectRawIcs(text);
    expect(lines[0]).toBe('BEGIN:VCALENDAR');
    expect(lines.at(-1)).toBe('END:VCALENDAR');
    expect(lines.filter((l) => l.startsWith('METHOD:'))).toEqual([`METHOD:${options.method}`]);
    expect(lines).toContain(dtstart);
    expect(lines).toContain(dtend);
    expect(lines).toContain('DTSTAMP:20260301T123456Z');
    // Never a TZID or VTIMEZONE: times are UTC or dates.
    expect(text).not.toMatch(/TZID|VTIMEZONE/);

    const ics = readIcs(text);
    expect(ics.method).toBe(options.method);
    expect(ics.uid).toBe(event.uid);
    expect(ics.sequence).toBe(options.sequence);
    expect(ics.summary).toBe(event.title);
    expect(ics.status).toBe(status);
    expect(ics.dtstamp.zone?.tzid).toBe('UTC');
    expect(ics.organizer.email).toBe(organizer.email);
    expect(ics.organizer.params).not.toHaveProperty('sent-by');
    expect(ics.attendees.map((a) => a.email)).toEqual(attendees);
    expect(ics.attendees.map((a) => a.email)).not.toContain(organizer.email);
    for (const a of ics.attendees) {
      expect(a.params.role).toBe('REQ-PARTICIPANT');
      if (options.method === 'REQUEST') expect(a.params).toMatchObject({ rsvp: 'TRUE', partstat: 'NEEDS-ACTION' });
      else expect(a.params).not.toHaveProperty('rsvp');
    }
    if (event.allDay) {
      expect(ics.dtstart.isDate).toBe(true);
      expect(ics.dtstart.toString()).toBe('2026-04-24');
      expect(ics.dtend?.toString()).toBe('2026-04-25');
    } else {
      expect(ics.dtstart.toJSDate().toISOString()).toBe(event.start!.toISOString());
      expect(ics.dtend?.toJSDate().toISOString()).toBe(event.end!.toISOString());
    }
    if (event.location) expect(ics.event.getFirstPropertyValue('location')).toBe(event.location);
  });

  it('escapes commas, semicolons, backslashes and newlines in TEXT and keeps non-ASCII letters intact', () => {
    const text = checkinIcs({ ...timed, title: hostileTitle }, { method: 'REQUEST', sequence: 0, dtstamp });
    expect(propertyLines(text, 'SUMMARY')).toEqual(['SUMMARY:Review\\, scope\\; budget \\\\ risks — Zürich naïve 東京 🚀 "final"\\nsecond line']);
    expect(readIcs(text).summary).toBe(hostileTitle);
    expect(propertyLines(text, 'DESCRIPTION')).toEqual(['DESCRIPTION:Milestone check-in.\\nGoal: agree scope']);
  });

  it('folds a long UTF-8 line at 75 octets without splitting a character', () => {
    const title = `${'Überprüfung der Meilensteine — '.repeat(6)}東京🚀`;
    const text = checkinIcs({ ...timed, title }, { method: 'REQUEST', sequence: 0, dtstamp });
    expectRawIcs(text);
    expect(text).toMatch(/\r\n [^\r\n]/); // it did fold
    expect(readIcs(text).summary).toBe(title);
  });

  it('keeps attendee names out of quoted-parameter trouble', () => {
    const text = checkinIcs({ ...timed, attendees: [{ name: 'O"Brien, Pat\\x\r\nEvil: yes', email: 'pat@acme.example' }] }, { method: 'REQUEST', sequence: 0, dtstamp });
    const [line] = propertyLines(text, 'ATTENDEE');
    expect(line).toContain(`CN="O'Brien, Pat x Evil: yes"`);
    expect(readIcs(text).attendees[0]!.params.cn).toBe("O'Brien, Pat x Evil: yes");
  });

  it.each([
    { name: 'plain', input: 'Raj Patel', output: 'Raj Patel' },
    { name: 'quotes', input: 'Raj "R" Patel', output: "Raj 'R' Patel" },
    { name: 'controls and backslashes', input: 'a\\b\tc\u0000d\ne', output: 'a b c d e' },
    { name: 'empty', input: undefined, output: '' },
  ])('paramText: $name', ({ input, output }) => {
    expect(paramText(input)).toBe(output);
  });

  it('writes the same bytes for the same input (no clock, no randomness)', () => {
    const options: CheckinIcsOptions = { method: 'REQUEST', sequence: 4, dtstamp };
    expect(checkinIcs(timed, options)).toBe(checkinIcs(timed, options));
  });

  it.each([
    { name: 'a negative SEQUENCE', event: timed, options: { method: 'REQUEST' as const, sequence: -1, dtstamp } },
    { name: 'a check-in with no time yet', event: { ...timed, start: undefined as never, end: undefined as never }, options: { method: 'REQUEST' as const, sequence: 0, dtstamp } },
  ])('refuses $name', ({ event, options }) => {
    expect(() => checkinIcs(event, options)).toThrow();
  });
});

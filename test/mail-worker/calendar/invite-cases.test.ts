/**
 * The invite cases of the calendar issue, end to end from a plan file to the bytes of each
 * email: every invite is parsed with mailparser (and its MIME tree read from the raw bytes) and
 * its calendar part with ical.js, and the raw iCalendar text is checked too.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { simpleParser, type ParsedMail } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { planInvites, recordInviteSent, type InviteAction, type InvitePlan } from '../../../site/core/calendar/invite-plan.ts';
import type { Plan } from '../../../site/core/plan/plan-types.ts';
import { emptyRecords, type PlanRecords } from '../../../site/core/plan/plan-records.ts';
import { GENERATED_HEADER, INVITE_FILENAME, inviteMessage } from '../../../mail-worker/calendar/invite-mail.ts';
import { composeEml, type OutgoingMessage } from '../../../mail-worker/mailer/compose-eml.ts';
import { calendarPlan, tasksDone } from '../../helpers/calendar-plan.ts';
import { expectRawIcs, propertyLines, readIcs, type ReadIcs } from '../../helpers/ics-checks.ts';
import { mimeTree, type MimePart } from '../../helpers/mime-tree.ts';
import { DST_CASE } from './dst-case.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./tz-child.ts', import.meta.url));
const CHILD_TIMEOUT_MS = 30_000;
const now = DST_CASE.now;
const ZONE = 'America/Chicago';
const ORGANIZER = 'maya@northwind.example';
const KICKOFF_UID = 'checkin-kickoff.acme@northwind.example';
const KICKOFF_TITLE = 'Kickoff check-in — Acme Logistics × Northwind';
const GOLIVE_TITLE = 'Go-live review: Acme, Northwind; Zürich — naïve ✓ 東京';
const KICKOFF_PEOPLE = ['raj@acme.example', 'ines@acme.example', 'sam@northwind.example'];

interface Email {
  action: InviteAction;
  message: OutgoingMessage;
  raw: Buffer;
  parsed: ParsedMail;
  tree: MimePart;
  ics: string;
  read: ReadIcs;
  at: Date;
}

async function emailsOf(plan: Plan, records: PlanRecords, at = now): Promise<{ invites: InvitePlan; emails: Email[] }> {
  const invites = planInvites(plan, 'acme', records, at);
  const emails = await Promise.all(
    invites.actions.map(async (action) => {
      const message = inviteMessage(action, { slug: 'acme', timezone: ZONE, now: at, messageIdDomain: 'twofold.test' });
      const raw = await composeEml(message);
      const parsed = await simpleParser(raw);
      const calendarPart = parsed.attachments.find((a) => a.contentType === 'text/calendar');
      if (!calendarPart) throw new Error('no text/calendar part');
      const ics = calendarPart.content.toString('utf8');
      return { action, message, raw, parsed, tree: mimeTree(raw), ics, read: readIcs(ics), at };
    }),
  );
  return { invites, emails };
}

/** Everything every invite email must be, whatever the case. */
function expectWellFormed(email: Email): void {
  const { action, parsed, tree, ics, read } = email;
  // MIME: the calendar part sits inside the first body part, beside text and html.
  expect(tree.contentType).toBe('multipart/mixed');
  const [body, ...attachments] = tree.children;
  expect(body?.contentType).toBe('multipart/alternative');
  expect(body?.children.map((c) => c.contentType)).toEqual(['text/plain', 'text/html', 'text/calendar']);
  const calendarPart = body!.children[2]!;
  expect(calendarPart.params.method).toBe(action.method);
  expect(read.method).toBe(action.method);
  // One invite.ics attachment, saying the same as the calendar part.
  expect(attachments.map((a) => [a.contentType, a.params.name])).toEqual([['application/ics', INVITE_FILENAME]]);
  const files = parsed.attachments.filter((a) => a.filename === INVITE_FILENAME);
  expect(files).toHaveLength(1);
  expect(files[0]!.content.toString('utf8')).toBe(ics);
  const calendarHeader = parsed.attachments.find((a) => a.contentType === 'text/calendar')!.headers.get('content-type') as { params: Record<string, string> };
  expect(calendarHeader.params.method).toBe(action.method);

  expectRawIcs(ics);
  expect(read.uid).toBe(action.event.uid);
  expect(read.sequence).toBe(action.sequence);
  expect(propertyLines(ics, 'DTSTAMP')).toEqual([`DTSTAMP:${email.at.toISOString().replace(/[-:]|\.\d+/g, '')}`]);
  // ORGANIZER is the From mailbox, without SENT-BY, and never also an attendee.
  expect(parsed.from?.value).toEqual([{ address: ORGANIZER, name: 'Maya Lee' }]);
  expect(read.organizer.email).toBe(ORGANIZER);
  expect(propertyLines(ics, 'ORGANIZER').join('')).not.toMatch(/SENT-BY/i);
  expect(parsed.headers.has('sender')).toBe(false);
  expect(read.attendees.map((a) => a.email)).not.toContain(ORGANIZER);
  expect(parsed.to && 'value' in parsed.to ? parsed.to.value.map((v) => v.address) : []).toEqual([action.recipient.email]);
  if (action.method === 'REQUEST') {
    expect(read.attendees.map((a) => a.email)).toContain(action.recipient.email);
    for (const a of read.attendees) expect(a.params).toMatchObject({ rsvp: 'TRUE', partstat: 'NEEDS-ACTION', role: 'REQ-PARTICIPANT' });
    expect(read.status).toBe('CONFIRMED');
  }
  expect(parsed.headers.get(GENERATED_HEADER.toLowerCase())).toBe('yes');
  expect(parsed.messageId).toBe(email.message.messageId);
  expect(parsed.text).toContain(action.event.title.replace(/\n/g, ' '));
}

const first = planInvites(calendarPlan(), 'acme', emptyRecords(), now).after;
const byStage = (emails: Email[], stageId: string) => emails.filter((e) => e.action.stageId === stageId);

describe('invite cases', () => {
  it('the first invite: REQUEST with SEQUENCE 0 to every attendee of every scheduled check-in', async () => {
    const { emails, invites } = await emailsOf(calendarPlan(), emptyRecords());
    emails.forEach(expectWellFormed);
    expect(invites.actions.map((a) => [a.stageId, a.method, a.sequence, a.recipient.email])).toEqual([
      ...KICKOFF_PEOPLE.map((e) => ['kickoff', 'REQUEST', 0, e]),
      ...KICKOFF_PEOPLE.map((e) => ['golive', 'REQUEST', 0, e]),
    ]);
    const kickoff = byStage(emails, 'kickoff');
    for (const e of kickoff) {
      expect(e.read.uid).toBe(KICKOFF_UID);
      expect(e.read.dtstart.toJSDate().toISOString()).toBe(DST_CASE.before);
      expect(e.read.attendees.map((a) => a.email)).toEqual(KICKOFF_PEOPLE);
      expect(e.parsed.subject).toBe(`Invitation: ${KICKOFF_TITLE} @ Fri, Mar 6, 2026, 10:00 AM CST, 30 minutes (America/Chicago)`);
      expect(e.parsed.text).toContain('When: Fri, Mar 6, 2026, 10:00 AM CST, 30 minutes (America/Chicago)');
      expect(e.read.event.getFirstPropertyValue('location')).toBe('https://meet.example/acme-kickoff');
    }
    // Three different messages, each with its own stable Message-ID.
    expect(new Set(kickoff.map((e) => e.parsed.messageId)).size).toBe(3);
    expect(invites.after.checkins.kickoff).toMatchObject({ uid: KICKOFF_UID, sequence: 0, attendees: [...KICKOFF_PEOPLE].sort(), start: DST_CASE.before });
  });

  it('a reschedule across a daylight-saving change: same UID, higher SEQUENCE, the new instant', async () => {
    const { emails, invites } = await emailsOf(calendarPlan(DST_CASE.change), first);
    emails.forEach(expectWellFormed);
    expect(invites.actions.map((a) => [a.stageId, a.method, a.sequence, a.reason])).toEqual(KICKOFF_PEOPLE.map(() => ['kickoff', 'REQUEST', 1, 'changed']));
    for (const e of emails) {
      expect(e.read.uid).toBe(KICKOFF_UID);
      expect(e.read.sequence).toBeGreaterThan(first.checkins.kickoff!.sequence);
      expect(e.read.dtstart.toJSDate().toISOString()).toBe(DST_CASE.after); // 10:00 CDT, not 10:00 CST
      expect(e.read.dtend?.toJSDate().toISOString()).toBe('2026-03-10T15:30:00.000Z');
      expect(e.parsed.subject).toMatch(/^Updated invitation: .* @ Tue, Mar 10, 2026, 10:00 AM CDT/);
    }
  });

  it.each([
    { tz: 'America/Los_Angeles', offset: 420 },
    { tz: 'Pacific/Auckland', offset: -780 },
  ])('the daylight-saving reschedule generated under TZ=$tz is byte-identical and reads as the right UTC instant', async ({ tz, offset }) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env: { ...process.env, TZ: tz }, timeout: CHILD_TIMEOUT_MS });
    const child = JSON.parse(stdout) as { tz: string; serverOffsetMinutes: number; ics: string; eml: string; messageId: string };
    expect(child.tz).toBe(tz);
    expect(child.serverOffsetMinutes).toBe(offset); // the child really ran in that zone
    const here = (await emailsOf(calendarPlan(DST_CASE.change), first)).emails.find((e) => e.action.stageId === 'kickoff' && e.action.recipient.email === DST_CASE.recipient)!;
    expect(child.ics).toBe(here.ics);
    expect(child.messageId).toBe(here.message.messageId);
    const read = readIcs(child.ics);
    expect(read.uid).toBe(KICKOFF_UID);
    expect(read.sequence).toBe(1);
    expect(read.dtstart.toJSDate().toISOString()).toBe(DST_CASE.after);
    const parsed = await simpleParser(Buffer.from(child.eml, 'base64'));
    expect(parsed.text).toContain('Tue, Mar 10, 2026, 10:00 AM CDT');
    expect(parsed.date?.toISOString()).toBe(now.toISOString());
  });

  it('a rename only: SEQUENCE up, same time, and RSVPs kept (the time did not move)', async () => {
    const records: PlanRecords = { ...first, rsvps: { kickoff: { 'raj@acme.example': { partstat: 'ACCEPTED', at: '2026-03-01T13:00:00.000Z' } } } };
    const { emails, invites } = await emailsOf(calendarPlan({ edits: [{ op: 'set', path: ['stages', 0, 'checkin', 'title'], value: 'Kickoff review, scope; owners' }] }), records);
    emails.forEach(expectWellFormed);
    expect(invites.actions.map((a) => [a.method, a.sequence, a.moved])).toEqual(KICKOFF_PEOPLE.map(() => ['REQUEST', 1, false]));
    for (const e of emails) {
      expect(e.read.summary).toBe('Kickoff review, scope; owners');
      expect(e.read.dtstart.toJSDate().toISOString()).toBe(DST_CASE.before);
    }
    expect(invites.after.rsvps.kickoff).toEqual(records.rsvps.kickoff);
  });

  it('a move clears the RSVPs, which answered the old time', () => {
    const records: PlanRecords = { ...first, rsvps: { kickoff: { 'raj@acme.example': { partstat: 'ACCEPTED', at: '2026-03-01T13:00:00.000Z' } } } };
    const { after } = planInvites(calendarPlan(DST_CASE.change), 'acme', records, now);
    expect(after.rsvps.kickoff).toBeUndefined();
    expect(after.checkins.kickoff?.timeSequence).toBe(1);
  });

  it('a retry of the same revision: the same SEQUENCE and Message-IDs, only to those not yet sent', async () => {
    const plan = calendarPlan(DST_CASE.change);
    const attempt = await emailsOf(plan, first);
    // The run died after spooling the first message and storing its record.
    const partial = recordInviteSent(first, attempt.invites.actions[0]!);
    const retry = await emailsOf(plan, partial);
    retry.emails.forEach(expectWellFormed);
    expect(retry.invites.actions.map((a) => [a.method, a.sequence, a.reason, a.recipient.email])).toEqual(KICKOFF_PEOPLE.slice(1).map((e) => ['REQUEST', 1, 'retry', e]));
    expect(retry.emails.map((e) => e.parsed.messageId)).toEqual(attempt.emails.slice(1).map((e) => e.parsed.messageId));
    expect(retry.invites.after).toEqual(attempt.invites.after);
    // And once everyone has it, nothing is left to send.
    expect(planInvites(plan, 'acme', retry.invites.after, now).actions).toEqual([]);
  });

  it('one attendee removed: REQUEST to the rest, CANCEL (same UID, no STATUS) to the removed one', async () => {
    const plan = calendarPlan({ replace: [['attendees: [raj, ines, sam], location', 'attendees: [raj, sam], location']] });
    const { emails, invites } = await emailsOf(plan, first);
    emails.forEach(expectWellFormed);
    expect(invites.actions.map((a) => [a.method, a.cancel, a.sequence, a.recipient.email])).toEqual([
      ['REQUEST', undefined, 1, 'raj@acme.example'],
      ['REQUEST', undefined, 1, 'sam@northwind.example'],
      ['CANCEL', 'attendee', 1, 'ines@acme.example'],
    ]);
    const [toRaj, , toInes] = emails;
    expect(toRaj!.read.attendees.map((a) => a.email)).toEqual(['raj@acme.example', 'sam@northwind.example']);
    expect(toInes!.read.uid).toBe(KICKOFF_UID);
    expect(toInes!.read.status).toBeNull();
    expect(toInes!.read.attendees.map((a) => a.email)).toEqual(['ines@acme.example']);
    expect(toInes!.parsed.subject).toBe(`Cancelled: ${KICKOFF_TITLE}`);
    expect(toInes!.parsed.text).toContain('no longer invited');
    expect(invites.after.checkins.kickoff?.attendees).toEqual(['raj@acme.example', 'sam@northwind.example']);
  });

  it('a check-in removed: CANCEL with STATUS:CANCELLED to everyone who had it, then nothing', async () => {
    const plan = calendarPlan({ edits: [{ op: 'delete', path: ['stages', 0, 'checkin'] }] });
    const { emails, invites } = await emailsOf(plan, first);
    emails.forEach(expectWellFormed);
    expect(invites.actions.map((a) => [a.method, a.cancel, a.sequence, a.reason, a.recipient.email])).toEqual([...KICKOFF_PEOPLE].sort().map((e) => ['CANCEL', 'event', 1, 'removed', e]));
    for (const e of emails) {
      expect(e.read.status).toBe('CANCELLED');
      expect(e.read.uid).toBe(KICKOFF_UID);
      expect(e.read.summary).toBe(KICKOFF_TITLE); // named as last sent
      expect(e.read.dtstart.toJSDate().toISOString()).toBe(DST_CASE.before);
      expect(e.read.attendees.map((a) => a.email).sort()).toEqual([...KICKOFF_PEOPLE].sort());
    }
    expect(invites.after.checkins.kickoff).toMatchObject({ cancelled: true, attendees: [], sequence: 1 });
    expect(planInvites(plan, 'acme', invites.after, now).actions).toEqual([]);
  });

  it('a stage completed early: its on-complete check-in goes to the next working slot', async () => {
    const plan = calendarPlan({ edits: tasksDone({ T3: '2026-03-11', T4: '2026-03-12' }) }); // due 03-27, done Thu 03-12
    const at = new Date('2026-03-12T21:00:00Z');
    const { emails, invites } = await emailsOf(plan, first, at);
    expect(invites.actions.map((a) => [a.stageId, a.method, a.sequence, a.recipient.email])).toEqual([
      ['integrate', 'REQUEST', 0, 'raj@acme.example'],
      ['integrate', 'REQUEST', 0, 'sam@northwind.example'],
    ]);
    for (const e of emails) {
      expect(e.read.uid).toBe('checkin-integrate.acme@northwind.example');
      expect(e.read.dtstart.toJSDate().toISOString()).toBe('2026-03-13T14:00:00.000Z'); // Fri 09:00 CDT
      expect(e.read.dtend?.toJSDate().toISOString()).toBe('2026-03-13T14:45:00.000Z');
      expect(propertyLines(e.ics, 'DTSTAMP')).toEqual(['DTSTAMP:20260312T210000Z']);
    }
  });

  it('an all-day check-in: VALUE=DATE with an exclusive end date', async () => {
    const { emails } = await emailsOf(calendarPlan(), emptyRecords());
    for (const e of byStage(emails, 'golive')) {
      expectWellFormed(e);
      expect(propertyLines(e.ics, 'DTSTART')).toEqual(['DTSTART;VALUE=DATE:20260424']);
      expect(propertyLines(e.ics, 'DTEND')).toEqual(['DTEND;VALUE=DATE:20260425']);
      expect(e.read.dtstart.isDate).toBe(true);
      expect(e.read.dtend?.toString()).toBe('2026-04-25');
      expect(e.parsed.text).toContain('When: Fri, Apr 24, 2026 (all day)');
    }
  });

  it('a title with commas, semicolons and non-ASCII letters is escaped, folded and read back intact', async () => {
    const { emails } = await emailsOf(calendarPlan(), emptyRecords());
    for (const e of byStage(emails, 'golive')) {
      expect(propertyLines(e.ics, 'SUMMARY')).toEqual(['SUMMARY:Go-live review: Acme\\, Northwind\\; Zürich — naïve ✓ 東京']);
      expect(e.read.summary).toBe(GOLIVE_TITLE);
      expect(e.parsed.subject).toBe(`Invitation: ${GOLIVE_TITLE} @ Fri, Apr 24, 2026 (all day)`);
      expect(e.raw.toString('latin1')).not.toMatch(/[^\x00-\x7f]/); // headers and bodies are MIME-encoded
    }
  });

  it('an unchanged plan sends nothing', () => {
    expect(planInvites(calendarPlan(), 'acme', first, now).actions).toEqual([]);
  });

  it('a reopened stage takes its on-complete check-in back: CANCEL with STATUS:CANCELLED', async () => {
    const done = calendarPlan({ edits: tasksDone({ T3: '2026-03-11', T4: '2026-03-12' }) });
    const at = new Date('2026-03-12T21:00:00Z');
    const scheduled = planInvites(done, 'acme', first, at).after;
    const reopened = calendarPlan({ edits: tasksDone({ T3: '2026-03-11' }) });
    const { emails, invites } = await emailsOf(reopened, scheduled, at);
    emails.forEach(expectWellFormed);
    expect(invites.actions.map((a) => [a.stageId, a.method, a.cancel, a.sequence, a.reason])).toEqual([
      ['integrate', 'CANCEL', 'event', 1, 'unscheduled'],
      ['integrate', 'CANCEL', 'event', 1, 'unscheduled'],
    ]);
    expect(emails.every((e) => e.read.status === 'CANCELLED')).toBe(true);
  });

  it('leaves check-ins that are over alone: no invite to a past meeting', () => {
    const after = new Date('2026-03-07T12:00:00Z'); // kickoff was on 03-06
    expect(planInvites(calendarPlan(), 'acme', emptyRecords(), after).actions.map((a) => a.stageId)).toEqual(['golive', 'golive', 'golive']);
    const removedLater = calendarPlan({ edits: [{ op: 'delete', path: ['stages', 0, 'checkin'] }] });
    expect(planInvites(removedLater, 'acme', first, after).actions).toEqual([]);
  });

  it('only the stages asked for', () => {
    const { actions } = planInvites(calendarPlan(), 'acme', emptyRecords(), now, { stageIds: ['golive'] });
    expect(new Set(actions.map((a) => a.stageId))).toEqual(new Set(['golive']));
  });
});

/**
 * Accept / Decline / Tentative answers as Google, Outlook and Apple send them (fixtures under
 * test/fixtures/calendar/replies/), and hostile or foreign calendar parts.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_REPLY_ICS_CHARS, parseItipReply, recordRsvp } from '../../../mail-worker/calendar/rsvp.ts';
import { planInvites } from '../../../site/core/calendar/invite-plan.ts';
import { isTwofoldError } from '../../../site/core/errors/problem.ts';
import { emptyRecords, type PlanRecords } from '../../../site/core/plan/plan-records.ts';
import { readActivity, readRecords, writeRecords } from '../../../site/lib/plan-records-fs.ts';
import { projectPaths, type ProjectPaths } from '../../../site/lib/project-paths.ts';
import { calendarPlan, calendarPlanText } from '../../helpers/calendar-plan.ts';

const REPLIES = fileURLToPath(new URL('../../fixtures/calendar/replies/', import.meta.url));
const now = new Date('2026-03-02T18:00:00Z');

let root: string;
let paths: ProjectPaths;
let planFile: string;

async function useRecords(records: PlanRecords): Promise<void> {
  await writeRecords(paths, 'acme', records);
}

/** The text/calendar part of a fixture email, as the processor hands it over. */
async function calendarPartOf(file: string): Promise<{ ics: string; sender: string; messageId: string }> {
  const parsed = await simpleParser(await readFile(path.join(REPLIES, file)));
  const part = parsed.attachments.find((a) => a.contentType === 'text/calendar');
  if (!part) throw new Error(`${file} has no text/calendar part`);
  return { ics: part.content.toString('utf8'), sender: parsed.from!.value[0]!.address!, messageId: parsed.messageId! };
}

const invited = () => planInvites(calendarPlan(), 'acme', emptyRecords(), new Date('2026-03-01T12:00:00Z')).after;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'twofold-rsvp-'));
  paths = projectPaths(root, {});
  await mkdir(paths.plansDir, { recursive: true });
  planFile = path.join(paths.plansDir, 'acme.md');
  await writeFile(planFile, calendarPlanText());
  await useRecords(invited());
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('recordRsvp', () => {
  it.each([
    { name: 'a Google Calendar accept', file: 'google-accept.eml', email: 'raj@acme.example', actor: 'raj', partstat: 'ACCEPTED', at: '2026-03-02T15:00:00.000Z' },
    { name: 'an Outlook decline', file: 'outlook-decline.eml', email: 'ines@acme.example', actor: 'ines', partstat: 'DECLINED', at: '2026-03-02T16:05:00.000Z' },
    { name: 'an Apple Calendar tentative', file: 'apple-tentative.eml', email: 'sam@northwind.example', actor: 'sam', partstat: 'TENTATIVE', at: '2026-03-02T17:00:00.000Z' },
  ])('records $name, and never as a task command', async ({ file, email, actor, partstat, at }) => {
    const planBefore = await readFile(planFile, 'utf8');
    const { ics, sender, messageId } = await calendarPartOf(file);
    const result = await recordRsvp(paths, ics, { now, sender, messageId });
    expect(result).toMatchObject({ outcome: 'recorded', slug: 'acme', stageId: 'kickoff' });
    expect((await readRecords(paths, 'acme')).rsvps.kickoff).toEqual({ [email]: { partstat, at } });
    expect(await readActivity(paths, 'acme')).toEqual([{ at: now.toISOString(), actor, verb: 'rsvp', stage: 'kickoff', value: partstat, via: 'calendar', message: messageId }]);
    expect(await readFile(planFile, 'utf8')).toBe(planBefore);
  });

  it('records the same answer once', async () => {
    const { ics, sender } = await calendarPartOf('google-accept.eml');
    expect((await recordRsvp(paths, ics, { now, sender })).outcome).toBe('recorded');
    expect((await recordRsvp(paths, ics, { now, sender })).outcome).toBe('unchanged');
    expect(await readActivity(paths, 'acme')).toHaveLength(1);
  });

  it('ignores an answer to a time that has since moved (older SEQUENCE)', async () => {
    const moved = planInvites(calendarPlan({ edits: [{ op: 'set', path: ['stages', 0, 'due'], value: '2026-03-10' }] }), 'acme', invited(), now).after;
    await useRecords(moved);
    const { ics, sender } = await calendarPartOf('google-accept.eml'); // answers SEQUENCE 0
    expect((await recordRsvp(paths, ics, { now, sender })).outcome).toBe('stale');
    expect((await readRecords(paths, 'acme')).rsvps.kickoff).toBeUndefined();
  });

  it('ignores an answer older than the one recorded', async () => {
    const records = invited();
    records.rsvps.kickoff = { 'raj@acme.example': { partstat: 'DECLINED', at: '2026-03-02T20:00:00.000Z' } };
    await useRecords(records);
    const { ics, sender } = await calendarPartOf('google-accept.eml'); // DTSTAMP 15:00
    expect((await recordRsvp(paths, ics, { now, sender })).outcome).toBe('stale');
    expect((await readRecords(paths, 'acme')).rsvps.kickoff?.['raj@acme.example']?.partstat).toBe('DECLINED');
  });

  const google = async () => (await calendarPartOf('google-accept.eml')).ics;
  it.each([
    { name: 'a UID Twofold did not send', ics: async () => (await google()).replace('checkin-kickoff.acme@northwind.example', '4hq0s1v2k3m4n5@google.com'), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_UNKNOWN' },
    { name: 'a check-in of a plan that does not exist', ics: async () => (await google()).replace('checkin-kickoff.acme@', 'checkin-kickoff.globex@'), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_UNKNOWN' },
    { name: 'a stage with no check-in sent', ics: async () => (await google()).replace('checkin-kickoff.', 'checkin-integrate.'), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_UNKNOWN' },
    { name: 'someone the invite was forwarded to', ics: async () => (await google()).replace(/mailto:raj@acme\.example/, 'mailto:boss@acme.example'), sender: 'boss@acme.example', code: 'CALENDAR_REPLY_NOT_INVITED' },
    { name: 'an answer sent by someone else', ics: google, sender: 'mallory@evil.example', code: 'CALENDAR_REPLY_NOT_INVITED' },
    { name: 'a REQUEST sent back', ics: async () => (await google()).replace('METHOD:REPLY', 'METHOD:REQUEST'), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
    { name: 'a COUNTER (a proposed new time)', ics: async () => (await google()).replace('METHOD:REPLY', 'METHOD:COUNTER'), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
    { name: 'a delegation', ics: async () => (await google()).replace('PARTSTAT=ACCEPTED', 'PARTSTAT=DELEGATED'), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
    { name: 'two attendees in one answer', ics: async () => (await google()).replace('SEQUENCE:0', 'ATTENDEE;PARTSTAT=ACCEPTED:mailto:ines@acme.example\r\nSEQUENCE:0'), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
    { name: 'no UID', ics: async () => (await google()).replace(/UID:[^\r\n]+\r\n/, ''), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
    { name: 'text that is not iCalendar', ics: async () => 'done\r\nthanks!', sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
    { name: 'a truncated calendar', ics: async () => (await google()).slice(0, 200), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
    { name: 'an oversized calendar part', ics: async () => (await google()).replace('STATUS:CONFIRMED', `X-PAD:${'x'.repeat(MAX_REPLY_ICS_CHARS)}\r\nSTATUS:CONFIRMED`), sender: 'raj@acme.example', code: 'CALENDAR_REPLY_INVALID' },
  ])('refuses $name with $code and stores nothing', async ({ ics, sender, code }) => {
    const before = await readFile(path.join(paths.recordsDir, 'acme.json'), 'utf8');
    const error = await recordRsvp(paths, await ics(), { now, sender }).catch((e: unknown) => e);
    expect(isTwofoldError(error) ? error.code : error).toBe(code);
    expect(await readFile(path.join(paths.recordsDir, 'acme.json'), 'utf8')).toBe(before);
    expect(await readActivity(paths, 'acme')).toEqual([]);
  });
});

describe('parseItipReply', () => {
  it('reads UID, attendee, PARTSTAT, SEQUENCE and DTSTAMP', async () => {
    expect(parseItipReply((await calendarPartOf('outlook-decline.eml')).ics)).toEqual({
      uid: 'checkin-kickoff.acme@northwind.example',
      attendee: 'ines@acme.example',
      partstat: 'DECLINED',
      sequence: 0,
      dtstamp: new Date('2026-03-02T16:05:00Z'),
    });
  });
});

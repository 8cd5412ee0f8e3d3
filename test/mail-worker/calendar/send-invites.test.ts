/**
 * sendInvites against a real SMTP server (test/helpers/smtp-capture.ts) and real files: what is
 * delivered, what is stored after each message, and how a run that dies mid-way resumes.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendInvites } from '../../../mail-worker/calendar/send-invites.ts';
import { createMailer, type Mailer } from '../../../mail-worker/mailer/mailer.ts';
import { readActivity, readRecords, recordsFile } from '../../../site/lib/plan-records-fs.ts';
import { projectPaths, type ProjectPaths } from '../../../site/lib/project-paths.ts';
import { calendarPlan, calendarPlanText } from '../../helpers/calendar-plan.ts';
import { readIcs } from '../../helpers/ics-checks.ts';
import { startSmtpCapture, type SmtpCapture } from '../../helpers/smtp-capture.ts';
import { DST_CASE } from './dst-case.ts';

const now = DST_CASE.now;
const ORGANIZER = 'maya@northwind.example';
const KICKOFF_PEOPLE = ['raj@acme.example', 'ines@acme.example', 'sam@northwind.example'];

let root: string;
let paths: ProjectPaths;
let smtp: SmtpCapture;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'twofold-invites-'));
  paths = projectPaths(root, {});
  await mkdir(paths.plansDir, { recursive: true });
  await writeFile(path.join(paths.plansDir, 'acme.md'), calendarPlanText());
  smtp = await startSmtpCapture();
});

afterEach(async () => {
  await smtp.stop();
  await rm(root, { recursive: true, force: true });
});

function smtpMailer(): Mailer {
  return createMailer({ outboxDir: paths.outboxDir, smtp: { host: smtp.host, port: smtp.port }, backoff: { initialMs: 50, maxMs: 200 } });
}

describe('sendInvites', () => {
  it('delivers each invite over SMTP from the organizer, stores the records and logs the activity', async () => {
    const mailer = smtpMailer();
    const { sent } = await sendInvites({ paths, slug: 'acme', plan: calendarPlan(), now, mailer, messageIdDomain: 'twofold.test', via: 'cli' });
    await mailer.close();
    expect(sent).toHaveLength(6);
    expect(sent.every((s) => s.delivered)).toBe(true);
    const messages = await smtp.waitForCount(6);
    for (const m of messages) {
      expect(m.envelope.from).toBe(ORGANIZER);
      expect(m.envelope.to).toHaveLength(1);
      const calendarPart = m.parsed.attachments.find((a) => a.contentType === 'text/calendar')!;
      const ics = readIcs(calendarPart.content.toString('utf8'));
      expect(ics.method).toBe('REQUEST');
      expect(ics.attendees.map((a) => a.email)).toContain(m.envelope.to[0]);
      expect(m.raw.toString('latin1')).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/);
    }
    expect(messages.map((m) => m.envelope.to[0]).sort()).toEqual([...KICKOFF_PEOPLE, ...KICKOFF_PEOPLE].sort());

    const records = await readRecords(paths, 'acme');
    expect(records.checkins.kickoff).toMatchObject({ uid: 'checkin-kickoff.acme@northwind.example', sequence: 0, sent: [...KICKOFF_PEOPLE].sort() });
    const activity = await readActivity(paths, 'acme');
    expect(activity.map((a) => [a.verb, a.stage, a.via])).toEqual([...Array(3).fill(['invite', 'kickoff', 'cli']), ...Array(3).fill(['invite', 'golive', 'cli'])]);
    expect(activity[0]!.value).toBe('REQUEST SEQUENCE 0 to raj@acme.example (new)');
    expect(await readdir(path.join(paths.outboxDir, 'sent'))).toHaveLength(6);

    // The same plan again: nothing to send, nothing appended.
    const again = smtpMailer();
    expect((await sendInvites({ paths, slug: 'acme', plan: calendarPlan(), now, mailer: again, messageIdDomain: 'twofold.test' })).sent).toEqual([]);
    await again.close();
    expect(smtp.messages).toHaveLength(6);
    expect(await readActivity(paths, 'acme')).toHaveLength(6);
  });

  it('resumes a run that died mid-way with the same SEQUENCE, sending only to those not yet sent', async () => {
    const outbox = createMailer({ outboxDir: paths.outboxDir });
    await sendInvites({ paths, slug: 'acme', plan: calendarPlan(), now, mailer: outbox, messageIdDomain: 'twofold.test' });
    const moved = calendarPlan(DST_CASE.change);

    // The process dies while handing over the second message of the reschedule.
    const real = smtpMailer();
    let calls = 0;
    const dying: Pick<Mailer, 'send'> = {
      send(message, tag) {
        calls++;
        if (calls === 2) throw new Error('killed');
        return real.send(message, tag);
      },
    };
    await expect(sendInvites({ paths, slug: 'acme', plan: moved, now, mailer: dying, messageIdDomain: 'twofold.test' })).rejects.toThrow('killed');
    const midway = await readRecords(paths, 'acme');
    expect(midway.checkins.kickoff).toMatchObject({ sequence: 1, sent: ['raj@acme.example'] });

    const { sent } = await sendInvites({ paths, slug: 'acme', plan: moved, now, mailer: real, messageIdDomain: 'twofold.test' });
    await real.close();
    expect(sent.map((s) => [s.action.recipient.email, s.action.sequence, s.action.reason])).toEqual([
      ['ines@acme.example', 1, 'retry'],
      ['sam@northwind.example', 1, 'retry'],
    ]);
    const messages = await smtp.waitForCount(3);
    const sequences = messages.map((m) => readIcs(m.parsed.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8')).sequence);
    expect(sequences).toEqual([1, 1, 1]);
    expect(messages.map((m) => m.envelope.to[0]).sort()).toEqual([...KICKOFF_PEOPLE].sort());
    expect((await readRecords(paths, 'acme')).checkins.kickoff).toMatchObject({ sequence: 1, sent: [...KICKOFF_PEOPLE].sort() });
  });

  it('stores nothing in a dry run', async () => {
    const handed: string[] = [];
    const collect: Pick<Mailer, 'send'> = {
      async send(message) {
        handed.push(String(message.messageId));
        return { messageId: message.messageId, file: '(memory)', delivered: false };
      },
    };
    const { sent, records } = await sendInvites({ paths, slug: 'acme', plan: calendarPlan(), now, mailer: collect, messageIdDomain: 'twofold.test', dryRun: true });
    expect(sent).toHaveLength(6);
    expect(handed).toHaveLength(6);
    expect(records.checkins.kickoff?.sequence).toBe(0); // what would have been stored
    await expect(stat(recordsFile(paths, 'acme'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readActivity(paths, 'acme')).toEqual([]);
    expect(smtp.messages).toHaveLength(0);
  });
});

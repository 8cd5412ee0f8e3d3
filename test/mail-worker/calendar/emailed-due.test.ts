/**
 * Issue 5's "done when", through the worker: a reply `due: <date>` past a stage's milestone
 * moves the milestone, and the scheduler then sends the check-in update — the same UID, a higher
 * SEQUENCE, and a start time ical.js reads as the right UTC instant in the plan's time zone.
 */
import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendInvites } from '../../../mail-worker/calendar/send-invites.ts';
import { instantAt } from '../../../site/core/util/dates.ts';
import { readRecords } from '../../../site/lib/plan-records-fs.ts';
import { readPlan } from '../../../site/lib/plan-store-fs.ts';
import { identityFor, workerProject, type WorkerProject } from '../../helpers/worker-project.ts';
import { replyAs } from '../../helpers/reply-builder.ts';

const SLUG = 'halvorsen-marine';
/** A working morning in Oslo, inside the scheduler's window. */
const NOW = new Date('2026-12-08T09:30:00Z');
let project: WorkerProject;

function invite(ics: string) {
  const component = new ICAL.Component(ICAL.parse(ics));
  const ev = new ICAL.Event(component.getFirstSubcomponent('vevent')!);
  return { method: String(component.getFirstPropertyValue('method')), uid: ev.uid, sequence: ev.sequence, start: ev.startDate.toJSDate().toISOString() };
}

beforeAll(async () => {
  project = await workerProject({ passwords: [] });
});
afterAll(async () => project?.remove());

describe('an emailed due date that moves a milestone', () => {
  it('moves the at-due check-in: same UID, higher SEQUENCE, the new instant', async () => {
    const { core } = await project.core({ clock: () => NOW });
    const { plan } = await readPlan(project.paths, SLUG);
    const stageIndex = plan.stages.findIndex((s) => s.checkin?.when === 'at-due');
    const stage = plan.stages[stageIndex]!;
    // The first invites went out earlier.
    await sendInvites({ paths: project.paths, slug: SLUG, plan, now: NOW, mailer: core.mailer, messageIdDomain: core.identity.messageIdDomain });
    const first = (await readRecords(project.paths, SLUG)).checkins[stage.id]!;

    const task = stage.tasks.find((t) => t.status !== 'done')!;
    const reply = await replyAs({ paths: project.paths, store: project.store, identity: identityFor() }, { slug: SLUG, task: task.id, text: 'due: 2027-02-19', date: NOW });
    const outcome = await core.processor.handle(reply.raw, { source: 'smtp', receivedAt: NOW });
    expect(outcome).toMatchObject({ disposition: 'processed', reason: 'REPLY_APPLIED' });
    const moved = await readPlan(project.paths, SLUG);
    expect(moved.plan.stages[stageIndex]!.due).toBe('2027-02-19');

    // The scheduler (tickSoon after the reply; close() runs it at once) sends the update.
    await core.close();
    const updates = (await project.outbox()).filter(({ mail }) => mail.attachments.some((a) => a.filename === 'invite.ics') && String(mail.subject).includes(stage.name));
    const last = updates.at(-1)!;
    const ics = invite(last.mail.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8'));
    expect(ics.method).toBe('REQUEST');
    expect(ics.uid).toBe(first.uid);
    expect(ics.sequence).toBe(first.sequence + 1);
    expect(ics.start).toBe(instantAt('2027-02-19', stage.checkin!.at!, plan.timezone).toISOString());
  });
});

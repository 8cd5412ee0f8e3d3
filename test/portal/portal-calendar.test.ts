/**
 * The portal's "add to calendar" file and the emailed invite describe the same event: same UID
 * and the same SEQUENCE, also after a milestone moved (before and after the update is sent), so
 * adding it by hand and receiving the invite never make two events.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ICAL from 'ical.js';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { sendInvites } from '../../mail-worker/calendar/send-invites.ts';
import { createMailer } from '../../mail-worker/mailer/mailer.ts';
import { editPlanText } from '../../site/core/plan/plan-file.ts';
import { writeFileAtomic } from '../../site/lib/atomic-write-fs.ts';
import { readRecords } from '../../site/lib/plan-records-fs.ts';
import { readPlan } from '../../site/lib/plan-store-fs.ts';
import { portalPayloadFor } from '../../site/lib/portal-seal-fs.ts';
import { projectPaths, type ProjectPaths } from '../../site/lib/project-paths.ts';
import { openSecretStore } from '../../site/lib/secret-store-fs.ts';
import { tempProject } from '../helpers/run-twofold.ts';

const SLUG = 'halvorsen-marine';
const NOW = new Date('2026-12-03T09:00:00Z');
let paths: ProjectPaths;

function event(ics: string): { uid: string; sequence: number; start: string; method: string } {
  const component = new ICAL.Component(ICAL.parse(ics));
  const vevent = component.getFirstSubcomponent('vevent')!;
  const ev = new ICAL.Event(vevent);
  return { uid: ev.uid, sequence: ev.sequence, start: ev.startDate.toJSDate().toISOString(), method: String(component.getFirstPropertyValue('method')) };
}

async function portalEvent(stageId: string) {
  const store = openSecretStore(paths, {});
  const payload = await portalPayloadFor({ paths, store, now: NOW }, SLUG, (await store.ensurePortal(SLUG))!);
  const file = payload.calendar[stageId];
  expect(file, `the portal offers ${stageId}'s check-in`).toBeDefined();
  return event(file!.ics);
}

async function lastInvite(outbox: string, stageId: string) {
  const names = (await readdir(outbox)).filter((n) => n.endsWith('.eml') && n.includes(`invite-${stageId}`)).sort();
  const mail = await simpleParser(await readFile(path.join(outbox, names[names.length - 1]!)));
  const ics = mail.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8');
  return event(ics);
}

beforeAll(async () => {
  paths = projectPaths(await tempProject(['plans', 'activity']), {});
});

describe('add to calendar in the portal', () => {
  it('carries the emailed invite\'s UID and SEQUENCE, before and after a milestone moves', async () => {
    const { plan } = await readPlan(paths, SLUG);
    const stage = plan.stages.find((s) => s.checkin?.when === 'at-due')!;
    const mailer = createMailer({ outboxDir: paths.outboxDir });
    await sendInvites({ paths, slug: SLUG, plan, now: NOW, mailer, messageIdDomain: 'twofold.localhost' });
    const sent = await lastInvite(paths.outboxDir, stage.id);
    const offered = await portalEvent(stage.id);
    expect(offered).toMatchObject({ uid: sent.uid, sequence: sent.sequence, start: sent.start, method: 'PUBLISH' });
    expect(sent.method).toBe('REQUEST');

    // The milestone moves: the portal already offers the next SEQUENCE with the new time…
    const file = path.join(paths.plansDir, `${SLUG}.md`);
    const stageIndex = plan.stages.indexOf(stage);
    await writeFileAtomic(file, editPlanText(await readFile(file, 'utf8'), [{ op: 'set', path: ['stages', stageIndex, 'due'], value: '2027-01-29' }]));
    const before = await portalEvent(stage.id);
    expect(before.uid).toBe(sent.uid);
    expect(before.sequence).toBe(sent.sequence + 1);
    expect(before.start).not.toBe(sent.start);

    // …and the update, once sent, says exactly the same.
    const moved = await readPlan(paths, SLUG);
    await sendInvites({ paths, slug: SLUG, plan: moved.plan, now: NOW, mailer, messageIdDomain: 'twofold.localhost' });
    const update = await lastInvite(paths.outboxDir, stage.id);
    expect(update).toMatchObject({ uid: before.uid, sequence: before.sequence, start: before.start });
    expect((await readRecords(paths, SLUG)).checkins[stage.id]?.sequence).toBe(update.sequence);
    expect(await portalEvent(stage.id)).toMatchObject({ uid: update.uid, sequence: update.sequence });
  });
});

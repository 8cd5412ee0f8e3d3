/**
 * Send the invites a plan needs now: plan them (`planInvites`), compose each message, hand it to
 * the mailer (which spools it to disk before any delivery attempt), and store the plan records
 * after each spooled message, then log an `invite` activity entry.
 *
 * Crash safety: the records say which recipients already have the current revision
 * (`record.sent`) and keep its SEQUENCE, so a run that dies mid-way resumes with the same
 * SEQUENCE and sends only to the rest; SEQUENCE is never raised twice for one revision. A crash
 * between "spooled" and "records written" re-sends that one message with the same Message-ID
 * and SEQUENCE, which calendars treat as the same update.
 *
 * The caller holds the plan's lock (one writer per plan): the worker, the scheduler and
 * `twofold invite` all go through here.
 */
import { planInvites, recordInviteSent, type InviteAction } from '../../site/core/calendar/invite-plan.ts';
import type { ActivityEntry } from '../../site/core/plan/activity.ts';
import type { PlanRecords } from '../../site/core/plan/plan-records.ts';
import type { Plan } from '../../site/core/plan/plan-types.ts';
import { appendActivity, readRecords, writeRecords } from '../../site/lib/plan-records-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { Mailer } from '../mailer/mailer.ts';
import { inviteMessage } from './invite-mail.ts';

export interface SendInvitesOptions {
  paths: ProjectPaths;
  slug: string;
  plan: Plan;
  now: Date;
  mailer: Pick<Mailer, 'send'>;
  messageIdDomain: string;
  /** Only these stages' check-ins (default all). */
  stageIds?: string[];
  /** Recorded in the activity log (default `tick`). */
  via?: NonNullable<ActivityEntry['via']>;
  /** Compose and hand every message to the mailer, but store nothing: records and activity stay as they are. */
  dryRun?: boolean;
}

export interface SentInvite {
  action: InviteAction;
  messageId: string;
  /** Where the mailer put the message. */
  file: string;
  delivered: boolean;
}

export interface SendInvitesResult {
  sent: SentInvite[];
  /** The records after this run (what was stored, or would have been in a dry run). */
  records: PlanRecords;
}

export async function sendInvites(options: SendInvitesOptions): Promise<SendInvitesResult> {
  const { paths, slug, plan, now, mailer, dryRun = false } = options;
  const stored = await readRecords(paths, slug);
  const { actions, before } = planInvites(plan, slug, stored, now, options.stageIds ? { stageIds: options.stageIds } : {});
  let records = before;
  // A completion day fixed by planning is stored first, so the time it gave cannot drift.
  if (!dryRun && before !== stored) await writeRecords(paths, slug, before);
  const sent: SentInvite[] = [];
  for (const action of actions) {
    const message = inviteMessage(action, { slug, timezone: plan.timezone, now, messageIdDomain: options.messageIdDomain });
    const result = await mailer.send(message, `invite-${action.stageId}-${action.method.toLowerCase()}`);
    records = recordInviteSent(records, action);
    if (!dryRun) {
      await writeRecords(paths, slug, records);
      await appendActivity(paths, slug, [inviteActivity(action, now, options.via ?? 'tick')]);
    }
    sent.push({ action, messageId: result.messageId, file: result.file, delivered: result.delivered });
  }
  return { sent, records };
}

export function inviteActivity(action: InviteAction, now: Date, via: NonNullable<ActivityEntry['via']>): ActivityEntry {
  const what = action.method === 'CANCEL' && action.cancel === 'attendee' ? 'CANCEL (uninvited)' : action.method;
  return {
    at: now.toISOString(),
    actor: 'twofold',
    verb: 'invite',
    stage: action.stageId,
    value: `${what} SEQUENCE ${action.sequence} to ${action.recipient.email} (${action.reason})`,
    via,
  };
}

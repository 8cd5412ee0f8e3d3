/**
 * Run in a child process with TZ set (TZ is fixed per process): the reschedule across the
 * daylight-saving change of the calendar tests, printed as JSON so the parent can compare it
 * with what it made under its own TZ. Not a test file; invite-cases.test.ts spawns it.
 */
import { planInvites } from '../../../site/core/calendar/invite-plan.ts';
import { emptyRecords } from '../../../site/core/plan/plan-records.ts';
import { composeEml } from '../../../mail-worker/mailer/compose-eml.ts';
import { inviteMessage } from '../../../mail-worker/calendar/invite-mail.ts';
import { calendarPlan } from '../../helpers/calendar-plan.ts';
import { DST_CASE } from './dst-case.ts';

const first = planInvites(calendarPlan(), 'acme', emptyRecords(), DST_CASE.now).after;
const moved = planInvites(calendarPlan(DST_CASE.change), 'acme', first, DST_CASE.now);
const action = moved.actions.find((a) => a.stageId === 'kickoff' && a.recipient.email === DST_CASE.recipient)!;
const message = inviteMessage(action, { slug: 'acme', timezone: 'America/Chicago', now: DST_CASE.now, messageIdDomain: 'twofold.test' });
const eml = await composeEml(message);
process.stdout.write(
  JSON.stringify({
    tz: process.env.TZ,
    // Proof the TZ took effect: the server's own offset on the new date.
    serverOffsetMinutes: new Date('2026-03-10T15:00:00Z').getTimezoneOffset(),
    ics: (message.icalEvent as { content: string }).content,
    eml: eml.toString('base64'),
    messageId: message.messageId,
  }),
);

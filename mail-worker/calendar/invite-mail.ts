/**
 * The email that carries one invite action (iMIP, RFC 6047). nodemailer's `icalEvent` puts the
 * calendar object where Gmail, Outlook and Apple Mail look for it: a `text/calendar;
 * method=…` alternative inside the first body part (multipart/alternative: text, html,
 * calendar), plus one `invite.ics` attachment. The Content-Type `method` parameter and the
 * object's METHOD come from the same action, so they always agree.
 *
 * From is the CSM, the ORGANIZER of the event (no SENT-BY): clients accept updates and
 * cancellations only from the organizer, and send Accept/Decline answers there.
 */
import { checkinIcs } from '../../site/core/calendar/checkin-ics.ts';
import type { CheckinEvent } from '../../site/core/calendar/checkin-schedule.ts';
import type { InviteAction } from '../../site/core/calendar/invite-plan.ts';
import { escapeHtml } from '../../site/core/render/html.ts';
import { formatDay, formatInstant } from '../../site/core/util/format.ts';
import { headerSafe, MAX_SUBJECT_CHARS, recipient as headerRecipient } from '../mail/mail-context.ts';
import type { OutgoingMessage } from '../mailer/compose-eml.ts';
import { stableMessageId } from '../mailer/message-id.ts';

export const INVITE_FILENAME = 'invite.ics';
/** Marks Twofold's own messages, so the worker never treats one that comes back as a reply. */
export const GENERATED_HEADER = 'X-Twofold-Generated';

export interface InviteMailContext {
  slug: string;
  /** The plan's IANA zone: the text states the time in it. */
  timezone: string;
  /** DTSTAMP of the calendar object and Date of the email. */
  now: Date;
  /** Right-hand side of the Message-ID (the worker's `messageIdDomain`). */
  messageIdDomain: string;
}

/** The message for one action; the same action (a retry) gets the same Message-ID. */
export function inviteMessage(action: InviteAction, ctx: InviteMailContext): OutgoingMessage {
  const { event, recipient } = action;
  const ics = checkinIcs(event, {
    method: action.method,
    sequence: action.sequence,
    dtstamp: ctx.now,
    ...(action.cancel ? { cancel: action.cancel } : {}),
  });
  const when = whenText(event, ctx.timezone);
  const lines = bodyLines(action, when);
  return {
    // Names and titles come from the plan: made header-safe like every other email's (no CR/LF).
    from: headerRecipient(event.organizer.email, event.organizer.name),
    to: headerRecipient(recipient.email, recipient.name),
    subject: headerSafe(subject(action, when), MAX_SUBJECT_CHARS),
    date: ctx.now,
    messageId: stableMessageId(['invite', ctx.slug, action.stageId, action.revision, action.sequence, action.method, recipient.email], ctx.messageIdDomain),
    headers: { [GENERATED_HEADER]: 'yes' },
    text: `${lines.join('\n')}\n`,
    html: htmlBody(lines),
    icalEvent: { method: action.method, filename: INVITE_FILENAME, content: ics },
  };
}

/** "Tue, Mar 10, 2026, 10:00 AM CDT, 30 minutes (America/Chicago)" or "Fri, Apr 24, 2026 (all day)". */
export function whenText(event: CheckinEvent, zone: string): string {
  if (event.allDay) return `${formatDay(event.date ?? '')} (all day)`;
  if (!event.start || !event.end) return 'to be scheduled';
  const minutes = Math.round((event.end.getTime() - event.start.getTime()) / 60_000);
  return `${formatInstant(event.start, zone)}, ${minutes} minutes (${zone})`;
}

function subject(action: InviteAction, when: string): string {
  const title = action.event.title.replace(/\s+/g, ' ');
  if (action.method === 'CANCEL') return `Cancelled: ${title}`;
  return `${action.sequence === 0 ? 'Invitation' : 'Updated invitation'}: ${title} @ ${when}`;
}

function bodyLines(action: InviteAction, when: string): string[] {
  const { event } = action;
  const organizer = event.organizer.name ? `${event.organizer.name} <${event.organizer.email}>` : event.organizer.email;
  const intro =
    action.method === 'REQUEST'
      ? action.sequence === 0
        ? `${event.organizer.name ?? event.organizer.email} invites you to a milestone check-in.`
        : 'This check-in has changed; your calendar updates the event in place.'
      : action.cancel === 'attendee'
        ? 'You are no longer invited to this check-in; your calendar removes it.'
        : 'This check-in is cancelled; your calendar removes it.';
  const lines = [intro, '', `What: ${event.title}`, `When: ${when}`];
  if (event.location) lines.push(`Where: ${event.location}`);
  lines.push(`Organizer: ${organizer}`);
  if (action.method === 'REQUEST' && event.attendees.length > 0) lines.push(`Guests: ${event.attendees.map((a) => a.name ?? a.email).join(', ')}`);
  if (event.description && action.method === 'REQUEST') lines.push('', ...event.description.split('\n'));
  if (action.method === 'REQUEST') lines.push('', 'Accept or decline in your calendar; your answer goes to the organizer.');
  return lines;
}

function htmlBody(lines: string[]): string {
  const paragraphs: string[][] = [[]];
  for (const line of lines) {
    if (line === '') paragraphs.push([]);
    else paragraphs[paragraphs.length - 1]!.push(escapeHtml(line));
  }
  return `<!doctype html><html><body>${paragraphs.filter((p) => p.length).map((p) => `<p>${p.join('<br>')}</p>`).join('')}</body></html>`;
}

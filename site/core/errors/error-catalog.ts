/**
 * The one catalog of error codes. Every problem, rejection and CLI failure carries one of these
 * codes; the message at the call site says what is wrong *here*, the hint says how to fix it.
 * `test/core/errors/error-catalog.test.ts` fails when a code is used in the sources but missing
 * here, or listed here but used nowhere. The README's error table is generated from this file
 * (`npx twofold errors`).
 */
import type { Severity } from './problem.ts';

export interface ErrorSpec {
  /** Which part of Twofold raises it; groups the docs table. */
  area: 'plan' | 'cli' | 'portal' | 'mail' | 'calendar' | 'tick' | 'config';
  severity: Severity;
  /** One line: what the code means in general. */
  summary: string;
  /** What to do about it, when there is something to do. */
  hint?: string;
}

const e = (area: ErrorSpec['area'], summary: string, hint?: string): ErrorSpec =>
  hint === undefined ? { area, severity: 'error', summary } : { area, severity: 'error', summary, hint };
const w = (area: ErrorSpec['area'], summary: string, hint?: string): ErrorSpec =>
  hint === undefined ? { area, severity: 'warning', summary } : { area, severity: 'warning', summary, hint };

export const errorCatalog = {
  // ── plan files ───────────────────────────────────────────────────────────────────────────
  PLAN_FILE_UNREADABLE: e('plan', 'The plan file could not be read.'),
  PLAN_NO_FRONTMATTER: e('plan', 'The plan file has no YAML frontmatter.', 'Start the file with a line `---`, the plan fields, and another `---` line before the narrative.'),
  PLAN_YAML_SYNTAX: e('plan', 'The frontmatter is not valid YAML.', 'Check indentation and quoting on the line shown; a value containing `: ` or `#` needs quotes.'),
  PLAN_YAML_HOSTILE: e('plan', 'The frontmatter uses YAML features Twofold refuses (aliases, anchors, tags, merge keys, prototype keys) or is too large.', 'Write every value out in full; plans do not need anchors, aliases or tags.'),
  PLAN_TOO_LARGE: e('plan', 'The plan file is larger than Twofold accepts.', 'Keep a plan under 1 MB; move long material to linked documents.'),
  PLAN_FIELD_REQUIRED: e('plan', 'A required field is missing.'),
  PLAN_FIELD_UNKNOWN: e('plan', 'A field name is not part of the plan format (often a typo).', 'See the plan-format reference in the README for the field names.'),
  PLAN_FIELD_TYPE: e('plan', 'A field has the wrong type.'),
  PLAN_FIELD_INVALID: e('plan', 'A field value is not allowed.'),
  PLAN_DATE_INVALID: e('plan', 'A date does not parse.', 'Write dates as YYYY-MM-DD (an absolute date) or +Nd / +Nw (days or weeks after `start`).'),
  PLAN_TIMEZONE_UNKNOWN: e('plan', 'The time zone is not an IANA time zone name.', 'Use a name such as America/Chicago, Europe/Berlin or UTC.'),
  PLAN_ID_DUPLICATE: e('plan', 'Two things in the plan share an id.', 'Ids must be unique across the plan: people, stages and tasks each need their own.'),
  PLAN_EMAIL_DUPLICATE: e('plan', 'Two people share an email address.'),
  PLAN_OWNER_NOT_ONE_PERSON: e('plan', 'A task owner is not exactly one named person of the plan.', 'A task needs one named owner: pick the one person who will drive it (use their `id` from `people`).'),
  PLAN_PERSON_UNKNOWN: e('plan', 'A reference names someone who is not in `people`.', 'Use the `id` of a person listed under `people`, or add the person.'),
  PLAN_BLOCKED_WITHOUT_REASON: e('plan', 'A blocked task does not say what blocks it.', 'Add `blocked: { reason: <what it waits on>, since: YYYY-MM-DD }` to the task.'),
  PLAN_CSM_COUNT: e('plan', 'A plan needs exactly one CSM.', 'Mark one vendor-side person with `csm: true`.'),
  PLAN_SPONSOR_MISSING: e('plan', 'A side has no executive sponsor.', 'Mark one person on each side with `sponsor: true`.'),
  PLAN_DATE_ORDER: e('plan', 'Dates are in an impossible order.'),
  PLAN_STAGE_COUNT: w('plan', 'Mutual action plans work best with 3 to 5 stages.'),
  PLAN_STAGE_ONE_SIDED: w('plan', 'All tasks of a stage sit on one side.', 'A mutual plan gives both sides work in each stage; consider a task for the other side.'),
  PLAN_CHECKIN_ONE_SIDED: w('plan', 'A check-in invites people from one side only.', 'Invite at least one person from each side so the check-in is mutual.'),
  PLAN_BLOCKED_WITHOUT_SINCE: w('plan', 'A blocked task has no `since` date.', 'Add `since: YYYY-MM-DD` to its `blocked:` map so the blocker ages and escalates.'),
  PLAN_NO_MEASURABLE_CRITERION: w('plan', 'The success definition has no measurable criterion.', 'Add 1–3 `success.criteria` entries with a `metric` and a `target`.'),
  PLAN_PLACEHOLDER_LEFT: w('plan', 'A value still holds a template placeholder ("FILL IN: …").', 'Replace it with the real value before sharing the portal or running the worker: task emails, invites and escalations go to these people.'),
  PLAN_SLUG_INVALID: e('plan', 'A plan slug must be lowercase letters, digits and dashes.', 'Use a slug such as `acme-logistics` (it names the file content/plans/<slug>.md).'),
  PLAN_NOT_FOUND: e('plan', 'No plan with that slug exists.', 'Run `npx twofold status` to list the plans.'),
  PLAN_EXISTS: e('plan', 'A plan with that slug already exists; Twofold never overwrites one.', 'Choose another slug or delete the existing file yourself.'),
  PLAN_TEMPLATE_UNKNOWN: e('plan', 'No template with that name exists.', 'Templates live in content/templates/; `saas-onboarding` ships with Twofold.'),
  PLAN_LOCKED: e('plan', 'Another process kept the plan locked for too long.', 'If no other Twofold process is running, delete the lock file named in the message (under content/.locks/).'),
  PLAN_BODY_INVALID: e('plan', 'The narrative body uses MDX that a portal cannot show.', 'Use only the portal components (Callout, Video, FileLink, Checklist) with literal attributes; no import/export or {expressions}.'),
  PLAN_EDIT_CONFLICT: e('plan', 'The plan file could not be edited in place without changing other lines.'),
  PLAN_WRITE_FAILED: e('plan', 'A plan file or its activity log could not be written (a full disk, a read-only file system); nothing was half written.', 'Free disk space or fix the permissions named in the message; the worker keeps the change and applies it when the message is tried again.'),
  // ── portals ────────────────────────────────────────────────────────────────────────────
  PORTAL_ENVELOPE_MALFORMED: e('portal', 'A sealed portal envelope is not in the expected format (or asks for a weaker key derivation than Twofold accepts).', 'Rebuild the portal with `npx twofold build`; a page that was edited by hand or by a proxy cannot be opened.'),
  PORTAL_ENVELOPE_TAMPERED: e('portal', 'A sealed portal failed its integrity check: the ciphertext, IV or key id was changed.', 'Rebuild the portal with `npx twofold build` and publish it again.'),
  PORTAL_WRONG_SECRET: e('portal', 'The password or personal link does not open this portal.', 'Check the password; after a rotation only the new password opens the portal.'),
  PORTAL_LINK_REVOKED: e('portal', 'The personal unlock link is not part of this portal (revoked, or created after the last build).', 'Run `npx twofold link <slug> <email>` for a current link, then `npx twofold build`.'),
  PORTAL_NO_SECRET: e('portal', 'The portal has neither a password nor a personal link, so nobody could open it.', 'Run `npx twofold password <slug>` to create its password.'),
  PORTAL_NOT_FOUND: e('portal', 'The secret store has no keys for this portal.', 'Run `npx twofold password <slug>` (locally), or add the portal to the TWOFOLD_SECRETS value your CI uses.'),
  PORTAL_PASSWORD_EXISTS: e('portal', 'The portal already has a password; Twofold never replaces one silently.', 'Run `npx twofold password <slug> --rotate` to replace it (the old password stops working after the next build).'),
  PORTAL_PERSON_UNKNOWN: e('portal', 'A personal link was asked for an email that is not a person of the plan.', 'Use the email of someone listed under `people` in the plan, or add the person first.'),
  PORTAL_BASE_URL_INVALID: e('portal', 'The portal base URL is not an http(s) URL.', 'Pass --base-url https://plans.example.com or set TWOFOLD_PORTAL_URL.'),
  PORTAL_SECRETS_INVALID: e('portal', 'The secret store could not be read: the file or TWOFOLD_SECRETS is not valid.', 'TWOFOLD_SECRETS must be the base64 of a .twofold/secrets.json file; restore the file from a backup if it was edited by hand.'),
  PORTAL_SECRETS_READ_ONLY: e('portal', 'The secret store comes from TWOFOLD_SECRETS and is read-only.', 'Create passwords and links locally (without TWOFOLD_SECRETS), then update the CI secret with `base64 -w0 .twofold/secrets.json`.'),
  PORTAL_SECRETS_LOCKED: e('portal', 'Another process held the secret store lock for too long.', 'Wait for the other `twofold` command or worker to finish; a lock left by a crashed process is taken over automatically.'),
  PORTAL_SECRETS_IN_CONTENT: e('portal', 'The secret store path lies inside content/ or dist/, where it would be committed or published.', 'Point TWOFOLD_SECRETS_FILE (or TWOFOLD_HOME) outside content/ and dist/; the default is .twofold/secrets.json.'),
  PORTAL_REKEY_CONFLICT: e('portal', 'The portal kept changing while it was being re-keyed.', 'Run the command again once other `twofold` commands have finished.'),
  // ── mail: inbound sources (IMAP, embedded SMTP, file/stdin) ─────────────────────────────
  MAIL_MESSAGE_TOO_LARGE: e('mail', 'An incoming message is larger than the worker accepts; it was refused before its body was read.', 'Raise the worker\'s message size limit if such mail is expected; ask senders to share large files by link.'),
  MAIL_RECIPIENT_UNKNOWN: e('mail', 'The embedded SMTP server refused a recipient outside the configured reply domains (550).', 'Forward only reply addresses to the worker, or add the domain to the reply domains.'),
  MAIL_SMTP_AUTH_FAILED: e('mail', 'A client failed to authenticate to the embedded SMTP server (535).', 'Check the user and password the forwarding MTA uses for the worker.'),
  MAIL_SMTP_LISTEN_FAILED: e('mail', 'The embedded SMTP server could not listen on its address.', 'Another program uses the port: choose another SMTP port for the worker or stop that program.'),
  MAIL_HANDLER_FAILED: e('mail', 'Processing an incoming message failed unexpectedly; the message is kept and tried again.', 'Read the worker log line with this code; the message stays in the mailbox (IMAP) or the sender retries (SMTP, 451).'),
  MAIL_MESSAGE_POISON: e('mail', 'A message failed processing too many times and was moved to the Failed folder.', 'Read the worker log for the failures, fix the cause, then move the message back to INBOX to try again.'),
  MAIL_IMAP_CONNECTION_LOST: w('mail', 'The IMAP connection failed or dropped; the worker reconnects with backoff.', 'Nothing to do when it recovers; otherwise check the IMAP host, port, TLS setting and network.'),
  MAIL_IMAP_AUTH_FAILED: e('mail', 'The IMAP server refused the worker\'s login.', 'Check the IMAP user and password (providers such as Gmail and Microsoft 365 need an app password).'),
  MAIL_IMAP_IDLE_STALLED: w('mail', 'The IMAP connection went silent during IDLE and did not answer a probe; the worker dropped it and reconnected.'),
  MAIL_IMAP_FOLDER_FAILED: e('mail', 'The worker could not create or open one of its IMAP folders.', 'Create the Processed and Failed folders yourself, or configure folder names the server accepts.'),
  MAIL_IMAP_MOVE_FAILED: w('mail', 'A handled message could not be moved out of INBOX yet; its outcome is kept and the move is tried again.'),
  MAIL_INGEST_UNREADABLE: e('mail', 'The message file or standard input could not be read.', 'Pass the path of an .eml file, or `-` and pipe the message in.'),
  MAIL_INGEST_EMPTY: e('mail', 'The message to ingest is empty.', 'Pipe the whole message (headers and body) in, as an MTA does with a pipe transport.'),
  // ── mail: parse, classify, extract (mail-worker/pipeline) ───────────────────────────────
  MAIL_MALFORMED: e('mail', 'An incoming message could not be read as an email: it has no header fields, or its MIME structure breaks the parser\'s limits.', 'The message is kept in the Failed folder; open it in a mail client to see what the sender meant, and ask them to send it again.'),
  MAIL_PARSE_TIMEOUT: e('mail', 'Parsing an incoming message took longer than the worker allows.', 'The message is kept in the Failed folder; a message that legitimately needs longer is unusual, so check where it came from.'),
  MAIL_AUTO_REPLY: w('mail', 'An automatic reply (out of office, vacation responder, auto-generated mail) was ignored and not answered.'),
  MAIL_BOUNCE: w('mail', 'A bounce or delivery report was ignored and not answered.', 'If task emails to a person keep bouncing, check that person\'s email address in the plan.'),
  MAIL_LIST: w('mail', 'Mailing-list mail was ignored and not answered.', 'Reply addresses should not be subscribed to lists; remove the address from the list.'),
  MAIL_OWN_MESSAGE: w('mail', 'A message Twofold sent itself came back and was ignored (no mail loop).'),
  MAIL_NO_SENDER: w('mail', 'A message without a From address was ignored: it can be neither authenticated nor answered.'),
  MAIL_CALENDAR_REPLY: w('mail', 'An iTIP calendar reply (METHOD:REPLY) was handed to the calendar code instead of the reply grammar.'),
  MAIL_DMARC_FAIL: e('mail', 'The receiving server reported that the message failed DMARC for its From domain, so the sender may be forged.', 'Ask the sender to reply from their usual mail system; if their domain\'s DMARC setup is broken, switch the DMARC check off for now.'),
  // ── mail: outgoing emails (mail-worker/mail) ────────────────────────────────────────────
  MAIL_TASK_UNKNOWN: e('mail', 'No task with that id exists in the plan, so there is no email to send or address to print.', 'Use a task id from the plan (they are listed in the message), or `digest` for a digest address.'),
  MAIL_PERSON_UNKNOWN: e('mail', 'The email address is not a person of the plan; Twofold only writes to, and accepts replies from, the plan\'s people.', 'Use the email of someone listed under `people` in the plan, or add the person first.'),
  MAIL_REPLY_RATE_LIMITED: w('mail', 'An answer to a failed reply (or a notice to the CSM) was not sent: its recipient already got as many as the hourly limit allows.', 'Nothing to do: the limit stops mail loops and floods of forged mail; the worker log still lists every rejected message.'),
  MAIL_RATE_STATE_LOCKED: e('mail', 'The rate-limit state of rejection emails stayed locked by another process for too long.', 'If no other Twofold process is running, delete the lock file named in the message under .twofold/state/.'),
  // ── mail: reply grammar, plan edits and reply tokens ────────────────────────────────────
  REPLY_APPLIED: w('mail', 'The reply was applied to the plan (not an error: the outcome code of a successful reply).'),
  REPLY_HELP: w('mail', 'The sender asked for the reply commands; they were sent back.'),
  MAIL_SMTP_CONNECT_FAILED: e('mail', 'Could not hand a message to an SMTP server.', 'Check that the server (the worker for `demo-reply`) is running and the host and port are right.'),
  WORKER_ALREADY_RUNNING: e('mail', 'A worker is already running from this local store (.twofold/).', 'Stop the other worker first; to run two workers on one mailbox, give each its own local store with TWOFOLD_HOME (or its own machine).'),
  MAIL_NO_TOKEN: e('mail', 'The message was not sent to a signed reply address, so Twofold cannot tell which plan and task it is about.', 'Reply to a task email or digest (its Reply-To carries the signed address), or print one with `npx twofold mail reply-address`.'),
  MAIL_FROM_AMBIGUOUS: e('mail', 'The message names more than one sender (several addresses in From, or several From headers), so Twofold cannot tell who sent it.', 'Reply from a mail client that puts one address in From; a message with two senders is forged or broken, so the CSM is told and the plan is left as it is.'),
  REPLY_SENDER_MISMATCH: e('mail', 'The reply address was issued to someone else, and the sender may not act for them.', 'A forwarded task email cannot be answered by its new reader: the CSM can add them to the plan, or list them in `acts_for`.'),
  REPLY_NOT_ALLOWED: e('mail', 'The sender named a task they may not update.', 'A task can be updated by its owner, people whose `acts_for` lists the owner, and the CSM.'),
  REPLY_NO_COMMAND: e('mail', 'The reply holds no command Twofold understands.', 'Reply `help` for the list of commands, or write one per line: `done`, `blocked: <reason>`, `due: <date>`, `note: <text>`.'),
  REPLY_TASK_REQUIRED: e('mail', 'A line of the reply does not say which task it is about (digests cover several tasks).', 'Start the line with the task id from the digest, e.g. `T3 done` or `T4 blocked: waiting on IT`.'),
  REPLY_TASK_UNKNOWN: e('mail', 'The reply names a task that is not part of this plan.', 'Use a task id from this plan\'s email or digest; to update another plan, reply to that plan\'s email.'),
  REPLY_BLOCKED_NEEDS_REASON: e('mail', '`blocked` needs a reason: what the task is waiting on.', 'Reply `blocked: <what it waits on>`, e.g. `blocked: waiting on IT`.'),
  REPLY_BAD_DATE: e('mail', 'A due date in the reply could not be read as one calendar day.', 'Write `due: 2026-12-18`, `due: Dec 18`, `due: friday`, `due: in 2 weeks` or `due: end of month`.'),
  REPLY_DATE_AMBIGUOUS: e('mail', 'A date written with numbers only (3/4, 18.12.) is read differently around the world, so Twofold does not guess.', 'Write the month as a word (`Dec 18`, `18 December`) or the date as YYYY-MM-DD.'),
  REPLY_DATE_BEFORE_START: e('mail', 'A new due date falls before the plan\'s start.', 'Choose a date on or after the plan\'s start date.'),
  REPLY_NOTE_EMPTY: e('mail', 'A `note:` line has no text.', 'Reply `note: <text>`.'),
  REPLY_TOO_LONG: e('mail', 'The reply, one of its lines, a blocker reason or a note is longer than Twofold reads.', 'Send one short command per line; put long explanations in a document and link to it.'),
  REPLY_TOKEN_MALFORMED: e('mail', 'The reply address carries no well-formed reply token.', 'Reply to a Twofold email (its Reply-To carries the token) instead of writing to the address by hand.'),
  REPLY_TOKEN_FORGED: e('mail', 'The reply token does not verify: it was altered, made up, or is for another plan, task or person.', 'Reply from the address the Twofold email was sent to; a forwarded email cannot be answered by someone else.'),
  REPLY_TOKEN_EXPIRED: e('mail', 'The reply token is past its expiry date.', 'Reply to a more recent Twofold email, or ask the CSM to send the task again (`twofold mail send <plan> <task>`).'),
  REPLY_TOKEN_UNKNOWN_KEY: e('mail', 'The reply token was signed with a key version the worker no longer (or never) had.', 'Ask for a fresh task email; keep old reply-token key versions in the secret store until their tokens expire.'),
  MAIL_PLAN_INVALID: e('mail', 'A reply arrived for a plan whose file has errors; it was not processed and is tried again later.', 'Run `npx twofold check` and fix the plan: the worker applies the reply on its next attempt (an MTA retries a 451 or an exit code 75 for days).'),
  REPLY_TOKEN_UNKNOWN_PLAN: e('mail', 'The reply token names a plan the worker does not have.', 'The plan may have been renamed or removed; ask the CSM to send the task again.'),
  REPLY_KEY_INVALID: e('config', 'The reply-token key in the secret store is missing, too short or has an invalid version.', 'Keep a random key of at least 32 bytes per version (versions 0–31) in the secret store.'),
  REPLY_ADDRESS_INVALID: e('config', 'The reply address settings cannot carry a reply token (local part too long or with characters that need quoting).', 'Use a short local part of letters, digits, dots, dashes or underscores (at most 31 characters) and a plain domain.'),
  // ── calendar: check-in invites and RSVPs ────────────────────────────────────────────────
  CALENDAR_STAGE_UNKNOWN: e('calendar', 'No stage with that id has (or had) a check-in in this plan.', 'Give the `id` of a stage with a `checkin:` block, or leave the stage out to send every check-in\'s invites.'),
  CALENDAR_REPLY_INVALID: e('calendar', 'A calendar answer is not an iTIP REPLY Twofold can read (wrong METHOD, no UID, no attendee or an unknown PARTSTAT).'),
  CALENDAR_REPLY_UNKNOWN: e('calendar', 'A calendar answer refers to no check-in Twofold sent (foreign UID, or the plan or check-in is gone).'),
  CALENDAR_REPLY_NOT_INVITED: e('calendar', 'A calendar answer comes from someone who is not invited to that check-in, or from another address than the attendee it answers for.'),
  // ── tick: reminders, digests, escalations (mail-worker/tick) ──────────────────────────────
  TICK_PLAN_INVALID: w('tick', 'A plan with errors was skipped by the tick: nothing was sent for it.', 'Run `npx twofold check` and fix the errors; the next tick sends what is due then.'),
  TICK_PLAN_FAILED: e('tick', 'Sending what was due for one plan failed part-way; the other plans went on.', 'What was sent is recorded and is not sent again; the rest goes out at the next tick. Read the message for the cause (often the SMTP server or the secret store).'),
  TICK_STATE_INVALID: e('tick', 'The tick state of a plan (.twofold/state/tick/<plan>.json) is not readable, so nothing was sent for the plan rather than risk sending twice.', 'Restore the file from a backup, or delete it: escalations already recorded and emails already in the outbox are still not sent again, but that day\'s reminders may be.'),
  CONFIG_INVALID: e('config', 'The worker settings (config file or environment) are invalid.', 'Fix the setting named in the message; `npx twofold help worker` lists every setting and its default.'),
  SMTP_SETTINGS_INVALID: e('config', 'The SMTP settings cannot be used.', 'Set TWOFOLD_SMTP_HOST to a host name and TWOFOLD_SMTP_PORT to a port number (1–65535), or unset TWOFOLD_SMTP_HOST to keep mail in the outbox.'),
  // ── build ───────────────────────────────────────────────────────────────────────────────
  BUILD_PLANS_INVALID: e('portal', 'Some plans have errors, so nothing was built.', 'Run `npx twofold check` and fix the errors it lists.'),
  BUILD_ASTRO_FAILED: e('portal', 'Astro failed while building the portals; the last good dist/ is still published.', 'Run again with TWOFOLD_DEBUG=1 to see Astro\'s full error.'),
  BUILD_LEAK: e('portal', 'The build output contained plan text outside ciphertext, so it was not published.', 'This is a bug in a template or component: report it with the file named above.'),
  BUILD_PUBLISH_FAILED: e('portal', 'The publish command failed after a successful build.', 'Check the command set in TWOFOLD_PUBLISH_COMMAND (or --publish) by running it by hand.'),
  // ── command line ────────────────────────────────────────────────────────────────────────
  CLI_USAGE: e('cli', 'The command was called with missing or unknown arguments.', 'Run `npx twofold help <command>` for its usage.'),
  CLI_UNKNOWN_COMMAND: e('cli', 'There is no such command.', 'Run `npx twofold help` for the list of commands.'),
  CLI_BAD_DATE: e('cli', 'A date or time option does not parse.', 'Use an ISO date or time, such as 2026-12-07 or 2026-12-07T09:30:00-06:00.'),
  CLI_WEB_LISTEN_FAILED: e('cli', 'The local web server of `twofold start` could not listen on its port.', 'Another program uses the port (Astro\'s dev server also defaults to 4321): pass --port <n> or set TWOFOLD_PORT.'),
  INTERNAL: e('cli', 'An unexpected internal error; this is a bug.', 'Run again with TWOFOLD_DEBUG=1 for the stack trace and report it.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalog, value);
}

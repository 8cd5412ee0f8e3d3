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
  PLAN_SLUG_INVALID: e('plan', 'A plan slug must be lowercase letters, digits and dashes.', 'Use a slug such as `acme-logistics` (it names the file content/plans/<slug>.md).'),
  PLAN_NOT_FOUND: e('plan', 'No plan with that slug exists.', 'Run `npx twofold status` to list the plans.'),
  PLAN_EXISTS: e('plan', 'A plan with that slug already exists; Twofold never overwrites one.', 'Choose another slug or delete the existing file yourself.'),
  PLAN_TEMPLATE_UNKNOWN: e('plan', 'No template with that name exists.', 'Templates live in content/templates/; `saas-onboarding` ships with Twofold.'),
  PLAN_EDIT_CONFLICT: e('plan', 'The plan file could not be edited in place without changing other lines.'),
  // ── command line ────────────────────────────────────────────────────────────────────────
  CLI_USAGE: e('cli', 'The command was called with missing or unknown arguments.', 'Run `npx twofold help <command>` for its usage.'),
  CLI_UNKNOWN_COMMAND: e('cli', 'There is no such command.', 'Run `npx twofold help` for the list of commands.'),
  CLI_BAD_DATE: e('cli', 'A date or time option does not parse.', 'Use an ISO date or time, such as 2026-12-07 or 2026-12-07T09:30:00-06:00.'),
  INTERNAL: e('cli', 'An unexpected internal error; this is a bug.', 'Run again with TWOFOLD_DEBUG=1 for the stack trace and report it.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalog, value);
}

/**
 * The one plan schema. Astro's content collection (site/content.config.ts), the CLI and the mail
 * worker all validate plans with `planSchema`. Field shapes are checked by zod; rules that span
 * fields (ids, owners, people references, dates in order) are checked by `superRefine`, each
 * issue carrying its Twofold error code in `params.code` so `plan-validate.ts` can map it.
 *
 * Every field has a description: `twofold schema` prints the plan-format reference from them.
 */
import { z } from 'zod';
import type { ErrorCode } from '../errors/error-catalog.ts';
import { absoluteLinkUrl } from './link-url.ts';
import {
  RELATIVE_DATE,
  SPAN,
  compareIso,
  dateToIso,
  isDateOrRelative,
  isIsoDate,
  isValidTimeZone,
  resolveDate,
  spanToDuration,
} from '../util/dates.ts';

export const PERSON_ID = /^[a-z][a-z0-9_-]{0,31}$/;
export const STAGE_ID = PERSON_ID;
/** Task ids are typed into email replies (`T7 done`): short, matched case-insensitively. */
export const TASK_ID = /^[A-Za-z][A-Za-z0-9_-]{0,11}$/;
/** Words the reply grammar and reply tokens use: a task cannot be named after them. */
const RESERVED_TASK_IDS = new Set(['digest', 'done', 'blocked', 'unblock', 'reopen', 'due', 'note', 'help']);
export const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;
export const TASK_STATUSES = ['todo', 'in_progress', 'done', 'blocked'] as const;
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
/** Owner values people write when they mean "nobody in particular". */
const NOT_ONE_OWNER = new Set(['both', 'shared', 'team', 'all', 'everyone', 'everybody', 'we', 'us', 'them', 'tbd', 'n/a', 'none', 'client', 'vendor']);

const MAX_TEXT = 2_000;
const MAX_LINE = 300;

export const WORKING_HOURS = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;

/**
 * The type `twofold schema` prints for fields whose zod shape does not say it (a date is a
 * string to zod). Kept on `_def`, which zod copies through `.describe()`, `.trim()` and the
 * like, so the label follows the schema wherever it is reused.
 */
export const DOC_TYPE = 'twofoldDocType';
function documented<T extends z.ZodTypeAny>(schema: T, type: string): T {
  (schema._def as Record<string, unknown>)[DOC_TYPE] = type;
  return schema;
}

type Ctx = z.RefinementCtx;
function issue(ctx: Ctx, code: ErrorCode, message: string, path: (string | number)[]): void {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message, path, params: { code } });
}

/** A date as YYYY-MM-DD; YAML 1.1 loaders (Astro's) deliver Date objects, normalised here. */
const isoDate = documented(z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? dateToIso(v) : v.trim()))
  .superRefine((v, ctx) => {
    if (!isIsoDate(v)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a calendar date (YYYY-MM-DD)`, params: { code: 'PLAN_DATE_INVALID' } });
    }
  }), 'date (YYYY-MM-DD)');

/** An absolute date, or `+Nd` / `+Nw` after the plan's start. */
const dateOrRelative = documented(z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? dateToIso(v) : v.trim()))
  .superRefine((v, ctx) => {
    if (!isDateOrRelative(v)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${v}" is neither a calendar date (YYYY-MM-DD) nor a day offset such as +7d or +2w`,
        params: { code: 'PLAN_DATE_INVALID' },
      });
    }
  }), 'date (YYYY-MM-DD) or +Nd / +Nw');

const span = (what: string) =>
  documented(z
    .string()
    .trim()
    .regex(SPAN, { message: `${what} must be a span such as 3d, 2w or 36h` }), 'span (36h, 3d, 2w)');
/** A reference to a person by id; whether the person exists is a cross-field rule below. */
const personRef = () => documented(z.string(), 'person id');

/** One line of text: names, titles and reasons end up in email headers and subjects. */
const line = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${what} must not be empty` })
    .max(MAX_LINE, { message: `${what} is longer than ${MAX_LINE} characters` })
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { message: `${what} must be one line of text (no line breaks or control characters)` });
const text = (what: string) => z.string().trim().min(1, { message: `${what} must not be empty` }).max(MAX_TEXT, { message: `${what} is longer than ${MAX_TEXT} characters` });

export const personSchema = z
  .object({
    id: documented(z.string().regex(PERSON_ID, { message: 'a person id is lowercase letters, digits, - or _, starting with a letter (e.g. `maya`)' }), 'id (a-z, 0-9, -, _)').describe('Short id used everywhere else in the plan (owners, attendees, escalation).'),
    name: line('name').describe('Full name, shown in the portal and in emails.'),
    email: z.string().trim().toLowerCase().email({ message: 'not a valid email address' }).max(254).describe('Where task emails, digests, invites and escalations go; replies are accepted from it.'),
    side: z.enum(['vendor', 'client']).describe('`vendor` (your team) or `client` (the customer).'),
    role: line('role').optional().describe('Job title or role in the project, shown in the portal.'),
    csm: z.boolean().optional().describe('The customer-success manager who owns the plan (exactly one, vendor side). Organizer of check-ins; told about rejected replies.'),
    sponsor: z.boolean().optional().describe('Executive sponsor of their side (one per side recommended; required on each side).'),
    acts_for: z.array(personRef()).max(50).optional().describe('Ids of people this person may update tasks for by email (the CSM may act for everyone).'),
  })
  .strict();

export const checkinSchema = z
  .object({
    when: z.enum(['on-complete', 'at-due']).describe('`at-due`: on the stage due date. `on-complete`: on the first working day after the stage\'s last task is done.'),
    minutes: z.number().int().min(5).max(480).default(30).describe('Length in minutes (default 30).'),
    attendees: z.array(personRef()).min(1, { message: 'a check-in needs at least one attendee' }).max(50).describe('Ids of the people invited (the CSM organizes and is not listed as an attendee).'),
    at: documented(z.string().regex(TIME_OF_DAY, { message: 'a time of day is HH:MM, 24-hour (quote it: "10:00")' }), 'time (HH:MM)').optional().describe('Time of day for `at-due` check-ins, HH:MM in the plan time zone (default: start of working hours).'),
    allday: z.boolean().optional().describe('Make the check-in an all-day event on its date (for a milestone review day).'),
    title: line('title').optional().describe('Event title (default: `<stage name> check-in — <client> × <vendor>`).'),
    location: line('location').optional().describe('Meeting link or room, copied into the invite.'),
  })
  .strict();

export const blockedSchema = z
  .object({
    reason: line('blocked.reason').describe('What the task waits on, in words the other side understands.'),
    since: isoDate.optional().describe('Date the task became blocked (YYYY-MM-DD); escalation ages count from it.'),
  })
  .strict();

export const taskSchema = z
  .object({
    id: documented(
      z
        .string()
        .regex(TASK_ID, { message: 'a task id is short and typeable: a letter then up to 11 letters, digits, - or _ (e.g. `T7`)' })
        .refine((id) => !RESERVED_TASK_IDS.has(id.toLowerCase()), (id) => ({ message: `"${id}" is reserved (reply addresses and commands use it); choose another task id` })),
      'id (letter, then up to 11 of A-Z, 0-9, -, _)',
    ).describe('Short id typed in replies (`T7 done`), unique in the plan, matched case-insensitively.'),
    title: line('title').describe('What to do, as an instruction.'),
    owner: documented(z.string({ invalid_type_error: 'a task needs one named owner: give the id of one person, not a list' }).trim(), 'person id').describe('Id of the one person who owns the task.'),
    due: dateOrRelative.optional().describe('Due date: YYYY-MM-DD or +Nd / +Nw after `start` (default: the stage due date).'),
    status: z.enum(TASK_STATUSES).default('todo').describe('`todo` (default), `in_progress`, `done` or `blocked`.'),
    blocked: blockedSchema.optional().describe('Required when `status: blocked`: `{ reason, since }`.'),
    done: isoDate.optional().describe('Date the task was done (the worker writes it when a reply says done).'),
    details: text('details').optional().describe('More context, shown in the task email and the portal.'),
    link: z
      .string()
      .trim()
      .url({ message: 'not a URL' })
      .refine(absoluteLinkUrl, { message: 'a task link must be an http(s) or mailto URL' })
      .optional()
      .describe('A link the owner needs (a doc, a form, a shared folder): an http(s) or mailto URL.'),
  })
  .strict();

export const stageSchema = z
  .object({
    id: documented(z.string().regex(STAGE_ID, { message: 'a stage id is lowercase letters, digits, - or _ (e.g. `kickoff`)' }), 'id (a-z, 0-9, -, _)').describe('Short stage id, unique in the plan; namespaces the check-in\'s calendar UID.'),
    name: line('name').describe('Stage name shown in the timeline.'),
    goal: line('goal').optional().describe('What the stage achieves, one sentence.'),
    due: dateOrRelative.describe('Milestone date: YYYY-MM-DD or +Nd / +Nw after `start`.'),
    checkin: checkinSchema.optional().describe('The check-in tied to this milestone.'),
    tasks: z.array(taskSchema).max(200).default([]).describe('The stage\'s tasks, each with one owner.'),
  })
  .strict();

export const escalationStepSchema = z
  .object({
    after: span('after').describe('How long a task must be blocked before this step fires (3d, 1w, 36h).'),
    notify: z.array(personRef()).min(1, { message: 'an escalation step must notify someone' }).max(20).describe('Ids of the people this step notifies.'),
  })
  .strict();

export const scheduleSchema = z
  .object({
    working_hours: documented(z
      .string()
      .regex(WORKING_HOURS, { message: 'working hours are HH:MM-HH:MM, e.g. "09:00-17:00"' }), 'time range (HH:MM-HH:MM)')
      .default('09:00-17:00')
      .describe('Working hours in the plan time zone (default "09:00-17:00"). Emails and on-complete check-ins fall inside them.'),
    working_days: z.array(z.enum(WEEKDAYS)).min(1).default(['monday', 'tuesday', 'wednesday', 'thursday', 'friday']).describe('Working days (default Monday to Friday). Nothing but reply confirmations goes out on other days.'),
    digest_day: z.enum(WEEKDAYS).default('monday').describe('Weekday of the weekly digest (default monday).'),
    remind_before: span('remind_before').default('2d').describe('How long before a due date the owner is reminded (default 2d).'),
  })
  .strict();

export const successSchema = z
  .object({
    outcome: text('success.outcome').describe("The client's business result, in their words: the north star shown first everywhere."),
    criteria: z
      .array(
        z
          .object({
            metric: line('metric').describe('What is measured.'),
            target: line('target').describe('The value that counts as success.'),
            baseline: line('baseline').optional().describe('Where it stands today (optional).'),
          })
          .strict(),
      )
      .max(5)
      .default([])
      .describe('1–3 measurable criteria: `{ metric, target, baseline? }`.'),
  })
  .strict();

const planObject = z
  .object({
    client: line('client').describe('Client company name.'),
    vendor: line('vendor').describe('Your company name.'),
    title: line('title').optional().describe('Plan title (default: `<client> onboarding`).'),
    timezone: documented(z
      .string()
      .trim(), 'IANA time zone')
      .refine(isValidTimeZone, (v) => ({ message: `"${v}" is not an IANA time zone`, params: { code: 'PLAN_TIMEZONE_UNKNOWN' } }))
      .describe('IANA time zone; every date and time in the plan is read in it.'),
    start: isoDate.describe('Kickoff date (YYYY-MM-DD); `+Nd` dates count from it.'),
    golive: dateOrRelative.describe('Target go-live date: YYYY-MM-DD or +Nd / +Nw after `start`.'),
    people: z.array(personSchema).min(2, { message: 'a plan needs people on both sides' }).max(100).describe('Everyone with a part in the plan, on both sides.'),
    success: successSchema.describe('The shared definition of success.'),
    stages: z.array(stageSchema).min(1, { message: 'a plan needs at least one stage' }).max(12).describe('Milestone stages in order (3–5 recommended).'),
    escalation: z.array(escalationStepSchema).max(6).default([]).describe('Blocker escalation ladder, shortest wait first: after a task is blocked this long, notify these people.'),
    schedule: scheduleSchema.default({}).describe('When Twofold may send mail and schedule check-ins.'),
  })
  .strict();

export type PlanInput = z.input<typeof planObject>;

function checkPlan(plan: z.output<typeof planObject>, ctx: Ctx): void {
  const people = new Map<string, z.output<typeof personSchema>>();
  const emails = new Map<string, number>();
  plan.people.forEach((p, i) => {
    if (people.has(p.id)) issue(ctx, 'PLAN_ID_DUPLICATE', `person id "${p.id}" is used twice`, ['people', i, 'id']);
    people.set(p.id, p);
    if (emails.has(p.email)) issue(ctx, 'PLAN_EMAIL_DUPLICATE', `${p.email} is also people[${emails.get(p.email)}]'s email — each person needs their own address`, ['people', i, 'email']);
    emails.set(p.email, i);
    if (p.csm && p.side !== 'vendor') issue(ctx, 'PLAN_FIELD_INVALID', 'the CSM must be on the vendor side', ['people', i, 'csm']);
  });
  const known = [...people.keys()].join(', ');
  const refer = (id: string, path: (string | number)[], what: string) => {
    if (!people.has(id)) issue(ctx, 'PLAN_PERSON_UNKNOWN', `"${id}" is not a person in this plan — ${what} must be one of: ${known}`, path);
  };
  plan.people.forEach((p, i) => p.acts_for?.forEach((id, j) => refer(id, ['people', i, 'acts_for', j], 'acts_for')));

  const csms = plan.people.filter((p) => p.csm);
  if (csms.length !== 1) {
    issue(ctx, 'PLAN_CSM_COUNT', csms.length === 0 ? 'no person is marked `csm: true`' : `${csms.length} people are marked \`csm: true\` (${csms.map((p) => p.id).join(', ')}); a plan has one CSM`, ['people']);
  }
  for (const side of ['vendor', 'client'] as const) {
    if (!plan.people.some((p) => p.side === side)) issue(ctx, 'PLAN_FIELD_INVALID', `nobody is on the ${side} side — a mutual plan needs people on both sides`, ['people']);
    else if (!plan.people.some((p) => p.side === side && p.sponsor)) issue(ctx, 'PLAN_SPONSOR_MISSING', `the ${side} side has no sponsor (\`sponsor: true\`)`, ['people']);
  }

  const stageIds = new Set<string>();
  const taskIds = new Map<string, string>();
  // zod runs these rules even when a field failed its own check (a "dirty" parse); a date that
  // did not parse is already reported, so order rules only compare dates that did.
  const beforeStart = (value: string): string | undefined => {
    if (!isIsoDate(plan.start) || !isDateOrRelative(value)) return undefined;
    const date = resolveDate(value, plan.start);
    return compareIso(date, plan.start) < 0 ? date : undefined;
  };
  const early = beforeStart(plan.golive);
  if (early) issue(ctx, 'PLAN_DATE_ORDER', `golive ${early} is before start ${plan.start}`, ['golive']);
  plan.stages.forEach((stage, si) => {
    if (stageIds.has(stage.id)) issue(ctx, 'PLAN_ID_DUPLICATE', `stage id "${stage.id}" is used twice`, ['stages', si, 'id']);
    stageIds.add(stage.id);
    const stageEarly = beforeStart(stage.due);
    if (stageEarly) issue(ctx, 'PLAN_DATE_ORDER', `stage due ${stageEarly} is before the plan's start ${plan.start}`, ['stages', si, 'due']);
    stage.checkin?.attendees.forEach((id, ai) => refer(id, ['stages', si, 'checkin', 'attendees', ai], 'an attendee'));
    stage.tasks.forEach((task, ti) => {
      const at = ['stages', si, 'tasks', ti];
      const key = task.id.toLowerCase();
      if (taskIds.has(key)) issue(ctx, 'PLAN_ID_DUPLICATE', `task id "${task.id}" is already used by ${taskIds.get(key)} (ids are unique across the plan, case-insensitively)`, [...at, 'id']);
      else taskIds.set(key, `stages[${si}].tasks[${ti}]`);
      if (!people.has(task.owner)) {
        const why = NOT_ONE_OWNER.has(task.owner.toLowerCase()) || /[,/&+]| and /i.test(task.owner)
          ? `"${task.owner}" is not a person in this plan — a task needs one named owner`
          : `"${task.owner}" is not a person in this plan — a task needs one named owner (one of: ${known})`;
        issue(ctx, 'PLAN_OWNER_NOT_ONE_PERSON', why, [...at, 'owner']);
      }
      if (task.status === 'blocked' && !task.blocked) issue(ctx, 'PLAN_BLOCKED_WITHOUT_REASON', `task ${task.id} is blocked but does not say why`, [...at, 'blocked']);
      if (task.status !== 'blocked' && task.blocked) issue(ctx, 'PLAN_FIELD_INVALID', `task ${task.id} has \`blocked:\` but its status is ${task.status}`, [...at, 'blocked']);
      const taskEarly = task.due ? beforeStart(task.due) : undefined;
      if (taskEarly) issue(ctx, 'PLAN_DATE_ORDER', `task due ${taskEarly} is before the plan's start ${plan.start}`, [...at, 'due']);
      if (task.done && task.status !== 'done') issue(ctx, 'PLAN_FIELD_INVALID', `task ${task.id} has a \`done:\` date but its status is ${task.status}`, [...at, 'done']);
    });
  });
  plan.escalation.forEach((step, i) => step.notify.forEach((id, j) => refer(id, ['escalation', i, 'notify', j], 'an escalation target')));
  // A ladder climbs: "past the first step" and "past the last step" (plan health) need order.
  plan.escalation.forEach((step, i) => {
    const prev = plan.escalation[i - 1];
    if (!prev || !SPAN.test(prev.after) || !SPAN.test(step.after)) return;
    if (spanToDuration(step.after).as('hours') <= spanToDuration(prev.after).as('hours')) {
      issue(ctx, 'PLAN_FIELD_INVALID', `escalation step ${i + 1} (after ${step.after}) must wait longer than step ${i} (after ${prev.after}) — list the steps from the shortest wait to the longest`, ['escalation', i, 'after']);
    }
  });
}

/** The plan schema: shapes, then cross-field rules. */
export const planSchema = planObject.superRefine(checkPlan);

export type Plan = z.output<typeof planSchema>;
export type Person = Plan['people'][number];
export type Stage = Plan['stages'][number];
export type Task = Stage['tasks'][number];
export type TaskStatus = Task['status'];
export type Checkin = NonNullable<Stage['checkin']>;
export type EscalationStep = Plan['escalation'][number];
export type Schedule = Plan['schedule'];

/** Shapes exported for documentation (`twofold schema`). */
export const planShape = planObject;
export { RELATIVE_DATE };

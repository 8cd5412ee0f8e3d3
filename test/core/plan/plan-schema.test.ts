/**
 * The plan schema's rules, table-driven: each case changes one thing in a valid plan and names
 * the problem (code, field path, message) it must produce; warnings leave the plan valid.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatPath } from '../../../site/core/errors/problem.ts';
import { MAX_PLAN_BYTES } from '../../../site/core/plan/plan-file.ts';
import { loadPlanText, validatePlanData } from '../../../site/core/plan/plan-validate.ts';
import { INVALID_CASES, VALID_PLAN } from '../../fixtures/plans/invalid-cases.ts';

const valid = readFileSync(VALID_PLAN, 'utf8');

/** The valid fixture with `from` replaced by `to` (the case fails loudly if `from` is absent). */
function variant(from: string, to: string): string {
  if (!valid.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return valid.replace(from, to);
}

function errorsOf(text: string) {
  const result = loadPlanText(text, 'plan.md');
  if (result.ok) return [];
  return result.problems.map((p) => ({ code: p.code, path: formatPath(p.path), message: p.message, line: p.line, severity: p.severity }));
}

function warningsOf(text: string) {
  const result = loadPlanText(text, 'plan.md');
  if (!result.ok) throw new Error(`expected a valid plan, got: ${result.problems.map((p) => p.message).join('; ')}`);
  return result.value.warnings.map((p) => ({ code: p.code, path: formatPath(p.path), message: p.message, line: p.line, severity: p.severity }));
}

describe('a valid plan', () => {
  it('loads with no errors and no warnings', () => {
    const result = loadPlanText(valid, 'three-stages.md');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.warnings).toEqual([]);
    expect(result.value.plan.stages.map((s) => s.id)).toEqual(['kickoff', 'setup', 'golive']);
  });

  it('fills in defaults: status todo, 30-minute check-ins, Monday-to-Friday working days', () => {
    const result = loadPlanText(valid);
    if (!result.ok) throw new Error('fixture invalid');
    const { plan } = result.value;
    expect(plan.stages[0]!.tasks[1]!.status).toBe('todo');
    expect(plan.stages[0]!.checkin!.minutes).toBe(30);
    expect(plan.schedule).toEqual({ working_hours: '09:00-17:00', working_days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], digest_day: 'monday', remind_before: '2d' });
  });

  it('accepts Date objects for dates, as Astro\'s YAML 1.1 loader delivers them', () => {
    const result = loadPlanText(valid);
    if (!result.ok) throw new Error('fixture invalid');
    const data = structuredClone(result.value.source.data) as Record<string, unknown>;
    data.start = new Date(Date.UTC(2026, 11, 7));
    const checked = validatePlanData(data);
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.plan.start).toBe('2026-12-07');
  });
});

describe('schema errors', () => {
  it.each([
    { name: 'a task owned by "both"', from: 'Connect the feed, owner: maya }', to: 'Connect the feed, owner: both }', code: 'PLAN_OWNER_NOT_ONE_PERSON', path: 'stages[1].tasks[1].owner', message: '"both" is not a person in this plan — a task needs one named owner' },
    { name: 'a task owned by "shared"', from: 'Connect the feed, owner: maya }', to: 'Connect the feed, owner: shared }', code: 'PLAN_OWNER_NOT_ONE_PERSON', path: 'stages[1].tasks[1].owner', message: 'a task needs one named owner' },
    { name: 'a task owned by "raj and dana"', from: 'Connect the feed, owner: maya }', to: 'Connect the feed, owner: raj and dana }', code: 'PLAN_OWNER_NOT_ONE_PERSON', path: 'stages[1].tasks[1].owner', message: '"raj and dana" is not a person' },
    { name: 'a task owned by "raj/dana"', from: 'Connect the feed, owner: maya }', to: 'Connect the feed, owner: raj/dana }', code: 'PLAN_OWNER_NOT_ONE_PERSON', path: 'stages[1].tasks[1].owner', message: '"raj/dana" is not a person' },
    { name: 'a task owned by a list', from: 'Connect the feed, owner: maya }', to: 'Connect the feed, owner: [maya, raj] }', code: 'PLAN_OWNER_NOT_ONE_PERSON', path: 'stages[1].tasks[1].owner', message: 'not a list' },
    { name: 'a task owned by someone not in people', from: 'Connect the feed, owner: maya }', to: 'Connect the feed, owner: mia }', code: 'PLAN_OWNER_NOT_ONE_PERSON', path: 'stages[1].tasks[1].owner', message: '(one of: maya, ken, raj, dana)' },
    { name: 'a task without an owner', from: '{ id: T4, title: Connect the feed, owner: maya }', to: '{ id: T4, title: Connect the feed }', code: 'PLAN_FIELD_REQUIRED', path: 'stages[1].tasks[1].owner', message: '"owner" is required — a task needs one named owner' },
    { name: 'an attendee not in people', from: 'attendees: [dana, ken]', to: 'attendees: [dana, kenji]', code: 'PLAN_PERSON_UNKNOWN', path: 'stages[2].checkin.attendees[1]', message: '"kenji" is not a person in this plan' },
    { name: 'acts_for naming someone not in people', from: 'side: client }', to: 'side: client, acts_for: [dan] }', code: 'PLAN_PERSON_UNKNOWN', path: 'people[2].acts_for[0]', message: '"dan" is not a person' },
    { name: 'duplicate task ids', from: 'id: T6', to: 'id: T5', code: 'PLAN_ID_DUPLICATE', path: 'stages[2].tasks[1].id', message: 'task id "T5" is already used by stages[2].tasks[0]' },
    { name: 'task ids that differ only in case', from: 'id: T6', to: 'id: t5', code: 'PLAN_ID_DUPLICATE', path: 'stages[2].tasks[1].id', message: 'case-insensitively' },
    { name: 'duplicate stage ids', from: 'id: golive', to: 'id: setup', code: 'PLAN_ID_DUPLICATE', path: 'stages[2].id', message: 'stage id "setup" is used twice' },
    { name: 'a task id with a space', from: 'id: T6', to: 'id: "T 6"', code: 'PLAN_FIELD_INVALID', path: 'stages[2].tasks[1].id', message: 'a task id is short and typeable' },
    { name: 'an impossible date', from: 'start: 2026-12-07', to: 'start: 2026-02-30', code: 'PLAN_DATE_INVALID', path: 'start', message: '"2026-02-30" is not a calendar date' },
    { name: 'a date in words', from: 'due: +4w', to: 'due: in a month', code: 'PLAN_DATE_INVALID', path: 'stages[1].due', message: 'nor a day offset such as +7d or +2w' },
    { name: 'a negative offset', from: 'due: +4w', to: 'due: -4w', code: 'PLAN_DATE_INVALID', path: 'stages[1].due', message: '"-4w"' },
    { name: 'go-live before start', from: 'golive: +6w', to: 'golive: 2026-12-01', code: 'PLAN_DATE_ORDER', path: 'golive', message: 'golive 2026-12-01 is before start 2026-12-07' },
    { name: 'a stage due before start', from: 'due: +4w', to: 'due: 2026-11-30', code: 'PLAN_DATE_ORDER', path: 'stages[1].due', message: "stage due 2026-11-30 is before the plan's start" },
    { name: 'an unknown time zone', from: 'timezone: America/Chicago', to: 'timezone: Mars/Olympus_Mons', code: 'PLAN_TIMEZONE_UNKNOWN', path: 'timezone', message: '"Mars/Olympus_Mons" is not an IANA time zone' },
    { name: 'a blocked task without a reason', from: '        blocked: { reason: waiting on IT security review, since: 2026-12-09 }\n', to: '', code: 'PLAN_BLOCKED_WITHOUT_REASON', path: 'stages[1].tasks[0].blocked', message: 'task T3 is blocked but does not say why' },
    { name: 'a blocked map on a task that is not blocked', from: 'status: blocked', to: 'status: todo', code: 'PLAN_FIELD_INVALID', path: 'stages[1].tasks[0].blocked', message: 'has `blocked:` but its status is todo' },
    { name: 'an empty blocked reason', from: 'reason: waiting on IT security review', to: 'reason: ""', code: 'PLAN_FIELD_INVALID', path: 'stages[1].tasks[0].blocked.reason', message: 'blocked.reason must not be empty' },
    { name: 'a done date on an open task', from: '{ id: T2, title: Send the checklist, owner: maya }', to: '{ id: T2, title: Send the checklist, owner: maya, done: 2026-12-08 }', code: 'PLAN_FIELD_INVALID', path: 'stages[0].tasks[1].done', message: 'has a `done:` date but its status is todo' },
    { name: 'an unknown status', from: 'status: blocked', to: 'status: waiting', code: 'PLAN_FIELD_INVALID', path: 'stages[1].tasks[0].status', message: '"waiting" is not allowed here; use one of: todo, in_progress, done, blocked' },
    { name: 'a misspelled field', from: 'owner: raj\n', to: 'ownr: raj\n', code: 'PLAN_FIELD_UNKNOWN', path: 'stages[1].tasks[0].ownr', message: 'unknown field "ownr" — did you mean "owner"?' },
    { name: 'a misspelled top-level field', from: 'golive: +6w', to: 'go_live: +6w', code: 'PLAN_FIELD_UNKNOWN', path: 'go_live', message: 'did you mean "golive"?' },
    { name: 'an unknown field with no near match', from: 'golive: +6w\n', to: 'golive: +6w\nbudget: 40000\n', code: 'PLAN_FIELD_UNKNOWN', path: 'budget', message: 'unknown field "budget"' },
    { name: 'a number where text belongs', from: 'client: Fixture Client Co', to: 'client: 42', code: 'PLAN_FIELD_TYPE', path: 'client', message: 'expected text, found a number' },
    { name: 'text where a number belongs', from: 'checkin: { when: at-due, attendees: [dana, ken] }', to: 'checkin: { when: at-due, minutes: "30", attendees: [dana, ken] }', code: 'PLAN_FIELD_TYPE', path: 'stages[2].checkin.minutes', message: 'expected a number, found text' },
    { name: 'a check-in time without a colon', from: 'at: "10:00"', to: 'at: "1000"', code: 'PLAN_FIELD_INVALID', path: 'stages[1].checkin.at', message: 'a time of day is HH:MM' },
    { name: 'missing success', from: 'success:\n  outcome: Dispatchers plan routes in one tool instead of spreadsheets.\n  criteria:\n    - { metric: Planning time per day, target: 2 h or less }\n', to: '', code: 'PLAN_FIELD_REQUIRED', path: 'success', message: '"success" is required' },
    { name: 'no CSM', from: 'side: vendor, csm: true }', to: 'side: vendor }', code: 'PLAN_CSM_COUNT', path: 'people', message: 'no person is marked `csm: true`' },
    { name: 'a client-side CSM', from: 'side: client }', to: 'side: client, csm: true }', code: 'PLAN_CSM_COUNT', path: 'people', message: '2 people are marked `csm: true`' },
    { name: 'no client sponsor', from: 'side: client, sponsor: true }', to: 'side: client }', code: 'PLAN_SPONSOR_MISSING', path: 'people', message: 'the client side has no sponsor' },
    { name: 'nobody on the client side', from: 'side: client }', to: 'side: vendor }', all: true, code: 'PLAN_FIELD_INVALID', path: 'people', message: 'nobody is on the client side' },
    { name: 'a bad email', from: 'raj@client.example', to: 'raj at client.example', code: 'PLAN_FIELD_INVALID', path: 'people[2].email', message: 'not a valid email address' },
    { name: 'a duplicate email in another case', from: 'raj@client.example', to: 'MAYA@vendor.example', code: 'PLAN_EMAIL_DUPLICATE', path: 'people[2].email', message: "maya@vendor.example is also people[0]'s email" },
    { name: 'a person id with capitals', from: '{ id: ken,', to: '{ id: Ken,', code: 'PLAN_FIELD_INVALID', path: 'people[1].id', message: 'a person id is lowercase' },
    { name: 'a span that is not a span', from: 'after: 3d', to: 'after: three days', code: 'PLAN_FIELD_INVALID', path: 'escalation[0].after', message: 'after must be a span such as 3d, 2w or 36h' },
    { name: 'a ladder that does not climb', from: 'after: 1w', to: 'after: 72h', code: 'PLAN_FIELD_INVALID', path: 'escalation[1].after', message: 'escalation step 2 (after 72h) must wait longer than step 1 (after 3d)' },
    { name: 'an escalation target not in people', from: 'notify: [maya]', to: 'notify: [legal]', code: 'PLAN_PERSON_UNKNOWN', path: 'escalation[0].notify[0]', message: 'an escalation target must be one of' },
    { name: 'a task link that runs script', from: '{ id: T4, title: Connect the feed, owner: maya }', to: '{ id: T4, title: Connect the feed, owner: maya, link: "javascript:alert(1)" }', code: 'PLAN_FIELD_INVALID', path: 'stages[1].tasks[1].link', message: 'a task link must be an http(s) or mailto URL' },
    { name: 'a task link with a data: URL', from: '{ id: T4, title: Connect the feed, owner: maya }', to: '{ id: T4, title: Connect the feed, owner: maya, link: "data:text/html,<b>x</b>" }', code: 'PLAN_FIELD_INVALID', path: 'stages[1].tasks[1].link', message: 'a task link must be an http(s) or mailto URL' },
    { name: 'a task link that is no URL', from: '{ id: T4, title: Connect the feed, owner: maya }', to: '{ id: T4, title: Connect the feed, owner: maya, link: the shared drive }', code: 'PLAN_FIELD_INVALID', path: 'stages[1].tasks[1].link', message: 'not a URL' },
    { name: 'no stages', from: valid.slice(valid.indexOf('stages:'), valid.indexOf('escalation:')), to: 'stages: []\n', code: 'PLAN_FIELD_INVALID', path: 'stages', message: 'a plan needs at least one stage' },
  ])('$name → $code at $path', ({ from, to, code, path, message, all }) => {
    const problems = errorsOf(all ? variant(from, to).replaceAll(from, to).replaceAll('side: client, sponsor', 'side: vendor, sponsor') : variant(from, to));
    expect(problems.length).toBeGreaterThan(0);
    const hit = problems.find((p) => p.code === code && p.path === path);
    expect(hit, JSON.stringify(problems, null, 2)).toBeDefined();
    expect(hit!.message).toContain(message);
    expect(hit!.severity).toBe('error');
    expect(hit!.line).toBeGreaterThan(1);
  });

  it('drops the "required" problem that a typo explains (ownr → owner), leaving one problem', () => {
    expect(errorsOf(variant('owner: raj\n', 'ownr: raj\n')).map((p) => p.code)).toEqual(['PLAN_FIELD_UNKNOWN']);
  });

  it('does not pile date-order errors on a date that does not parse', () => {
    expect(errorsOf(variant('start: 2026-12-07', 'start: yesterday')).map((p) => p.code)).toEqual(['PLAN_DATE_INVALID']);
  });

  it('lists problems in file order', () => {
    const text = variant('timezone: America/Chicago', 'timezone: Nowhere').replace('Connect the feed, owner: maya }', 'Connect the feed, owner: both }');
    const lines = errorsOf(text).map((p) => p.line!);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(lines.length).toBe(2);
  });
});

describe('schema warnings (the plan stays valid)', () => {
  const twoStages = valid.slice(0, valid.indexOf('  - id: golive')) + valid.slice(valid.indexOf('escalation:'));
  const extraStages = (n: number) =>
    Array.from({ length: n }, (_, i) => `  - id: extra${i}\n    name: Extra ${i}\n    due: +6w\n    tasks:\n      - { id: X${i}a, title: Vendor part, owner: maya }\n      - { id: X${i}b, title: Client part, owner: raj }\n`).join('');
  it.each([
    { name: 'two stages', text: twoStages, code: 'PLAN_STAGE_COUNT', path: 'stages', message: 'the plan has 2 stages; 3 to 5' },
    { name: 'six stages', text: valid.replace('escalation:', `${extraStages(3)}escalation:`), code: 'PLAN_STAGE_COUNT', path: 'stages', message: 'the plan has 6 stages' },
    { name: 'a stage with client tasks only', text: variant('owner: ken }', 'owner: dana }'), code: 'PLAN_STAGE_ONE_SIDED', path: 'stages[2].tasks', message: 'every task of stage "golive" is owned by the client side' },
    { name: 'a check-in that invites no client', text: variant('attendees: [raj, ken]', 'attendees: [ken]'), code: 'PLAN_CHECKIN_ONE_SIDED', path: 'stages[1].checkin.attendees', message: 'only invites the vendor side' },
    { name: 'no measurable criterion', text: variant('  criteria:\n    - { metric: Planning time per day, target: 2 h or less }\n', ''), code: 'PLAN_NO_MEASURABLE_CRITERION', path: 'success', message: 'no measurable criterion' },
    { name: 'a blocker with no since date', text: variant(', since: 2026-12-09', ''), code: 'PLAN_BLOCKED_WITHOUT_SINCE', path: 'stages[1].tasks[0].blocked', message: 'cannot age or escalate' },
    { name: 'a FILL IN placeholder', text: variant('name: Raj Patel', 'name: "FILL IN: client IT lead"'), code: 'PLAN_PLACEHOLDER_LEFT', path: 'people[2].name', message: '"FILL IN: client IT lead" still needs filling in' },
  ])('$name → $code', ({ text, code, path, message }) => {
    const warnings = warningsOf(text);
    const hit = warnings.find((w) => w.code === code);
    expect(hit, JSON.stringify(warnings, null, 2)).toBeDefined();
    expect(hit!.path).toBe(path);
    expect(hit!.message).toContain(message);
    expect(hit!.severity).toBe('warning');
  });

  it('does not warn about a check-in that lists only client people (the CSM organizes it)', () => {
    expect(warningsOf(variant('attendees: [raj, ken]', 'attendees: [raj]'))).toEqual([]);
  });
});

describe('invalid plan fixtures (one problem each)', () => {
  it.each(INVALID_CASES)('$name → $code at line $line', ({ file, code, line, path, message }) => {
    const result = loadPlanText(readFileSync(file, 'utf8'), file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const [first] = result.problems;
    expect(first).toMatchObject({ code, line, file, severity: 'error' });
    expect(formatPath(first!.path)).toBe(path);
    expect(first!.message).toContain(message);
    // One problem, or (for hostile YAML) several of the same kind: never a cascade of others.
    expect(new Set(result.problems.map((p) => p.code))).toEqual(new Set([code]));
  });
});

describe('hostile input', () => {
  it('refuses a file over the size limit before parsing it', () => {
    const big = `---\nclient: x\n---\n${'x'.repeat(MAX_PLAN_BYTES + 1)}`;
    const result = loadPlanText(big, 'big.md');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.code)).toEqual(['PLAN_TOO_LARGE']);
  });

  it.each([
    { name: 'ten thousand nested lists', yaml: `client: ${'['.repeat(10_000)}${']'.repeat(10_000)}` },
    { name: 'ten thousand nested maps', yaml: `client: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}` },
    { name: 'deep block indentation', yaml: Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1' },
  ])('refuses $name without recursing (no stack overflow)', ({ yaml }) => {
    const result = loadPlanText(`---\n${yaml}\n---\n`, 'deep.md');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.code)).toEqual(['PLAN_YAML_HOSTILE']);
  });

  it.each([
    { name: '!!binary', value: '!!binary aGVsbG8=' },
    { name: '!!set', value: '!!set { a, b }' },
    { name: '!!str (any explicit tag)', value: '!!str Fixture' },
  ])('refuses the $name tag', ({ value }) => {
    const problems = errorsOf(variant('client: Fixture Client Co', `client: ${value}`));
    expect(problems.map((p) => p.code)).toEqual(['PLAN_YAML_HOSTILE']);
    expect(problems[0]!.line).toBe(2);
  });

  it('does not pollute Object.prototype through a __proto__ key', () => {
    errorsOf(variant('success:\n', '__proto__: { polluted: true }\nsuccess:\n'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not treat a "constructor" task title as special', () => {
    expect(warningsOf(variant('title: Sign off', 'title: constructor'))).toEqual([]);
  });
});

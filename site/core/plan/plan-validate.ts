/**
 * Parse, validate, warn: the three named steps that turn a plan file's text into a typed Plan
 * or a list of problems, each with a line and a field path. Pure: the caller reads the file.
 */
import type { ZodIssue } from 'zod';
import { isErrorCode, type ErrorCode } from '../errors/error-catalog.ts';
import { problem, type Problem } from '../errors/problem.ts';
import { lineOfKey, lineOfPath, parsePlanSource, type PlanSource } from './plan-file.ts';
import { planSchema, planShape, type Plan } from './plan-schema.ts';
import { planWarnings } from './plan-warnings.ts';

export interface LoadedPlan {
  plan: Plan;
  source: PlanSource;
  /** Warnings only; a LoadedPlan has no errors. */
  warnings: Problem[];
}

export type LoadResult = { ok: true; value: LoadedPlan } | { ok: false; problems: Problem[] };

/** Validate a plan file's text. `file` is only used to label problems. */
export function loadPlanText(text: string, file?: string): LoadResult {
  const parsed = parsePlanSource(text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map((p) => (file ? { ...p, file } : p)) };
  return validatePlanSource(parsed.source, file);
}

/** Validate a plan already parsed (the worker re-uses the parse that checked an edit). */
export function validatePlanSource(source: PlanSource, file?: string): LoadResult {
  const label = (p: Problem): Problem => (file ? { ...p, file } : p);
  const result = planSchema.safeParse(source.data);
  if (!result.success) {
    const problems = explainedByTypos(dedupe(result.error.issues.flatMap((i) => issueToProblems(i, source))));
    return { ok: false, problems: byLine(problems).map(label) };
  }
  const warnings = byLine(planWarnings(result.data).map((w) => ({ ...w, line: lineOfPath(source, w.path ?? []) }))).map(label);
  return { ok: true, value: { plan: result.data, source, warnings } };
}

/** Validate already-parsed data (Astro hands the content collection's data over). */
export function validatePlanData(data: unknown): { ok: true; plan: Plan } | { ok: false; problems: Problem[] } {
  const result = planSchema.safeParse(data);
  if (result.success) return { ok: true, plan: result.data };
  return { ok: false, problems: result.error.issues.flatMap((i) => issueToProblems(i)) };
}

function issueToProblems(issue: ZodIssue, source?: PlanSource): Problem[] {
  const path = issue.path;
  const line = source ? lineOfPath(source, path) : undefined;
  const at = (code: ErrorCode, message: string, extra: Partial<Problem> = {}): Problem =>
    problem(code, message, { path, ...(line ? { line } : {}), ...extra });

  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const suggestion = suggestField(path, key);
        return problem('PLAN_FIELD_UNKNOWN', `unknown field "${key}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`, {
          path: [...path, key],
          ...(source ? { line: lineOfKey(source, path, key) } : {}),
        });
      });
    case 'invalid_type': {
      const field = String(path[path.length - 1] ?? 'plan');
      if (issue.received === 'undefined') return [at('PLAN_FIELD_REQUIRED', `"${field}" is required${field === 'owner' ? ' — a task needs one named owner' : ''}`, hintFor(path))];
      if (field === 'owner') return [at('PLAN_OWNER_NOT_ONE_PERSON', issue.message.startsWith('a task needs') ? issue.message : 'a task needs one named owner: give the id of one person')];
      return [at('PLAN_FIELD_TYPE', `expected ${describeType(issue.expected)}, found ${describeType(issue.received)}`)];
    }
    case 'invalid_enum_value':
      return [at('PLAN_FIELD_INVALID', `"${String(issue.received)}" is not allowed here; use one of: ${issue.options.join(', ')}`)];
    case 'invalid_union': {
      // Our unions are `string | Date`: report the branch that explains the most.
      const inner = issue.unionErrors.flatMap((e) => e.issues).find((i) => i.code !== 'invalid_type') ?? issue.unionErrors[0]?.issues[0];
      if (inner && inner.path.length >= path.length) return issueToProblems(inner, source);
      return [at('PLAN_FIELD_TYPE', 'expected text (such as a date in YYYY-MM-DD)')];
    }
    case 'custom': {
      const code = typeof issue.params?.code === 'string' && isErrorCode(issue.params.code) ? issue.params.code : 'PLAN_FIELD_INVALID';
      return [at(code, issue.message)];
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_string':
      return [at('PLAN_FIELD_INVALID', issue.message)];
    default:
      return [at('PLAN_FIELD_INVALID', issue.message)];
  }
}

function hintFor(path: (string | number)[]): Partial<Problem> {
  const field = path[path.length - 1];
  if (field === 'success') return { hint: 'Add `success: { outcome: <the client\'s result in their words>, criteria: [{ metric, target }] }`.' };
  if (field === 'timezone') return { hint: 'Add `timezone: America/Chicago` (any IANA zone name).' };
  return {};
}

function describeType(t: string): string {
  const names: Record<string, string> = { string: 'text', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a map of fields', undefined: 'nothing', null: 'nothing (null)', date: 'a date' };
  return names[t] ?? t;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.code}|${(p.path ?? []).join('.')}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * `ownr: raj` makes two problems: unknown field "ownr" (did you mean "owner"?) and "owner" is
 * required. The first says it all; drop the required-field problem the typo explains.
 */
function explainedByTypos(problems: Problem[]): Problem[] {
  const suggested = new Set<string>();
  for (const p of problems) {
    if (p.code !== 'PLAN_FIELD_UNKNOWN' || !p.path || p.path.length === 0) continue;
    const parent = p.path.slice(0, -1);
    const field = suggestField(parent, String(p.path[p.path.length - 1]));
    if (field) suggested.add(pathKey([...parent, field]));
  }
  return problems.filter((p) => !(p.code === 'PLAN_FIELD_REQUIRED' && suggested.has(pathKey(p.path ?? []))));
}

function pathKey(path: ReadonlyArray<string | number>): string {
  return path.map(String).join('\u0000');
}

/** Problems in file order (stable, so problems on one line keep zod's order). */
function byLine(problems: Problem[]): Problem[] {
  return problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i).map(({ p }) => p);
}

/** The field names allowed at a path, for "did you mean" suggestions. */
function fieldsAt(path: (string | number)[]): string[] {
  let shape: any = planShape;
  for (const part of path) {
    shape = unwrap(shape);
    if (typeof part === 'number') shape = shape?._def?.type ?? shape?.element;
    else shape = shape?.shape?.[part];
  }
  shape = unwrap(shape);
  return shape?.shape ? Object.keys(shape.shape) : [];
}

function unwrap(schema: any): any {
  let s = schema;
  while (s && (s._def?.innerType || s._def?.schema)) s = s._def.innerType ?? s._def.schema;
  return s;
}

function suggestField(path: (string | number)[], key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const field of fieldsAt(path)) {
    const d = editDistance(key.toLowerCase(), field.toLowerCase());
    if (d < bestDistance) {
      best = field;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

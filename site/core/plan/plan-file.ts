/**
 * The plan file round trip: split frontmatter from body, parse the YAML with the `yaml` Document
 * API (keeping source ranges for line numbers and surgical edits), refuse hostile YAML, and
 * rewrite only the bytes of the fields that change. Comments, key order, quoting and the body
 * stay byte-identical; every edit is verified by re-parsing.
 */
import { type Document, isAlias, isMap, isScalar, LineCounter, parseDocument, Parser, visit, type Node, type Pair, type YAMLMap } from 'yaml';
import jsYaml from 'js-yaml';
import { problem, TwofoldError, type Problem, type ProblemPath } from '../errors/problem.ts';

/** Plans are hand-written text; anything bigger is a mistake or an attack. */
export const MAX_PLAN_BYTES = 1_000_000;
/** A plan nests about six levels (plan → stages → stage → tasks → task → blocked). */
export const MAX_YAML_DEPTH = 24;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface PlanSource {
  /** Whole file text. */
  text: string;
  /** Offset of the first character of the YAML inside `text`. */
  yamlStart: number;
  yamlEnd: number;
  /** Line number (1-based) of the first YAML line. */
  yamlFirstLine: number;
  body: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** Plain JS value of the frontmatter (before schema validation). */
  data: unknown;
}

export type ParseResult = { ok: true; source: PlanSource } | { ok: false; problems: Problem[] };

const FRONTMATTER_OPEN = /^\uFEFF?---[ \t]*\r?\n/;
const FRONTMATTER_CLOSE = /^---[ \t]*$/m;

/** Parse a plan file's frontmatter. Never throws on bad input: returns problems with lines. */
export function parsePlanSource(text: string): ParseResult {
  const bytes = text.length > MAX_PLAN_BYTES / 3 ? new TextEncoder().encode(text).length : text.length;
  if (bytes > MAX_PLAN_BYTES) {
    return { ok: false, problems: [problem('PLAN_TOO_LARGE', `the file is ${bytes} bytes; the limit is ${MAX_PLAN_BYTES}`)] };
  }
  const open = FRONTMATTER_OPEN.exec(text);
  if (!open) return { ok: false, problems: [problem('PLAN_NO_FRONTMATTER', 'the file does not start with a `---` line', { line: 1 })] };
  const yamlStart = open[0].length;
  FRONTMATTER_CLOSE.lastIndex = 0;
  const rest = text.slice(yamlStart);
  const close = FRONTMATTER_CLOSE.exec(rest);
  if (!close) return { ok: false, problems: [problem('PLAN_NO_FRONTMATTER', 'the frontmatter is never closed: add a `---` line after the plan fields', { line: 1 })] };
  const yamlEnd = yamlStart + close.index;
  const afterClose = yamlEnd + close[0].length;
  const body = text.slice(afterClose).replace(/^\r?\n/, '');
  const yamlText = text.slice(yamlStart, yamlEnd);
  const yamlFirstLine = 2;

  if (mayNestDeeply(yamlText) && collectionDepth(yamlText) > MAX_YAML_DEPTH) {
    return { ok: false, problems: [problem('PLAN_YAML_HOSTILE', `the frontmatter nests lists and maps more than ${MAX_YAML_DEPTH} levels deep`, { line: yamlFirstLine })] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false, strict: true });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line + yamlFirstLine - 1;

  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((err) =>
        problem('PLAN_YAML_SYNTAX', yamlMessage(err.message), { line: lineAt(err.pos[0]) }),
      ),
    };
  }
  // One problem per kind (alias, anchor, tag, key): a billion-laughs file has hundreds.
  const hostile = new Map<string, { first: Problem; more: number }>();
  const refuse = (kind: string, message: string, offset: number | undefined) => {
    const seen = hostile.get(kind);
    if (seen) seen.more++;
    else hostile.set(kind, { first: problem('PLAN_YAML_HOSTILE', message, { line: lineAt(offset ?? 0) }), more: 0 });
  };
  visit(doc, {
    Alias(_key, node) {
      refuse('alias', `YAML alias *${node.source} is not allowed in a plan`, node.range?.[0]);
    },
    Node(_key, node) {
      if ('anchor' in node && node.anchor) refuse('anchor', `YAML anchor &${node.anchor} is not allowed in a plan`, node.range?.[0]);
      // The parser sets `tag` only for tags written in the source (implicit scalars have none),
      // and `!!binary`, `!!set`, `!!js/function`… would change what the plan data is: refuse all.
      if (node.tag) refuse('tag', `YAML tag ${shortTag(node.tag)} is not allowed in a plan`, node.range?.[0]);
    },
    Pair(_key, pair) {
      if (isScalar(pair.key) && typeof pair.key.value === 'string' && FORBIDDEN_KEYS.has(pair.key.value)) {
        refuse('key', `the key "${pair.key.value}" is not allowed in a plan`, pair.key.range?.[0]);
      } else if (pair.key !== null && !isScalar(pair.key)) {
        refuse('complex-key', 'complex (non-scalar) keys are not allowed in a plan', (pair.key as Node).range?.[0]);
      }
    },
  });
  if (hostile.size > 0) {
    const problems = [...hostile.values()].map(({ first, more }) => (more ? { ...first, message: `${first.message} (and ${more} more like it)` } : first));
    return { ok: false, problems: problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    return { ok: false, problems: [problem('PLAN_FIELD_TYPE', 'the frontmatter must be a map of plan fields (`client: …`, `people: …`)', { line: yamlFirstLine })] };
  }
  const data = doc.toJS({ maxAliasCount: 0 }) ?? {};
  return { ok: true, source: { text, yamlStart, yamlEnd, yamlFirstLine, body, doc, lineCounter, data } };
}

function shortTag(tag: string): string {
  return tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag;
}

/**
 * How deeply collections nest, measured on the parser's token tree without recursion. The
 * composer recurses once per level, so a file of ten thousand `[` must be refused before it.
 */
/**
 * A cheap look for what could nest deeply: long indentation, many list/map markers on one line,
 * or deep brackets. Hand-written plans never do; only text that does pays for the exact count.
 */
function mayNestDeeply(yamlText: string): boolean {
  if (/^[ \t]{40,}\S/m.test(yamlText) || /(?:[-?:][ \t]+){8,}/.test(yamlText)) return true;
  let depth = 0;
  for (let i = 0; i < yamlText.length; i++) {
    const c = yamlText.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > 8) return true;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return false;
}

function collectionDepth(yamlText: string): number {
  let max = 0;
  const stack: { token: unknown; depth: number }[] = [];
  for (const token of new Parser().parse(yamlText)) stack.push({ token, depth: 0 });
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (token === null || typeof token !== 'object') continue;
    const type = (token as { type?: unknown }).type;
    const d = type === 'block-map' || type === 'block-seq' || type === 'flow-collection' ? depth + 1 : depth;
    if (d > max) max = d;
    if (d > MAX_YAML_DEPTH) return d;
    for (const value of Object.values(token)) if (value !== null && typeof value === 'object') stack.push({ token: value, depth: d });
  }
  return max;
}

function yamlMessage(raw: string): string {
  const first = raw.split('\n')[0] ?? raw;
  return first.replace(/ at line \d+, column \d+.*$/, '').replace(/:$/, '');
}

/** The line of the field at `path`, or of its nearest existing ancestor. */
export function lineOfPath(source: PlanSource, path: ProblemPath): number {
  for (let n = path.length; n >= 0; n--) {
    const node = nodeAt(source.doc, path.slice(0, n));
    const offset = node?.range?.[0];
    if (offset !== undefined) return source.lineCounter.linePos(offset).line + source.yamlFirstLine - 1;
  }
  return source.yamlFirstLine;
}

/** The line of a key inside the map at `path` (for "unknown field" problems). */
export function lineOfKey(source: PlanSource, path: ProblemPath, key: string): number {
  const map = nodeAt(source.doc, path);
  if (isMap(map)) {
    const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
    const offset = (pair?.key as Node | undefined)?.range?.[0];
    if (offset !== undefined) return source.lineCounter.linePos(offset).line + source.yamlFirstLine - 1;
  }
  return lineOfPath(source, path);
}

function nodeAt(doc: Document, path: ProblemPath): Node | undefined {
  if (path.length === 0) return (doc.contents ?? undefined) as Node | undefined;
  const node = doc.getIn(path as (string | number)[], true);
  return node && typeof node === 'object' && 'range' in node ? (node as Node) : undefined;
}

// ── surgical edits ─────────────────────────────────────────────────────────────────────────

export type PlanEdit =
  | { op: 'set'; path: (string | number)[]; value: string | number | boolean | Record<string, string> }
  | { op: 'delete'; path: (string | number)[] };

interface Splice {
  start: number;
  end: number;
  text: string;
  seq: number;
}

/**
 * Apply edits to a plan file's text, touching only the bytes of the affected fields. Values are
 * scalars or a flat map of scalars (`blocked: { reason, since }`), written in flow style.
 * Throws PLAN_EDIT_CONFLICT when the result would not parse back to exactly the intended data.
 */
export function editPlanText(text: string, edits: PlanEdit[]): string {
  const { text: next, data } = editPlanSource(text, edits);
  // Off the hot path, also read the result back with the parser that reads plans.
  const check = parsePlanSource(next);
  if (!check.ok || !deepEqual(check.source.data, data)) {
    throw new TwofoldError('PLAN_EDIT_CONFLICT', 'editing the plan in place would have changed more than the intended fields; the file was left as it was', {
      hint: 'Check the plan file for unusual YAML around the task and edit it by hand.',
    });
  }
  return next;
}

/**
 * editPlanText for callers that already hold the parse of `text` (the worker's plan cache): the
 * edit is checked by parsing the result with js-yaml (a second, independent parser, ten times
 * faster than the Document parse the edit itself needs) and the checked data comes back, so the
 * worker validates the new plan without parsing it again.
 */
export function editPlanSource(text: string, edits: PlanEdit[], parsedBefore?: PlanSource): { text: string; data: unknown } {
  let source = parsedBefore?.text === text ? parsedBefore : undefined;
  if (!source) {
    const parsed = parsePlanSource(text);
    if (!parsed.ok) throw new TwofoldError('PLAN_EDIT_CONFLICT', `the plan does not parse, so it cannot be edited: ${parsed.problems[0]?.message ?? 'unknown problem'}`);
    source = parsed.source;
  }
  const yamlText = text.slice(source.yamlStart, source.yamlEnd);
  const expected = structuredClone(source.data) as Record<string, unknown>;
  const splices: Splice[] = [];
  edits.forEach((edit, seq) => {
    applyToValue(expected, edit);
    splices.push(...spliceFor(source.doc, yamlText, edit, seq));
  });
  // Apply from the end so earlier offsets stay valid; inserts at one point keep their order.
  splices.sort((a, b) => b.start - a.start || b.seq - a.seq);
  let out = yamlText;
  for (const s of splices) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  const next = text.slice(0, source.yamlStart) + out + text.slice(source.yamlEnd);

  // The original passed the hostile-YAML checks and the splices only add plain or quoted
  // scalars, so the core schema (no tags, no timestamps) reads the result exactly as `yaml` does.
  let data: unknown;
  try {
    data = jsYaml.load(out, { schema: jsYaml.CORE_SCHEMA }) ?? {};
  } catch {
    data = undefined;
  }
  if (data === undefined || !deepEqual(data, expected)) {
    throw new TwofoldError('PLAN_EDIT_CONFLICT', 'editing the plan in place would have changed more than the intended fields; the file was left as it was', {
      hint: 'Check the plan file for unusual YAML around the task and edit it by hand.',
    });
  }
  return { text: next, data };
}

function applyToValue(root: Record<string, unknown>, edit: PlanEdit): void {
  const parentPath = edit.path.slice(0, -1);
  const key = edit.path[edit.path.length - 1]!;
  let parent: any = root;
  for (const part of parentPath) parent = parent?.[part];
  if (parent === null || typeof parent !== 'object') throw new TwofoldError('PLAN_EDIT_CONFLICT', `no field at ${parentPath.join('.')}`);
  if (edit.op === 'delete') delete parent[key];
  else parent[key] = typeof edit.value === 'object' ? { ...edit.value } : edit.value;
}

function spliceFor(doc: Document.Parsed, yamlText: string, edit: PlanEdit, seq: number): Splice[] {
  const parentPath = edit.path.slice(0, -1);
  const key = edit.path[edit.path.length - 1]!;
  const parent = parentPath.length ? doc.getIn(parentPath, true) : doc.contents;
  if (!isMap(parent)) throw new TwofoldError('PLAN_EDIT_CONFLICT', `the field ${parentPath.join('.')} is not a map`);
  const flow = Boolean(parent.flow);
  const pairIndex = parent.items.findIndex((p) => isScalar(p.key) && p.key.value === key);
  const pair = pairIndex >= 0 ? parent.items[pairIndex] : undefined;

  if (edit.op === 'delete') {
    if (!pair) return [];
    return [{ ...deletePairRange(yamlText, parent, pairIndex, flow), text: '', seq }];
  }

  if (pair && pair.value && !isAlias(pair.value)) {
    const node = pair.value as Node;
    const [start, end] = node.range!;
    // A block value spanning lines is replaced up to its last content character.
    const valueEnd = trimEndOffset(yamlText, start, end);
    return [{ start, end: valueEnd, text: formatValue(edit.value, true), seq }];
  }
  if (pair) throw new TwofoldError('PLAN_EDIT_CONFLICT', `the field ${String(key)} has no value to replace`);
  return [insertPair(yamlText, parent, String(key), edit.value, flow, seq)];
}

function trimEndOffset(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && /\s/.test(text[e - 1]!)) e--;
  return e;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}
function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl;
}

function pairEnd(pair: Pair): number {
  const v = pair.value as Node | null;
  const k = pair.key as Node;
  return v?.range ? v.range[1] : k.range![1];
}

function deletePairRange(text: string, map: YAMLMap, index: number, flow: boolean): { start: number; end: number } {
  const pair = map.items[index]!;
  const keyStart = (pair.key as Node).range![0];
  const valueEnd = trimEndOffset(text, keyStart, pairEnd(pair));
  if (flow) {
    if (index > 0) {
      const prevEnd = trimEndOffset(text, 0, pairEnd(map.items[index - 1]!));
      return { start: prevEnd, end: valueEnd };
    }
    const next = map.items[index + 1];
    return { start: keyStart, end: next ? (next.key as Node).range![0] : valueEnd };
  }
  // Block map: remove whole lines, from the key's line to the end of the value's last line.
  return { start: lineStart(text, keyStart), end: Math.min(text.length, lineEnd(text, valueEnd) + 1) };
}

function insertPair(text: string, map: YAMLMap, key: string, value: PlanEdit & { op: 'set' } extends { value: infer V } ? V : never, flow: boolean, seq: number): Splice {
  const last = map.items[map.items.length - 1];
  if (flow) {
    const entry = `${key}: ${formatValue(value, true)}`;
    if (!last) {
      const open = map.range![0];
      return { start: open + 1, end: open + 1, text: ` ${entry} `, seq };
    }
    const at = trimEndOffset(text, 0, pairEnd(last));
    return { start: at, end: at, text: `, ${entry}`, seq };
  }
  if (!last) throw new TwofoldError('PLAN_EDIT_CONFLICT', `cannot add ${key} to an empty block map`);
  const keyStart = (map.items[0]!.key as Node).range![0];
  const indent = ' '.repeat(keyStart - lineStart(text, keyStart));
  const at = lineEnd(text, trimEndOffset(text, 0, pairEnd(last)));
  return { start: at, end: at, text: `\n${indent}${key}: ${formatValue(value, false)}`, seq };
}

const PLAIN_SAFE = /^[A-Za-z0-9][A-Za-z0-9 _.\/@()+'-]*[A-Za-z0-9._)'-]$|^[A-Za-z0-9]$/;
const AMBIGUOUS = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

/** A scalar as YAML: plain when unambiguous in any context, otherwise double-quoted. */
export function formatScalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  if (PLAIN_SAFE.test(value) && !AMBIGUOUS.test(value) && !/^[-+]?[0-9.]+$/.test(value) && !value.includes(': ') && !value.includes(' #')) return value;
  return JSON.stringify(value);
}

function formatValue(value: string | number | boolean | Record<string, string>, _inFlow: boolean): string {
  if (typeof value === 'object') {
    const inner = Object.entries(value).map(([k, v]) => `${k}: ${formatScalar(v)}`).join(', ');
    return `{ ${inner} }`;
  }
  return formatScalar(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as any)[k], (b as any)[k]));
}


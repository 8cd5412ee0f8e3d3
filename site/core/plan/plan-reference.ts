/**
 * The plan-format reference, generated from the zod schema's shapes and descriptions so the
 * docs cannot drift from what `twofold check` accepts. `twofold schema` prints it; the README's
 * "Plan format" section holds a copy that a test compares with this output.
 */
import { z } from 'zod';
import { DOC_TYPE, planShape } from './plan-schema.ts';

export interface FieldDoc {
  /** `stages[].tasks[].owner` */
  path: string;
  type: string;
  required: boolean;
  /** The default as YAML would write it, when the field has one. */
  default?: string;
  description: string;
}

interface Unwrapped {
  base: z.ZodTypeAny;
  optional: boolean;
  defaultValue?: unknown;
  description?: string;
  docType?: string;
}

/** Peel optional/default/effects wrappers, collecting what they say about the field. */
function unwrap(schema: z.ZodTypeAny): Unwrapped {
  const out: Unwrapped = { base: schema, optional: false };
  let s: z.ZodTypeAny = schema;
  for (;;) {
    out.description ??= s.description;
    out.docType ??= (s._def as Record<string, unknown>)[DOC_TYPE] as string | undefined;
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      out.optional = true;
      s = s._def.innerType;
    } else if (s instanceof z.ZodDefault) {
      if (!('defaultValue' in out)) out.defaultValue = s._def.defaultValue();
      s = s._def.innerType;
    } else if (s instanceof z.ZodEffects) {
      s = s._def.schema;
    } else {
      break;
    }
  }
  out.base = s;
  return out;
}

function typeName(u: Unwrapped): string {
  if (u.docType) return u.docType;
  const s = u.base;
  if (s instanceof z.ZodString) {
    const kinds = s._def.checks.map((c) => c.kind);
    if (kinds.includes('email')) return 'email address';
    if (kinds.includes('url')) return 'URL';
    return 'text';
  }
  if (s instanceof z.ZodNumber) {
    const min = s.minValue;
    const max = s.maxValue;
    const kind = s.isInt ? 'whole number' : 'number';
    return min !== null && max !== null ? `${kind} ${min}–${max}` : kind;
  }
  if (s instanceof z.ZodBoolean) return 'true / false';
  if (s instanceof z.ZodEnum) return `one of ${(s.options as string[]).map((o) => `\`${o}\``).join(', ')}`;
  if (s instanceof z.ZodArray) {
    const element = unwrap(s.element);
    if (element.base instanceof z.ZodObject) return 'list of maps';
    if (element.docType) return `list of ${element.docType}s`;
    if (element.base instanceof z.ZodEnum) return `list, each ${typeName(element)}`;
    return `list of ${typeName(element)}`;
  }
  if (s instanceof z.ZodObject) return 'map';
  if (s instanceof z.ZodUnion) return (s.options as z.ZodTypeAny[]).map((o) => typeName(unwrap(o))).join(' or ');
  if (s instanceof z.ZodDate) return 'date';
  return 'value';
}

function yamlValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'none' : `[${value.map(yamlValue).join(', ')}]`;
  if (typeof value === 'string') return /^[A-Za-z0-9_.-]+$/.test(value) && !/^[\d.-]+$/.test(value) ? value : `"${value}"`;
  return String(value);
}

/** Every field of the plan format, depth first, in the order the schema declares them. */
export function planFieldDocs(): FieldDoc[] {
  const out: FieldDoc[] = [];
  const walk = (shape: z.ZodRawShape, prefix: string) => {
    for (const [key, field] of Object.entries(shape)) {
      const u = unwrap(field as z.ZodTypeAny);
      const path = `${prefix}${key}`;
      const doc: FieldDoc = { path, type: typeName(u), required: !u.optional && !('defaultValue' in u), description: u.description ?? '' };
      // A map's default is its fields' defaults, listed on their own rows.
      if ('defaultValue' in u && !(u.base instanceof z.ZodObject)) doc.default = yamlValue(u.defaultValue);
      out.push(doc);
      if (u.base instanceof z.ZodObject) walk(u.base.shape, `${path}.`);
      if (u.base instanceof z.ZodArray) {
        const element = unwrap(u.base.element);
        if (element.base instanceof z.ZodObject) walk(element.base.shape, `${path}[].`);
      }
    }
  };
  walk(planShape.shape, '');
  return out;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The reference as a Markdown table (what `twofold schema` prints and the README holds). */
export function planReferenceMarkdown(): string {
  const rows = planFieldDocs().map((f) => `| \`${f.path}\` | ${cell(f.type)} | ${f.required ? 'yes' : 'no'} | ${f.default === undefined ? '' : cell(`\`${f.default}\``)} | ${cell(f.description)} |`);
  return ['| Field | Type | Required | Default | Description |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
}

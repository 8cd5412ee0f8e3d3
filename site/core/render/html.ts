/**
 * A tiny HTML template tag that escapes every interpolated value unless it is already `Html`.
 * Plan text is untrusted (a client may have typed it into an email): escaping by default is the
 * only safe default.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Value = Html | string | number | boolean | null | undefined | ReadonlyArray<Value>;

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup (the Astro-rendered narrative body). Never pass plan fields here. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** `class="a b"` from a map of conditions. */
export function classes(map: Record<string, boolean | undefined>): string {
  return Object.entries(map).filter(([, on]) => on).map(([k]) => k).join(' ');
}

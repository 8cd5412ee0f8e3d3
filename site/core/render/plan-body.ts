/**
 * The narrative body of a plan, Markdown or MDX, to HTML. One renderer for the full build (via the
 * content loader) and the worker's fast path, so both seal the same bytes.
 *
 * MDX plans are data, not code: the body is parsed as MDX but never executed. The portal
 * components (Callout, Video, FileLink, Checklist) and a safe list of HTML elements are expanded
 * here from literal attributes; ESM (`import`/`export`) and `{expressions}` are refused with a
 * line number. That keeps a plan file from running code in the build or the mail worker.
 *
 * Markdown bodies get the same promise: raw HTML in a `.md` body is shown as the text it is
 * (escaped, like every other piece of plan text), and a link or image whose URL has a scheme
 * other than http(s) or mailto (`javascript:`, `data:`, `vbscript:`) is rendered as plain text,
 * in `.md` and `.mdx` alike. The portal inserts this HTML into the page once it is decrypted.
 */
import type { Root as HastRoot, Element, ElementContent, Properties } from 'hast';
import type { Root as MdastRoot, RootContent, Parent } from 'mdast';
import rehypeStringify from 'rehype-stringify';
import remarkGfm from 'remark-gfm';
import remarkMdx from 'remark-mdx';
import remarkParse from 'remark-parse';
import remarkRehype from 'remark-rehype';
import { unified } from 'unified';
import { problem, type Problem } from '../errors/problem.ts';
import { unsafeLinkUrl as unsafeUrl } from '../plan/link-url.ts';

export type BodyKind = 'md' | 'mdx';

export interface RenderedBody {
  html: string;
  /** Problems with `line` relative to the first line of the body. */
  problems: Problem[];
}

export const PORTAL_COMPONENTS = ['Callout', 'Video', 'FileLink', 'Checklist'] as const;
const CALLOUT_TYPES = new Set(['info', 'warning', 'success']);
/** HTML elements an MDX body may use directly; anything that can run code or load content is out. */
const SAFE_ELEMENTS = new Set(['div', 'span', 'p', 'br', 'hr', 'strong', 'em', 'b', 'i', 'u', 's', 'small', 'sup', 'sub', 'mark', 'abbr', 'kbd', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'caption', 'details', 'summary', 'figure', 'figcaption', 'a', 'img', 'h2', 'h3', 'h4', 'h5', 'h6']);
const SAFE_ATTRIBUTES = new Set(['class', 'className', 'id', 'title', 'href', 'src', 'alt', 'width', 'height', 'colspan', 'rowspan', 'scope', 'open', 'lang', 'dir']);

/** Raw HTML becomes visible text; links and images with an unsafe URL become their text. */
function remarkSafeBody() {
  const clean = (parent: Parent): void => {
    const out: RootContent[] = [];
    for (const node of parent.children as RootContent[]) {
      if (node.type === 'html') out.push({ type: 'text', value: node.value });
      else if ((node.type === 'link' || node.type === 'definition') && unsafeUrl(node.url)) {
        if (node.type === 'link') out.push(...(node.children as RootContent[]));
        else out.push({ ...node, url: '#' });
      } else if (node.type === 'image' && unsafeUrl(node.url)) out.push({ type: 'text', value: node.alt ?? '' });
      else out.push(node);
    }
    parent.children = out as Parent['children'];
    for (const node of out) if ('children' in node && Array.isArray(node.children)) clean(node as Parent);
  };
  return (tree: MdastRoot) => clean(tree);
}

const markdown = unified().use(remarkParse).use(remarkGfm).use(remarkSafeBody).use(remarkRehype, { allowDangerousHtml: true }).use(rehypeStringify, { allowDangerousHtml: true }).freeze();
const mdxParser = unified().use(remarkParse).use(remarkMdx).use(remarkGfm).freeze();
const toHtml = unified().use(remarkSafeBody).use(remarkRehype, { allowDangerousHtml: true }).use(rehypeStringify, { allowDangerousHtml: true }).freeze();

/**
 * An MDX body with no JSX, expressions, ESM, autolinks or indented code parses exactly as
 * Markdown does; the Markdown pipeline is ten times faster, so such bodies take it.
 */
export function isPlainMarkdown(body: string): boolean {
  return !/[<>{}]/.test(body) && !/^(?: {4}|\t)\S/m.test(body) && !/^(?:import|export)\b/m.test(body);
}

export async function renderPlanBody(body: string, kind: BodyKind): Promise<RenderedBody> {
  if (kind === 'md' || isPlainMarkdown(body)) return { html: String(await markdown.process(body)), problems: [] };
  const problems: Problem[] = [];
  let tree: MdastRoot;
  try {
    tree = mdxParser.parse(body) as MdastRoot;
  } catch (err: any) {
    const line = err?.line ?? err?.place?.line ?? err?.place?.start?.line;
    return { html: '', problems: [problem('PLAN_BODY_INVALID', `the MDX body does not parse: ${String(err?.reason ?? err?.message ?? err).split('\n')[0]}`, line ? { line } : {})] };
  }
  tree = (await mdxParser.run(tree)) as MdastRoot;
  expandMdx(tree, problems);
  if (problems.length) return { html: '', problems };
  const hast = (await toHtml.run(tree)) as HastRoot;
  return { html: toHtml.stringify(hast), problems };
}

export function bodyKindOf(file: string): BodyKind {
  return file.endsWith('.mdx') ? 'mdx' : 'md';
}

// ── MDX expansion ──────────────────────────────────────────────────────────────────────────

type MdxNode = RootContent & { name?: string | null; attributes?: any[]; value?: string; children?: any[]; data?: any };

function expandMdx(parent: Parent, problems: Problem[]): void {
  const out: RootContent[] = [];
  for (const child of parent.children as MdxNode[]) {
    const line = child.position?.start.line;
    const at = line ? { line } : {};
    switch (child.type as string) {
      case 'mdxjsEsm':
        problems.push(problem('PLAN_BODY_INVALID', '`import`/`export` are not allowed in a plan: the portal components are available without importing them', at));
        continue;
      case 'mdxFlowExpression':
      case 'mdxTextExpression':
        if (/^\s*\/\*[\s\S]*\*\/\s*$/.test(child.value ?? '')) continue; // an MDX comment
        problems.push(problem('PLAN_BODY_INVALID', '`{…}` expressions are not allowed in a plan body; write the text out', at));
        continue;
      case 'mdxJsxFlowElement':
      case 'mdxJsxTextElement': {
        const expanded = expandElement(child, problems);
        if (expanded) {
          if ('children' in expanded && Array.isArray((expanded as Parent).children)) expandMdx(expanded as Parent, problems);
          out.push(...(Array.isArray(expanded) ? expanded : [expanded]));
        }
        continue;
      }
      default:
        if ('children' in child && Array.isArray(child.children)) expandMdx(child as Parent, problems);
        out.push(child);
    }
  }
  parent.children = out as any;
}

function attributes(node: MdxNode, problems: Problem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const at = node.position?.start.line ? { line: node.position.start.line } : {};
  for (const attr of node.attributes ?? []) {
    if (attr.type !== 'mdxJsxAttribute') {
      problems.push(problem('PLAN_BODY_INVALID', `<${node.name}>: spread attributes are not allowed`, at));
      continue;
    }
    if (attr.value === null || attr.value === undefined) out[attr.name] = true;
    else if (typeof attr.value === 'string') out[attr.name] = attr.value;
    else {
      const estree = attr.value.data?.estree;
      const value = literalOf(estree?.body?.[0]?.expression);
      if (value === NOT_LITERAL) problems.push(problem('PLAN_BODY_INVALID', `<${node.name} ${attr.name}={…}>: only literal values (text, numbers, lists of text) are allowed`, at));
      else out[attr.name] = value;
    }
  }
  return out;
}

const NOT_LITERAL = Symbol('not a literal');

/** Evaluate an estree expression only when it is a literal, an array of literals or a flat object of literals. */
function literalOf(node: any): unknown {
  if (!node) return NOT_LITERAL;
  if (node.type === 'Literal' && node.regex === undefined && typeof node.bigint === 'undefined') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis.map((q: any) => q.value.cooked).join('');
  if (node.type === 'ArrayExpression') {
    const items = node.elements.map(literalOf);
    return items.includes(NOT_LITERAL) ? NOT_LITERAL : items;
  }
  if (node.type === 'UnaryExpression' && node.operator === '-' && node.argument.type === 'Literal' && typeof node.argument.value === 'number') return -node.argument.value;
  return NOT_LITERAL;
}

function h(tagName: string, properties: Properties, children: ElementContent[] = []): Element {
  return { type: 'element', tagName, properties, children };
}
function text(value: string): ElementContent {
  return { type: 'text', value };
}

/** A node that mdast-util-to-hast turns into the given element, keeping markdown children. */
function wrapper(tagName: string, properties: Properties, children: any[], flow: boolean): any {
  return { type: flow ? 'portalBlock' : 'portalInline', data: { hName: tagName, hProperties: properties }, children };
}
/** A leaf rendered from ready-made hast. */
function leaf(el: Element, flow: boolean): any {
  return { type: flow ? 'portalBlock' : 'portalInline', data: { hName: el.tagName, hProperties: el.properties, hChildren: el.children } };
}

function expandElement(node: MdxNode, problems: Problem[]): RootContent | RootContent[] | undefined {
  const flow = node.type === 'mdxJsxFlowElement';
  const at = node.position?.start.line ? { line: node.position.start.line } : {};
  const fail = (message: string) => {
    problems.push(problem('PLAN_BODY_INVALID', message, at));
    return undefined;
  };
  if (!node.name) return node.children as RootContent[]; // <>…</> fragment
  const attrs = attributes(node, problems);
  const str = (name: string) => (typeof attrs[name] === 'string' ? (attrs[name] as string) : undefined);
  switch (node.name) {
    case 'Callout': {
      const type = str('type') ?? 'info';
      if (!CALLOUT_TYPES.has(type)) return fail(`<Callout type="${type}">: type is info, warning or success`);
      const title = str('title');
      const children = [...(title ? [{ type: 'paragraph', children: [{ type: 'strong', children: [{ type: 'text', value: title }] }] }] : []), ...(node.children ?? [])];
      return wrapper('aside', { className: ['callout', `callout-${type}`], role: 'note' }, children, true);
    }
    case 'Video': {
      const src = str('src');
      const title = str('title');
      if (!src || !title) return fail('<Video> needs src="…" (a YouTube or Vimeo link) and title="…"');
      const embed = videoEmbedUrl(src);
      if (!embed) return fail(`<Video src="${src}">: only YouTube and Vimeo links can be embedded in a portal`);
      return leaf(
        h('figure', { className: ['video'] }, [
          h('iframe', { src: embed, title, loading: 'lazy', allow: 'fullscreen; picture-in-picture', referrerPolicy: 'no-referrer' }),
          h('figcaption', {}, [h('a', { href: src, rel: ['noopener', 'noreferrer'] }, [text(title)])]),
        ]),
        true,
      );
    }
    case 'FileLink': {
      const href = str('href');
      const label = str('label');
      if (!href || !label) return fail('<FileLink> needs href="https://…" and label="…"');
      if (!/^https:\/\/[^\s]+$/.test(href)) return fail(`<FileLink href="${href}">: shared files must be https links`);
      const kind = str('kind');
      return leaf(h('p', {}, [h('a', { className: ['file-link'], href, rel: ['noopener', 'noreferrer'] }, [text(`📄 ${label}${kind ? ` (${kind})` : ''}`)])]), flow);
    }
    case 'Checklist': {
      const items = attrs.items;
      if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) return fail('<Checklist items={["…", "x done item"]} /> needs a list of text items');
      const title = str('title');
      const list = h('ul', { className: ['checklist'] }, (items as string[]).map((item) => (item.startsWith('x ') ? h('li', { className: ['checked'] }, [text(item.slice(2))]) : h('li', {}, [text(item)]))));
      return leaf(title ? h('div', { className: ['checklist-block'] }, [h('p', {}, [h('strong', {}, [text(title)])]), list]) : list, true);
    }
    default: {
      if (/^[A-Z]/.test(node.name)) return fail(`<${node.name}> is not a portal component; use one of: ${PORTAL_COMPONENTS.join(', ')}`);
      if (!SAFE_ELEMENTS.has(node.name)) return fail(`<${node.name}> is not allowed in a plan body`);
      const props: Properties = {};
      for (const [name, value] of Object.entries(attrs)) {
        if (!SAFE_ATTRIBUTES.has(name) || (typeof value !== 'string' && typeof value !== 'number' && value !== true)) return fail(`<${node.name} ${name}>: attribute not allowed in a plan body`);
        if ((name === 'href' || name === 'src') && unsafeUrl(String(value))) return fail(`<${node.name} ${name}="${String(value)}">: links must be http(s), mailto or relative`);
        props[name === 'class' ? 'className' : name] = value as string;
      }
      return wrapper(node.name, props, node.children ?? [], flow);
    }
  }
}

export function videoEmbedUrl(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    const yt = /(^|\.)youtube\.com$/.test(u.hostname) ? u.searchParams.get('v') : u.hostname === 'youtu.be' ? u.pathname.slice(1) : null;
    if (yt && /^[\w-]{6,20}$/.test(yt)) return `https://www.youtube-nocookie.com/embed/${yt}`;
    const vimeo = /(^|\.)vimeo\.com$/.test(u.hostname) ? /^\/(\d{5,12})/.exec(u.pathname)?.[1] : undefined;
    if (vimeo) return `https://player.vimeo.com/video/${vimeo}`;
  } catch {
    // not a URL
  }
  return undefined;
}

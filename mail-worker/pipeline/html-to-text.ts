/**
 * A small, safe HTML→text converter for the HTML part of a reply, and the place where quoted
 * history is cut out of HTML-only replies (Outlook, Gmail, Apple Mail, Thunderbird, Yahoo,
 * Spark). It never runs scripts or fetches anything: markup becomes a tree of elements and text,
 * the tree becomes lines. Every step is linear in the input, and the input, the nesting depth
 * and the end-tag search are bounded, so hostile HTML costs at most a few milliseconds.
 *
 * Cutting follows how the clients mark the quote:
 * - containers that hold the quote: Gmail `.gmail_quote`, Yahoo `.yahoo_quoted`, Apple Mail and
 *   Thunderbird `<blockquote type="cite">` with `.moz-cite-prefix`, Spark/Exchange
 *   `<div name="messageReplySection">`, ProtonMail `.protonmail_quote`, Zoho `.zmail_extra`;
 * - markers after which everything is the original: Outlook `#divRplyFwdMsg`, `#appendonsend`,
 *   `.OutlookMessageHeader`, `#mail-editor-reference-message-container`, Zimbra `<hr id="zwchr">`,
 *   and Outlook desktop's header block, a div with a solid top border whose text starts "From:"
 *   (or "Von:", "De :", "От:"…).
 * When the reply text comes before the marker (top-posting, the usual case) everything from the
 * marker on is dropped. When nothing comes before it (bottom-posting), only a quote container is
 * skipped and the text after it is kept. Signature blocks clients mark (Outlook `#Signature`,
 * Gmail `.gmail_signature`, Thunderbird `.moz-signature`, Spark `messageSignatureSection`) and
 * plain `<blockquote>`s are skipped wherever they are.
 */
import { decodeEntities } from './html-entities.ts';

/** Only the top of a long HTML thread can hold the reply; the rest is history. */
export const MAX_HTML_CHARS = 512 * 1024;
/** Deeper nesting is flattened (real mail stays far below; hostile input does not). */
const MAX_DEPTH = 200;

export interface HtmlText {
  text: string;
  /** True when quoted history was cut out. */
  cut: boolean;
}

/** The whole HTML as text, nothing cut. */
export function htmlToText(html: string): string {
  return render(parseHtml(html), false).text;
}

/** The reply part of an HTML body as text, with the quoted history cut out. */
export function htmlReplyToText(html: string): HtmlText {
  return render(parseHtml(html), true);
}

// ── tree ───────────────────────────────────────────────────────────────────────────────────

interface ElementNode {
  tag: string;
  attrs: Map<string, string>;
  children: HtmlNode[];
}
type HtmlNode = ElementNode | string;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'keygen', 'frame']);
// Elements whose content is not markup: skipped to their end tag.
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'template', 'xml', 'svg', 'math', 'object']);
// A new one of these closes an open one of the same group (p after p, li after li, td after td).
const IMPLIED_END: Record<string, readonly string[]> = {
  p: ['p'],
  li: ['li'],
  dt: ['dt', 'dd'],
  dd: ['dt', 'dd'],
  tr: ['tr', 'td', 'th'],
  td: ['td', 'th'],
  th: ['td', 'th'],
  option: ['option'],
};

function parseHtml(input: string): ElementNode {
  const html = input.length > MAX_HTML_CHARS ? input.slice(0, MAX_HTML_CHARS) : input;
  const root: ElementNode = { tag: '#root', attrs: new Map(), children: [] };
  const stack: ElementNode[] = [root];
  const top = () => stack[stack.length - 1] ?? root;
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      top().children.push(html.slice(i));
      break;
    }
    if (lt > i) top().children.push(html.slice(i, lt));
    i = lt;
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const next = html.charCodeAt(i + 1);
    if (next === 0x21 /* ! */ || next === 0x3f /* ? */) {
      const end = html.indexOf('>', i + 2);
      i = end < 0 ? n : end + 1;
      continue;
    }
    const closing = next === 0x2f; /* / */
    const nameStart = closing ? i + 2 : i + 1;
    let j = nameStart;
    while (j < n && isNameChar(html.charCodeAt(j))) j++;
    if (j === nameStart || !isLetter(html.charCodeAt(nameStart))) {
      top().children.push('<');
      i += 1;
      continue;
    }
    const tag = html.slice(nameStart, j).toLowerCase();
    const { attrs, end, selfClosing } = readAttributes(html, j);
    i = end;
    if (closing) {
      closeElement(stack, tag);
      continue;
    }
    if (RAW_TEXT.has(tag)) {
      if (!selfClosing) {
        const close = indexOfCaseInsensitive(html, `</${tag}`, i);
        i = close < 0 ? n : Math.max(i, html.indexOf('>', close) + 1 || n);
      }
      continue;
    }
    const implied = IMPLIED_END[tag];
    if (implied && implied.includes(top().tag)) stack.pop();
    const element: ElementNode = { tag, attrs, children: [] };
    top().children.push(element);
    if (!VOID.has(tag) && !selfClosing && stack.length < MAX_DEPTH) stack.push(element);
  }
  return root;
}

function closeElement(stack: ElementNode[], tag: string): void {
  for (let k = stack.length - 1; k > 0; k--) {
    if (stack[k]?.tag === tag) {
      stack.length = k;
      return;
    }
  }
  // an end tag with no open element of that name is ignored, as browsers do
}

/** Reads attributes from `start` (just after the tag name) to the closing `>`. Linear, no regex. */
function readAttributes(html: string, start: number): { attrs: Map<string, string>; end: number; selfClosing: boolean } {
  const attrs = new Map<string, string>();
  const n = html.length;
  let i = start;
  let selfClosing = false;
  while (i < n) {
    const c = html[i];
    if (c === '>') return { attrs, end: i + 1, selfClosing };
    if (c === '/' && html[i + 1] === '>') return { attrs, end: i + 2, selfClosing: true };
    if (c === undefined || isSpace(c) || c === '/') {
      i++;
      continue;
    }
    let k = i;
    while (k < n && !isSpace(html[k] ?? ' ') && html[k] !== '=' && html[k] !== '>' && html[k] !== '/') k++;
    const name = html.slice(i, Math.max(k, i + 1)).toLowerCase();
    i = Math.max(k, i + 1);
    while (i < n && isSpace(html[i] ?? '')) i++;
    let value = '';
    if (html[i] === '=') {
      i++;
      while (i < n && isSpace(html[i] ?? '')) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        value = html.slice(i + 1, close < 0 ? n : close);
        i = close < 0 ? n : close + 1;
      } else {
        let e = i;
        while (e < n && !isSpace(html[e] ?? ' ') && html[e] !== '>') e++;
        value = html.slice(i, e);
        i = e;
      }
    }
    if (!attrs.has(name) && attrs.size < 64) attrs.set(name, decodeEntities(value));
  }
  return { attrs, end: n, selfClosing };
}

/** Index of the end tag `needle` (`</style`) at or after `from`, ignoring case; -1 when absent. */
function indexOfCaseInsensitive(html: string, needle: string, from: number): number {
  let pos = from;
  while (pos < html.length) {
    const hit = html.indexOf('</', pos);
    if (hit < 0) return -1;
    if (html.slice(hit, hit + needle.length).toLowerCase() === needle) return hit;
    pos = hit + 2;
  }
  return -1;
}

// ── quote markers ──────────────────────────────────────────────────────────────────────────

type Marker = 'container' | 'rest' | 'signature';

const CONTAINER_CLASSES = ['gmail_quote', 'gmail_quote_container', 'yahoo_quoted', 'moz-cite-prefix', 'protonmail_quote', 'zmail_extra'];
const REST_IDS = ['divrplyfwdmsg', 'x_divrplyfwdmsg', 'appendonsend', 'x_appendonsend', 'mail-editor-reference-message-container', 'zwchr', 'outlookmessageheader'];
const REST_CLASSES = ['outlookmessageheader'];
// Signature blocks clients mark: skipped wherever they stand (Outlook, Gmail, Thunderbird, Spark).
const SIGNATURE_IDS = ['signature', 'x_signature', 'divtagdefaultwrapper_signature'];
const SIGNATURE_CLASSES = ['gmail_signature', 'moz-signature', 'x_gmail_signature'];
const HEADER_LABEL = /^\s*(?:from|von|de|van|fra|från|da|od|от|від|lähettäjä|feladó|kimden|nadawca|expéditeur|remitente|mittente|afzender|avsändare|remetente|差出人|送信者|发件人|寄件者|보낸 사람)\s*[:：]/iu;

function markerOf(el: ElementNode): Marker | undefined {
  const classes = (el.attrs.get('class') ?? '').toLowerCase().split(/\s+/);
  const id = (el.attrs.get('id') ?? '').toLowerCase();
  if (REST_IDS.includes(id) || classes.some((c) => REST_CLASSES.includes(c))) return 'rest';
  if (classes.some((c) => CONTAINER_CLASSES.includes(c))) return 'container';
  if (SIGNATURE_IDS.includes(id) || classes.some((c) => SIGNATURE_CLASSES.includes(c))) return 'signature';
  const name = (el.attrs.get('name') ?? '').toLowerCase();
  if (name === 'messagesignaturesection' || (el.attrs.get('data-smartmail') ?? '').toLowerCase() === 'gmail_signature') return 'signature';
  if (el.tag === 'blockquote' && (el.attrs.get('type') ?? '').toLowerCase() === 'cite') return 'container';
  // A plain blockquote (webmails quoting, or Gmail's Indent) is skipped where it stands, like a
  // signature: what it holds never acts, and the reply's lines after it still do.
  if (el.tag === 'blockquote') return 'signature';
  if (name === 'messagereplysection') return 'container';
  const style = (el.attrs.get('style') ?? '').toLowerCase();
  if ((el.tag === 'div' || el.tag === 'p') && /border-top(?:-style)?\s*:[^;]*solid/.test(style) && HEADER_LABEL.test(textStart(el))) return 'rest';
  return undefined;
}

/** The first few hundred characters of an element's text, for the header-label test. */
function textStart(el: ElementNode): string {
  let out = '';
  const visit = (node: HtmlNode): void => {
    if (out.length > 200) return;
    if (typeof node === 'string') out += decodeEntities(node);
    else for (const child of node.children) visit(child);
  };
  visit(el);
  return out.replace(/\s+/g, ' ');
}

function isHidden(el: ElementNode): boolean {
  if (el.tag === 'head') return true;
  if (el.attrs.has('hidden')) return true;
  const style = (el.attrs.get('style') ?? '').toLowerCase().replace(/\s+/g, '');
  return style.includes('display:none') || style.includes('mso-hide:all') || style.includes('visibility:hidden');
}

// ── rendering ──────────────────────────────────────────────────────────────────────────────

const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'center', 'dd', 'details', 'dialog', 'dir', 'div', 'dl', 'dt', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html', 'legend', 'li', 'main',
  'menu', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'thead', 'tfoot', 'tr', 'ul', 'caption',
]);

class Lines {
  readonly done: string[] = [];
  current = '';
  /** Any non-space text written yet. */
  hasText = false;
  text(value: string, pre: boolean): void {
    if (pre) {
      const parts = value.split(/\r\n|\r|\n/);
      parts.forEach((part, k) => {
        if (k > 0) this.newline();
        this.current += part;
      });
    } else {
      const collapsed = value.replace(/[ \t\n\r\f]+/g, ' ');
      this.current += this.current === '' || this.current.endsWith(' ') ? collapsed.replace(/^ /, '') : collapsed;
    }
    if (/\S/.test(value)) this.hasText = true;
  }
  newline(): void {
    this.done.push(this.current.replace(/ +$/, ''));
    this.current = '';
  }
  /** Starts a new line unless at the start of one already. */
  breakLine(): void {
    if (this.current.trim() !== '' || /\u00a0/.test(this.current)) this.newline();
    else this.current = '';
  }
  cell(): void {
    if (this.current !== '' && !this.current.endsWith(' ')) this.current += ' ';
  }
  result(): string {
    if (this.current !== '') this.newline();
    const out: string[] = [];
    for (const line of this.done) {
      if (line.trim() === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
      out.push(line.trim() === '' ? '' : line);
    }
    while (out.length && out[out.length - 1] === '') out.pop();
    return out.join('\n');
  }
}

class StopRendering extends Error {}

function render(root: ElementNode, cutQuotes: boolean): HtmlText {
  const lines = new Lines();
  let cut = false;
  const visit = (node: HtmlNode, pre: boolean): void => {
    if (typeof node === 'string') {
      lines.text(decodeEntities(node), pre);
      return;
    }
    if (isHidden(node)) return;
    if (cutQuotes) {
      const marker = markerOf(node);
      if (marker) {
        cut = true;
        if (marker === 'signature') return; // skipped, the text after it may still be the reply's
        if (lines.hasText || marker === 'rest') throw new StopRendering();
        return; // a quote container before any reply text: skip it, keep what follows
      }
    }
    const tag = node.tag;
    if (tag === 'br') {
      lines.newline();
      return;
    }
    if (tag === 'td' || tag === 'th') lines.cell();
    const block = BLOCK.has(tag);
    if (block) lines.breakLine();
    const inPre = pre || tag === 'pre';
    for (const child of node.children) visit(child, inPre);
    if (block) lines.breakLine();
  };
  try {
    visit(root, false);
  } catch (err) {
    if (!(err instanceof StopRendering)) throw err;
  }
  return { text: lines.result(), cut };
}

function isLetter(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
}

function isNameChar(code: number): boolean {
  return isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x3a || code === 0x5f || code === 0x2e;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
}

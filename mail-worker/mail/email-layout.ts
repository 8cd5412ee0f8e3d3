/**
 * The one email renderer. Every email Twofold writes to people is a list of blocks (heading,
 * paragraph, key/value lines, tasks, a button-like link, a quoted block, reply commands, a
 * footer), rendered here to both parts of the message:
 *
 * - text/plain, written to be read and answered on a phone: lines of at most TEXT_WIDTH
 *   characters (URLs and reply addresses are never broken), blocks separated by one blank line,
 *   quoted text prefixed with "> ", the footer after the "-- " signature line (which many
 *   clients leave out when quoting, so a reply stays short);
 * - text/html, small and self-contained: inline styles only, no images, no remote content,
 *   every value escaped (site/core/render/html.ts), and links only when they are http(s) or
 *   mailto (a plan's `link:` could be `javascript:…`; it is then shown as text).
 *
 * All text is cleaned of control and bidirectional-override characters before either part is
 * written (the same cleaning as reply values, reply-command.ts).
 */
import { html, type Html } from '../../site/core/render/html.ts';
import { cleanNoteText } from '../../site/core/reply/reply-command.ts';
import { REPLY_GRAMMAR_HELP } from '../../site/core/reply/reply-grammar.ts';

/** Width of the text part: the reply grammar's help is written to it (reply-grammar.ts), and it fits a phone. */
export const TEXT_WIDTH = 40;
/** Width of the HTML part's column. */
export const HTML_MAX_WIDTH_PX = 560;

export interface EmailTask {
  id: string;
  title: string;
  /** Short facts, joined with " · ": "due Mon, Dec 7", "2 days overdue", "blocked: waiting on IT". */
  facts: readonly string[];
  /** Draws attention in the HTML part. */
  flag?: 'overdue' | 'due-soon' | 'blocked';
}

export type EmailBlock =
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: readonly string[] }
  | { kind: 'fields'; fields: ReadonlyArray<{ label: string; value: string }> }
  | { kind: 'tasks'; title?: string; tasks: readonly EmailTask[] }
  | { kind: 'button'; label: string; url: string; note?: string }
  | { kind: 'quote'; text: string; label?: string }
  /** Lines the reader copies into a reply (`done`, `T3 done`), or text quoted as written; never wrapped. */
  | { kind: 'commands'; intro?: string; lines: readonly string[] }
  | { kind: 'footer'; lines: readonly string[] };

export interface RenderedEmail {
  text: string;
  html: string;
}

/** Render blocks to the text and HTML parts. `title` is the HTML document title (the subject). */
export function renderEmail(blocks: readonly EmailBlock[], options: { title?: string } = {}): RenderedEmail {
  const textParts = blocks.map(textOf).filter((t) => t.length > 0);
  const text = `${textParts.join('\n\n')}\n`;
  const page = html`<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${clean(options.title ?? '')}</title></head><body style="margin:0;padding:0;background:#ffffff;"><div style="${STYLE.page}">${blocks.map(htmlOf)}</div></body></html>`;
  return { text, html: page.value };
}

// ── the reply grammar's own words ──────────────────────────────────────────────────────────

const HELP_PARAGRAPHS = REPLY_GRAMMAR_HELP.split('\n\n');

/** The commands a reply can hold, one per line, as the grammar's help lists them. */
export const REPLY_COMMAND_LINES: readonly string[] = HELP_PARAGRAPHS[1]!.split('\n');

/**
 * The line above the commands block of every email that can be answered. The worker reads an
 * unquoted copy of one in a reply as the start of Twofold's own email pasted back without `>`
 * (mail-worker/pipeline/quote-boundaries.ts), so its command lines are never taken as the reply.
 */
export const REPLY_INTROS = {
  task: 'Reply to this email with one line:',
  confirmation: 'Reply to this email for another update:',
  confirmationDigest: 'Reply to this email to update more tasks, one line each, starting with the task id:',
  digest: 'Reply with lines like these, each starting with a task id:',
} as const;

/** The whole grammar help, as the `help` answer sends it. */
export const GRAMMAR_HELP_TEXT = REPLY_GRAMMAR_HELP;

/** A message as a sentence: capitalised, ending with a full stop unless it has its own. */
export function sentence(text: string): string {
  const t = text.trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.?!…]$/.test(t) ? '' : '.'}`;
}

// ── text part ───────────────────────────────────────────────────────────────────────────────

function textOf(block: EmailBlock): string {
  switch (block.kind) {
    case 'heading':
      return wrap(clean(block.text)).join('\n');
    case 'paragraph':
      return paragraphs(block.text).map((p) => wrap(p).join('\n')).join('\n\n');
    case 'list':
      return block.items.flatMap((item) => wrap(clean(item), TEXT_WIDTH - 2).map((l, i) => `${i === 0 ? '-' : ' '} ${l}`)).join('\n');
    case 'fields':
      return block.fields.flatMap((f) => wrap(`${clean(f.label)}: ${clean(f.value)}`)).join('\n');
    case 'tasks': {
      const items = block.tasks.map((t) => [...wrap(`${clean(t.id)}: ${clean(t.title)}`), ...(t.facts.length ? wrap(t.facts.map((f) => clean(f)).join(' · ')) : [])].join('\n'));
      return [...(block.title ? [wrap(clean(block.title)).join('\n')] : []), ...items].join('\n\n');
    }
    case 'button': {
      const lines = [...wrap(`${clean(block.label)}:`), clean(block.url)];
      if (block.note) lines.push(...wrap(clean(block.note)));
      return lines.join('\n');
    }
    case 'quote': {
      const lines = block.label ? wrap(clean(block.label)) : [];
      for (const p of clean(block.text, true).split('\n')) lines.push(...wrap(p, TEXT_WIDTH - 2).map((l) => (l ? `> ${l}` : '>')));
      return lines.join('\n');
    }
    case 'commands':
      return [...(block.intro ? wrap(clean(block.intro)) : []), ...block.lines.map((l) => clean(l))].join('\n');
    case 'footer':
      return ['-- ', ...block.lines.flatMap((l) => wrap(clean(l)))].join('\n');
  }
}

/** Break a line at spaces so no line exceeds `width`; a longer word (a URL) stays whole. */
export function wrap(line: string, width = TEXT_WIDTH): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ').filter(Boolean)) {
    if (!current) current = word;
    else if ([...current].length + 1 + [...word].length <= width) current += ` ${word}`;
    else {
      out.push(current);
      current = word;
    }
  }
  if (current || out.length === 0) out.push(current);
  return out;
}

function paragraphs(text: string): string[] {
  return clean(text, true)
    .split(/\n{2,}/)
    .map((p) => p.replace(/\n/g, ' '))
    .filter(Boolean);
}

/** Plan and email text, without control or bidi-override characters; `lines` keeps line breaks. */
function clean(text: string, lines = false): string {
  const cleaned = cleanNoteText(String(text ?? '').replace(/\r\n?/g, '\n'));
  return lines ? cleaned : cleaned.replace(/\n+/g, ' ');
}

// ── HTML part ───────────────────────────────────────────────────────────────────────────────

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace";
const STYLE = {
  page: `max-width:${HTML_MAX_WIDTH_PX}px;margin:0 auto;padding:16px;font-family:${FONT};font-size:15px;line-height:1.5;color:#1a1a1a;`,
  heading: 'margin:0 0 12px;font-size:19px;line-height:1.3;font-weight:600;color:#111111;',
  paragraph: 'margin:0 0 14px;',
  list: 'margin:0 0 14px;padding:0 0 0 20px;',
  fields: 'margin:0 0 14px;padding:0;list-style:none;',
  label: 'color:#555555;',
  tasksTitle: 'margin:18px 0 6px;font-size:16px;font-weight:600;',
  tasks: 'margin:0 0 14px;padding:0;list-style:none;',
  task: 'margin:0 0 10px;padding:0 0 0 10px;border-left:3px solid #d0d7de;',
  taskId: `font-family:${MONO};font-weight:600;`,
  facts: 'font-size:13px;color:#555555;',
  button: 'display:inline-block;padding:10px 18px;background:#1f4b99;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;',
  buttonWrap: 'margin:6px 0 16px;',
  note: 'margin:6px 0 0;font-size:13px;color:#555555;',
  quote: 'margin:0 0 14px;padding:6px 12px;border-left:3px solid #c8c8c8;color:#444444;white-space:pre-wrap;',
  commands: `margin:4px 0 14px;padding:10px 12px;background:#f4f6f8;border-radius:6px;font-family:${MONO};font-size:14px;white-space:pre-wrap;`,
  footer: 'margin:24px 0 0;padding:12px 0 0;border-top:1px solid #e1e4e8;font-size:12px;color:#6a737d;',
  link: 'color:#1f4b99;',
};
const FLAG_COLOURS: Record<NonNullable<EmailTask['flag']>, string> = { overdue: '#c62828', 'due-soon': '#b26a00', blocked: '#6a1b9a' };

function htmlOf(block: EmailBlock): Html {
  switch (block.kind) {
    case 'heading':
      return html`<h1 style="${STYLE.heading}">${clean(block.text)}</h1>`;
    case 'paragraph':
      return html`${paragraphs(block.text).map((p) => html`<p style="${STYLE.paragraph}">${p}</p>`)}`;
    case 'list':
      return html`<ul style="${STYLE.list}">${block.items.map((item) => html`<li style="margin:0 0 4px;">${clean(item)}</li>`)}</ul>`;
    case 'fields':
      return html`<ul style="${STYLE.fields}">${block.fields.map((f) => html`<li><span style="${STYLE.label}">${clean(f.label)}:</span> ${clean(f.value)}</li>`)}</ul>`;
    case 'tasks':
      return html`${block.title ? html`<h2 style="${STYLE.tasksTitle}">${clean(block.title)}</h2>` : ''}<ul style="${STYLE.tasks}">${block.tasks.map(taskHtml)}</ul>`;
    case 'button': {
      const url = clean(block.url);
      const target = safeHref(url);
      const link = target ? html`<a href="${target}" style="${STYLE.button}">${clean(block.label)}</a>` : html`${clean(block.label)}: ${url}`;
      return html`<p style="${STYLE.buttonWrap}">${link}</p>${block.note ? html`<p style="${STYLE.note}">${clean(block.note)}</p>` : ''}`;
    }
    case 'quote':
      return html`${block.label ? html`<p style="${STYLE.paragraph}">${clean(block.label)}</p>` : ''}<blockquote style="${STYLE.quote}">${clean(block.text, true)}</blockquote>`;
    case 'commands':
      return html`${block.intro ? html`<p style="${STYLE.paragraph}">${clean(block.intro)}</p>` : ''}<pre style="${STYLE.commands}">${block.lines.map((l) => clean(l)).join('\n')}</pre>`;
    case 'footer':
      return html`<div style="${STYLE.footer}">${block.lines.map((l) => html`<p style="margin:0 0 4px;">${linkify(clean(l))}</p>`)}</div>`;
  }
}

function taskHtml(task: EmailTask): Html {
  const colour = task.flag ? `border-left-color:${FLAG_COLOURS[task.flag]};` : '';
  return html`<li style="${STYLE.task}${colour}"><span style="${STYLE.taskId}">${clean(task.id)}</span> ${clean(task.title)}${task.facts.length ? html`<br><span style="${STYLE.facts}">${task.facts.map((f) => clean(f)).join(' · ')}</span>` : ''}</li>`;
}

/** The href for a URL a person may click: http(s) and mailto only, else undefined. */
export function safeHref(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** Footer lines may hold an address or URL: make http(s) URLs clickable, escape the rest. */
function linkify(line: string): Html {
  const parts = line.split(/(https?:\/\/\S+)/g);
  return html`${parts.map((part, i) => {
    const href = i % 2 === 1 ? safeHref(part) : undefined;
    return href ? html`<a href="${href}" style="${STYLE.link}">${part}</a>` : part;
  })}`;
}


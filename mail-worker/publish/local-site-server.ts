/**
 * The local web server of `npm start`: serves dist/ (the sealed portals, exactly as a static host
 * would) and, at /outbox/, a small page listing the emails the worker wrote to the outbox, each
 * readable in the browser. Bound to localhost only.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import libmime from 'libmime';
import { simpleParser } from 'mailparser';
import { TwofoldError } from '../../site/core/errors/problem.ts';
import { escapeHtml } from '../../site/core/render/html.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};
const OUTBOX_LIMIT = 200;

export interface LocalSiteServer {
  url: string;
  close(): Promise<void>;
}

export async function startLocalSiteServer(options: { distDir: string; outboxDir: string; host?: string; port?: number }): Promise<LocalSiteServer> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    void route(req.url ?? '/', options)
      .then(({ status, type, body, file }) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
        if (file) createReadStream(file).on('error', () => res.end()).pipe(res);
        else res.end(body);
      })
      .catch(() => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
      });
  });
  const port = options.port ?? 4321;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new TwofoldError('CLI_WEB_LISTEN_FAILED', `the local web server cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${address.port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

type Reply = { status: number; type: string; body?: string; file?: string };

async function route(rawUrl: string, options: { distDir: string; outboxDir: string }): Promise<Reply> {
  const url = new URL(rawUrl, 'http://localhost');
  const pathname = decodeURIComponent(url.pathname);
  if (pathname === '/outbox' || pathname === '/outbox/') return { status: 200, type: TYPES['.html']!, body: await outboxPage(options.outboxDir) };
  const eml = /^\/outbox\/([\w.-]+\.eml)$/.exec(pathname);
  if (eml && url.searchParams.has('raw')) return { status: 200, type: TYPES['.txt']!, file: path.join(options.outboxDir, eml[1]!) };
  if (eml) return emailPage(options.outboxDir, eml[1]!);
  return staticFile(options.distDir, pathname);
}

async function staticFile(root: string, pathname: string): Promise<Reply> {
  const target = path.resolve(root, `.${pathname}`);
  if (target !== root && !target.startsWith(root + path.sep)) return notFound();
  let file = target;
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) file = path.join(file, 'index.html');
  else if (!info) return notFound(root);
  if (!(await stat(file).catch(() => undefined))?.isFile()) return notFound(root);
  return { status: 200, type: TYPES[path.extname(file)] ?? 'application/octet-stream', file };
}

async function notFound(root?: string): Promise<Reply> {
  const body = root ? await readFile(path.join(root, '404.html'), 'utf8').catch(() => 'Not found') : 'Not found';
  return { status: 404, type: TYPES['.html']!, body };
}

async function outboxPage(outboxDir: string): Promise<string> {
  const names = (await readdir(outboxDir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml')).sort().reverse().slice(0, OUTBOX_LIMIT);
  const rows: string[] = [];
  for (const name of names) {
    const head = (await readFile(path.join(outboxDir, name), 'utf8').catch(() => '')).split(/\r?\n\r?\n/)[0] ?? '';
    const header = (field: string) => {
      const m = new RegExp(`^${field}:\\s*((?:.*)(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head);
      return m ? m[1]!.replace(/\r?\n[ \t]+/g, ' ') : '';
    };
    rows.push(`<tr><td><a href="/outbox/${escapeHtml(name)}">${escapeHtml(decodeWords(header('Subject')) || '(no subject)')}</a></td><td>${escapeHtml(decodeWords(header('To')))}</td><td>${escapeHtml(header('Date'))}</td></tr>`);
  }
  return page('Outbox', `<h1>Outbox</h1><p>The emails Twofold would have sent (no SMTP relay is configured, so they are written to <code>${escapeHtml(outboxDir)}</code>). Newest first; refresh to see new ones.</p>
<table><thead><tr><th>Subject</th><th>To</th><th>Date</th></tr></thead><tbody>${rows.join('') || '<tr><td colspan="3">Nothing sent yet.</td></tr>'}</tbody></table>`);
}

async function emailPage(outboxDir: string, name: string): Promise<Reply> {
  const raw = await readFile(path.join(outboxDir, name)).catch(() => undefined);
  if (!raw) return notFound();
  const mail = await simpleParser(raw);
  const field = (label: string, value: string | undefined) => (value ? `<dt>${label}</dt><dd>${escapeHtml(value)}</dd>` : '');
  const addresses = (v: unknown) => ([] as any[]).concat(v ?? []).map((a) => a.text).join(', ');
  const body = page(mail.subject ?? name, `<p><a href="/outbox/">← Outbox</a></p><h1>${escapeHtml(mail.subject ?? '(no subject)')}</h1>
<dl>${field('From', addresses(mail.from))}${field('To', addresses(mail.to))}${field('Reply-To', addresses(mail.replyTo))}${field('Date', mail.date?.toISOString())}${field('Message-ID', mail.messageId)}</dl>
<pre>${escapeHtml(mail.text ?? '')}</pre>
<p>Attachments: ${mail.attachments.map((a) => escapeHtml(`${a.filename ?? a.contentType} (${a.size} bytes)`)).join(', ') || 'none'}</p>
<p><a href="/outbox/${escapeHtml(name)}?raw">Raw message</a></p>`);
  return { status: 200, type: TYPES['.html']!, body };
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

function page(title: string, content: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1c2430}table{border-collapse:collapse;width:100%}td,th{border-top:1px solid #d5dbe3;padding:.4rem;text-align:left;vertical-align:top}pre{white-space:pre-wrap;background:#f4f6f9;padding:1rem;border-radius:8px}dt{font-weight:600}dd{margin:0 0 .4rem}</style>
</head><body>${content}</body></html>`;
}

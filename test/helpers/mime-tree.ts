/**
 * The MIME structure of a raw message, as a tree of parts (content type, parameters, headers,
 * children). mailparser flattens a message into text, html and attachments; tests that must
 * check *where* a part sits (the calendar alternative inside the first body part) read the
 * tree from the raw bytes with this. Bodies are kept raw (still transfer-encoded).
 */
export interface MimePart {
  contentType: string;
  params: Record<string, string>;
  headers: Record<string, string>;
  children: MimePart[];
  rawBody: string;
}

export function mimeTree(raw: Buffer | string): MimePart {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const split = text.search(/\r?\n\r?\n/);
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const [type, ...rest] = (headers['content-type'] ?? 'text/plain').split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  const contentType = type!.trim().toLowerCase();
  const children: MimePart[] = [];
  if (contentType.startsWith('multipart/') && params.boundary) {
    const delimiter = `--${params.boundary}`;
    const sections = body.split(new RegExp(`(?:^|\\r?\\n)${escapeRegExp(delimiter)}`));
    for (const section of sections.slice(1)) {
      if (section.startsWith('--')) break;
      children.push(mimeTree(section.replace(/^[ \t]*\r?\n/, '')));
    }
  }
  return { contentType, params, headers, children, rawBody: body };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

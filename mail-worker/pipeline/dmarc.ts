/**
 * Optional DMARC check, read from the `Authentication-Results` header (RFC 8601) that the
 * receiving server stamps. Anyone can write that header into a message they send, so only a
 * header carrying the receiving server's own authserv-id (configured) is trusted, and only the
 * topmost such header: the receiving server prepends its own above anything the sender wrote.
 * This relies on that server removing or renaming forged headers with its id (RFC 8601 §5;
 * Postfix with OpenDMARC, Exim, Gmail and Microsoft 365 do) — if it adds none at all, a forged
 * one would be read, which is why the check is off unless an authserv-id is configured.
 *
 * The result must also be about the From domain of this message (`header.from`), so a pass for
 * some other domain in a reshuffled header does not count. Pure.
 */
import type { ErrorCode } from '../../site/core/errors/error-catalog.ts';
import type { InboundMessage } from './parse-message.ts';

export type DmarcVerdict = 'pass' | 'fail' | 'none';

export interface DmarcResult {
  verdict: DmarcVerdict;
  /** Why, in words, for the log and `mail explain`. */
  reason: string;
  /** Set when the verdict is `fail`, for the rejection. */
  code?: Extract<ErrorCode, 'MAIL_DMARC_FAIL'>;
  /** The domain the trusted result was about (`header.from`), when it says. */
  headerFrom?: string;
}

export interface DmarcOptions {
  /** The authserv-id the receiving server writes (e.g. `mx.example.com`); case-insensitive. */
  authservId: string;
}

/** Results other than pass and fail (none, neutral, temperror, permerror…) give no verdict. */
export function dmarcVerdict(message: Pick<InboundMessage, 'authenticationResults' | 'from'>, options: DmarcOptions): DmarcResult {
  const wanted = options.authservId.trim().toLowerCase();
  if (!wanted) return { verdict: 'none', reason: 'no authserv-id is configured, so no Authentication-Results header is trusted' };
  const trusted = message.authenticationResults.map(parseAuthenticationResults).find((header) => header?.authservId === wanted);
  if (!trusted) return { verdict: 'none', reason: `no Authentication-Results header from ${wanted}` };
  const dmarc = trusted.results.find((result) => result.method === 'dmarc');
  if (!dmarc) return { verdict: 'none', reason: `${wanted} reported no DMARC result` };
  const fromDomain = message.from?.address.split('@').pop()?.toLowerCase();
  const headerFrom = dmarc.properties['header.from']?.split('@').pop()?.toLowerCase();
  if (headerFrom && fromDomain && headerFrom !== fromDomain) {
    return { verdict: 'none', reason: `${wanted}'s DMARC result is about ${headerFrom}, not the From domain ${fromDomain}`, headerFrom };
  }
  const about = headerFrom ? { headerFrom } : {};
  if (dmarc.result === 'pass') return { verdict: 'pass', reason: `${wanted}: dmarc=pass`, ...about };
  if (dmarc.result === 'fail') return { verdict: 'fail', code: 'MAIL_DMARC_FAIL', reason: `${wanted}: dmarc=fail`, ...about };
  return { verdict: 'none', reason: `${wanted}: dmarc=${dmarc.result}`, ...about };
}

export interface AuthenticationResults {
  authservId: string;
  results: Array<{ method: string; result: string; properties: Record<string, string> }>;
}

/** One Authentication-Results value → authserv-id and method results, or undefined if unreadable. */
export function parseAuthenticationResults(value: string): AuthenticationResults | undefined {
  const clauses = splitClauses(stripComments(value.slice(0, 8 * 1024)));
  const head = clauses.shift()?.trim().split(/\s+/)[0];
  if (!head || head.includes('=')) return undefined;
  const results: AuthenticationResults['results'] = [];
  for (const clause of clauses) {
    const tokens = clause.trim().split(/\s+/).filter(Boolean);
    const first = /^([a-z0-9_-]+)(?:\/\d+)?=([a-z0-9_-]+)$/i.exec(tokens[0] ?? '');
    if (!first) continue; // `none` (no results) or something unreadable
    const properties: Record<string, string> = Object.create(null);
    for (const token of tokens.slice(1)) {
      const property = /^([a-z0-9_-]+\.[a-z0-9_.-]+)=(.+)$/i.exec(token);
      if (property?.[1] && property[2]) properties[property[1].toLowerCase()] = unquote(property[2]);
    }
    results.push({ method: (first[1] ?? '').toLowerCase(), result: (first[2] ?? '').toLowerCase(), properties });
  }
  return { authservId: head.toLowerCase(), results };
}

/** Removes RFC 5322 comments (nested parentheses), leaving quoted strings alone. */
function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += value.slice(i, i + 2);
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c === undefined ? '' : c;
    }
  }
  return out;
}

/** Splits on semicolons outside quoted strings. */
function splitClauses(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
}

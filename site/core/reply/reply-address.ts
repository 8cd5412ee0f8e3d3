/**
 * Reply addresses: where a reply token travels. `plus` puts it after a plus in the sending
 * mailbox (`twofold+<token>@example.com`, works with any provider that supports
 * sub-addressing); `subdomain` makes the token the whole local part of a catch-all reply domain
 * (`<token>@reply.example.com`). RFC 5321 caps the local part at 64 octets, and the token is
 * lowercase base32 so an MTA that lowercases addresses does not break it.
 */
import { TwofoldError } from '../errors/problem.ts';

export type ReplyAddressConfig = { mode: 'plus'; localPart: string; domain: string } | { mode: 'subdomain'; domain: string };

/** RFC 5321 §4.5.3.1.1. */
export const MAX_LOCAL_PART = 64;
/** Every reply token has this length (reply-token.ts). */
export const REPLY_TOKEN_LENGTH = 32;
/** The longest `localPart` that still leaves room for `+<token>`. */
export const MAX_PLUS_LOCAL_PART = MAX_LOCAL_PART - 1 - REPLY_TOKEN_LENGTH;

// A dot-atom without the characters that would need quoting, and without `+` (the separator).
const LOCAL_PART = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Why these settings cannot carry a token, or undefined when they can (for config validation). */
export function replyAddressProblem(reply: ReplyAddressConfig): string | undefined {
  if (!DOMAIN.test(reply.domain)) return `"${reply.domain.slice(0, 80)}" is not a plain domain name`;
  if (reply.mode === 'plus') {
    if (!LOCAL_PART.test(reply.localPart) || reply.localPart.includes('..')) return `"${reply.localPart.slice(0, 80)}" is not a local part that can be written without quotes (letters, digits, dots, dashes, underscores; no +)`;
    if (reply.localPart.length > MAX_PLUS_LOCAL_PART) return `the local part "${reply.localPart}" is ${reply.localPart.length} characters; with "+" and a ${REPLY_TOKEN_LENGTH}-character token it must stay within ${MAX_LOCAL_PART}, so use at most ${MAX_PLUS_LOCAL_PART}`;
  }
  return undefined;
}

/** `twofold+<token>@example.com` or `<token>@reply.example.com`. */
export function replyAddress(reply: ReplyAddressConfig, token: string): string {
  const problem = replyAddressProblem(reply);
  if (problem) throw new TwofoldError('REPLY_ADDRESS_INVALID', problem);
  if (!/^[a-z2-7]+$/.test(token)) throw new TwofoldError('REPLY_TOKEN_MALFORMED', 'a reply token is lowercase base32');
  const local = reply.mode === 'plus' ? `${reply.localPart.toLowerCase()}+${token}` : token;
  if (local.length > MAX_LOCAL_PART) throw new TwofoldError('REPLY_ADDRESS_INVALID', `the reply address local part would be ${local.length} characters; the limit is ${MAX_LOCAL_PART}`);
  return `${local}@${reply.domain.toLowerCase()}`;
}

/**
 * The token in a recipient address, or undefined when the address is not one of ours. Accepts
 * `Name <addr>` and any letter case; returns the token lowercased and unverified (a non-token
 * at our address comes back as is, for verifyReplyToken to call malformed).
 */
export function tokenFromAddress(reply: ReplyAddressConfig, address: string): string | undefined {
  if (typeof address !== 'string' || address.length > 512) return undefined;
  const angle = /<([^<>]*)>\s*$/.exec(address);
  const bare = (angle ? angle[1]! : address).trim().toLowerCase();
  const at = bare.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = bare.slice(0, at);
  const domain = bare.slice(at + 1).replace(/\.$/, '');
  if (domain !== reply.domain.toLowerCase()) return undefined;
  if (reply.mode === 'subdomain') return local || undefined;
  const prefix = `${reply.localPart.toLowerCase()}+`;
  if (!local.startsWith(prefix)) return undefined;
  return local.slice(prefix.length) || undefined;
}

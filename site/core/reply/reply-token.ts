/**
 * Signed reply tokens: the part of a Reply-To address that says which plan, task (or digest)
 * and person a reply is about, and that Twofold wrote it.
 *
 * Layout: 20 bytes, written as 32 lowercase base32 characters (RFC 4648 alphabet a–z 2–7, so
 * an MTA that lowercases addresses changes nothing, and nothing needs quoting). Fields are
 * aligned to characters:
 *
 *   chars  bits  field
 *   0      5     key version (0–31)
 *   1–4    20    expiry: last valid day, in days since 1970-01-01 (UTC)
 *   5–8    20    plan ref: first 20 bits of SHA-256("twofold-reply-ref/plan\0" + slug)
 *   9–11   15    task ref: first 15 bits of SHA-256("…/task\0" + lowercase id, or the digest marker)
 *   12–15  20    email ref: first 20 bits of SHA-256("…/email\0" + lowercase email)
 *   16–31  80    MAC: first 80 bits of HMAC-SHA256(key[version], JSON of the FULL values)
 *
 * Slugs and emails are too long to carry, so the token carries short refs and the MAC covers
 * the full values: the verifier asks its lookup for the plans with that plan ref, narrows their
 * people and tasks by the other refs (ref collisions only cost an extra HMAC), and recomputes
 * the MAC for each remaining combination. A token for plan A checked against plan B, for one
 * person checked against another, or with any character changed, fails the MAC (or the refs).
 *
 * The MAC is compared in constant time. Refs are unkeyed hashes and reveal at most 20 bits
 * about a slug or address that the holder of the email already knows.
 */
import { fromBase32, toBase32 } from '../portal/portal-encoding.ts';
import type { ErrorCode } from '../errors/error-catalog.ts';
import { TwofoldError } from '../errors/problem.ts';
import { REPLY_TOKEN_LENGTH } from './reply-address.ts';

export { REPLY_TOKEN_LENGTH, MAX_LOCAL_PART, MAX_PLUS_LOCAL_PART, replyAddress, replyAddressProblem, tokenFromAddress, type ReplyAddressConfig } from './reply-address.ts';

/** The task value of a digest token (a digest covers all of a person's open tasks). */
export const DIGEST_TASK = 'digest';
/** Default lifetime of a token: long enough for a slow onboarding, short enough to age out. */
export const REPLY_TOKEN_TTL_DAYS = 120;
export const MAX_REPLY_TOKEN_TTL_DAYS = 5 * 366;
/** HMAC-SHA256 keys shorter than this are refused. */
export const MIN_REPLY_KEY_BYTES = 32;
export const MAX_KEY_VERSION = 31;
/** Bounds the HMACs one verification may compute, whatever the lookup returns. */
export const MAX_MAC_ATTEMPTS = 64;

/** The secret store's reply-token keys: `{ <version>: key bytes }`. Old versions verify until removed. */
export type ReplyKeys = Readonly<Record<number | string, Uint8Array>>;

export interface MakeReplyTokenInput {
  keys: ReplyKeys;
  /** Default: the highest version in `keys` (the current key). */
  keyVersion?: number;
  plan: string;
  /** A task id, or DIGEST_TASK. */
  task: string;
  email: string;
  now: Date;
  /** Default REPLY_TOKEN_TTL_DAYS. */
  ttlDays?: number;
}

/** A plan the verifier knows, with everything a token for it could name. */
export interface ReplyTokenCandidate {
  plan: string;
  emails: readonly string[];
  /** Task ids as the plan spells them. */
  tasks: readonly string[];
}

/** The plans whose ref is `planRef` (see replyPlanRef); extra plans are filtered out again. */
export type ReplyTokenLookup = (planRef: string) => readonly ReplyTokenCandidate[] | Promise<readonly ReplyTokenCandidate[]>;

export type ReplyTokenErrorCode = Extract<
  ErrorCode,
  'REPLY_TOKEN_MALFORMED' | 'REPLY_TOKEN_FORGED' | 'REPLY_TOKEN_EXPIRED' | 'REPLY_TOKEN_UNKNOWN_KEY' | 'REPLY_TOKEN_UNKNOWN_PLAN'
>;

export type VerifyReplyTokenResult =
  | {
      ok: true;
      plan: string;
      /** The task id as the candidate spells it, or DIGEST_TASK. */
      task: string;
      digest: boolean;
      email: string;
      /** Last valid day (UTC), YYYY-MM-DD. */
      expires: string;
      keyVersion: number;
    }
  | {
      ok: false;
      code: ReplyTokenErrorCode;
      message: string;
      /** Only for an expired token whose MAC verified: who it was for, so the answer can carry a fresh one. */
      expired?: { plan: string; task: string; email: string };
    };

const DAY_MS = 86_400_000;
const MAC_DOMAIN = 'twofold-reply-token/1';
const REF_DOMAIN = 'twofold-reply-ref';
const TOKEN_SHAPE = new RegExp(`^[a-z2-7]{${REPLY_TOKEN_LENGTH}}$`);
const MAC_BYTES = 10;
const encoder = new TextEncoder();

export async function makeReplyToken(input: MakeReplyTokenInput): Promise<string> {
  const version = input.keyVersion ?? currentKeyVersion(input.keys);
  const key = keyFor(input.keys, version);
  if (!key) throw new TwofoldError('REPLY_TOKEN_UNKNOWN_KEY', `there is no reply-token key version ${version}`);
  const ttl = input.ttlDays ?? REPLY_TOKEN_TTL_DAYS;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_REPLY_TOKEN_TTL_DAYS) throw new TwofoldError('REPLY_KEY_INVALID', `a token lifetime of ${ttl} days is outside 0–${MAX_REPLY_TOKEN_TTL_DAYS}`);
  const digest = input.task === DIGEST_TASK;
  if (!digest && input.task.toLowerCase() === DIGEST_TASK) throw new TwofoldError('REPLY_TOKEN_MALFORMED', `a task id spelled "${input.task}" cannot get a task token: "${DIGEST_TASK}" marks digests`);
  const email = normaliseEmail(input.email);
  const expiry = dayNumber(input.now) + ttl;
  const header = await headerBytes(version, expiry, input.plan, taskKey(input.task), email);
  const mac = await macOf(key, version, expiry, input.plan, taskKey(input.task), email);
  return toBase32(concat(header, mac));
}

export async function verifyReplyToken(token: string, input: { keys: ReplyKeys; lookup: ReplyTokenLookup; now: Date }): Promise<VerifyReplyTokenResult> {
  const fail = (code: ReplyTokenErrorCode, message: string): VerifyReplyTokenResult => ({ ok: false, code, message });
  const text = typeof token === 'string' ? token.trim().toLowerCase() : '';
  if (!TOKEN_SHAPE.test(text)) return fail('REPLY_TOKEN_MALFORMED', `a reply token is ${REPLY_TOKEN_LENGTH} base32 characters`);
  const bytes = fromBase32(text);
  if (!bytes) return fail('REPLY_TOKEN_MALFORMED', 'the reply token does not decode');
  const fields = unpack(bytes);
  const key = keyFor(input.keys, fields.version);
  if (!key) return fail('REPLY_TOKEN_UNKNOWN_KEY', `the token was signed with key version ${fields.version}, which the secret store does not have`);

  const planRef = text.slice(5, 9);
  const candidates = (await input.lookup(planRef)) ?? [];
  let attempts = 0;
  let planSeen = false;
  for (const candidate of candidates) {
    if ((await refOf('plan', candidate.plan)) !== fields.planRef) continue;
    planSeen = true;
    const emails: string[] = [];
    for (const e of candidate.emails) if ((await refOf('email', normaliseEmail(e))) === fields.emailRef) emails.push(normaliseEmail(e));
    const tasks: string[] = [];
    for (const t of [...candidate.tasks, DIGEST_TASK]) if ((await refOf('task', taskKey(t))) === fields.taskRef) tasks.push(t);
    for (const email of emails) {
      for (const task of tasks) {
        if (++attempts > MAX_MAC_ATTEMPTS) return fail('REPLY_TOKEN_FORGED', 'too many candidates matched the token\'s references');
        const expected = await macOf(key, fields.version, fields.expiry, candidate.plan, taskKey(task), email);
        if (!timingSafeEqual(expected, fields.mac)) continue;
        if (dayNumber(input.now) > fields.expiry) return { ...fail('REPLY_TOKEN_EXPIRED', `the token expired on ${dayToIso(fields.expiry)}`), expired: { plan: candidate.plan, task, email } } as VerifyReplyTokenResult;
        return { ok: true, plan: candidate.plan, task, digest: task === DIGEST_TASK, email, expires: dayToIso(fields.expiry), keyVersion: fields.version };
      }
    }
  }
  if (!planSeen) return fail('REPLY_TOKEN_UNKNOWN_PLAN', 'no plan matches the token');
  return fail('REPLY_TOKEN_FORGED', 'the token does not verify against any person and task of its plan (altered, made up, or the person or task was removed)');
}

/** The 4-character plan ref a token carries; stores index plans by it for the lookup. */
export async function replyPlanRef(plan: string): Promise<string> {
  return toBase32(await sha256(`${REF_DOMAIN}/plan\0${plan}`)).slice(0, 4);
}

/** The highest key version: new tokens are signed with it. */
export function currentKeyVersion(keys: ReplyKeys): number {
  const versions = Object.keys(keys).map(Number).filter((v) => Number.isInteger(v) && v >= 0 && v <= MAX_KEY_VERSION);
  if (versions.length === 0) throw new TwofoldError('REPLY_KEY_INVALID', 'the secret store has no reply-token key');
  return Math.max(...versions);
}

// ── internals ─────────────────────────────────────────────────────────────────────────────

function keyFor(keys: ReplyKeys, version: number): Uint8Array | undefined {
  if (!Number.isInteger(version) || version < 0 || version > MAX_KEY_VERSION) return undefined;
  if (!Object.hasOwn(keys, String(version))) return undefined;
  const key = keys[version];
  if (!(key instanceof Uint8Array) || key.length < MIN_REPLY_KEY_BYTES) {
    throw new TwofoldError('REPLY_KEY_INVALID', `reply-token key version ${version} is ${key instanceof Uint8Array ? `${key.length} bytes` : 'not bytes'}; it needs at least ${MIN_REPLY_KEY_BYTES}`);
  }
  return key;
}

function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function taskKey(task: string): string {
  return task === DIGEST_TASK ? '\0digest' : `task:${task.toLowerCase()}`;
}

function dayNumber(instant: Date): number {
  return Math.floor(instant.getTime() / DAY_MS);
}

function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** The first `bits` bits of a domain-separated SHA-256, as a number. */
/** Refs are unkeyed digests of public values: memoised, since every verification recomputes a plan's worth. */
const refMemo = new Map<string, number>();
const MAX_REF_MEMO = 50_000;

async function refOf(kind: 'plan' | 'task' | 'email', value: string): Promise<number> {
  const input = `${REF_DOMAIN}/${kind}\0${value}`;
  const known = refMemo.get(input);
  if (known !== undefined) return known;
  const h = await sha256(input);
  const top = (h[0]! << 16) | (h[1]! << 8) | h[2]!; // 24 bits
  const ref = kind === 'task' ? top >>> 9 : top >>> 4;
  if (refMemo.size >= MAX_REF_MEMO) refMemo.clear();
  refMemo.set(input, ref);
  return ref;
}

async function headerBytes(version: number, expiry: number, plan: string, task: string, email: string): Promise<Uint8Array> {
  if (expiry >= 2 ** 20) throw new TwofoldError('REPLY_KEY_INVALID', 'the token expiry is beyond what the format holds');
  const value =
    (BigInt(version) << 75n) |
    (BigInt(expiry) << 55n) |
    (BigInt(await refOf('plan', plan)) << 35n) |
    (BigInt(await refOf('task', task)) << 20n) |
    BigInt(await refOf('email', email));
  const out = new Uint8Array(10);
  for (let i = 9, v = value; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

function unpack(bytes: Uint8Array): { version: number; expiry: number; planRef: number; taskRef: number; emailRef: number; mac: Uint8Array } {
  let value = 0n;
  for (let i = 0; i < 10; i++) value = (value << 8n) | BigInt(bytes[i]!);
  const bits = (shift: bigint, width: bigint) => Number((value >> shift) & ((1n << width) - 1n));
  return { version: bits(75n, 5n), expiry: bits(55n, 20n), planRef: bits(35n, 20n), taskRef: bits(20n, 15n), emailRef: bits(0n, 20n), mac: bytes.slice(10, 20) };
}

/** Imported HMAC keys by their bytes: importing costs more than the MAC itself. */
const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(key: Uint8Array): Promise<CryptoKey> {
  const id = key.join(',');
  let imported = hmacKeys.get(id);
  if (!imported) {
    imported = globalThis.crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    if (hmacKeys.size > 64) hmacKeys.clear();
    hmacKeys.set(id, imported);
  }
  return imported;
}

async function macOf(key: Uint8Array, version: number, expiry: number, plan: string, task: string, email: string): Promise<Uint8Array> {
  const cryptoKey = await hmacKey(key);
  // JSON keeps the fields unambiguous whatever characters they hold.
  const message = encoder.encode(JSON.stringify([MAC_DOMAIN, version, expiry, plan, task, email]));
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', cryptoKey, message)).slice(0, MAC_BYTES);
}

/** Constant-time comparison of two equal-length byte strings. */
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

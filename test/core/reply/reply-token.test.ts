import { describe, expect, it } from 'vitest';
import {
  DIGEST_TASK,
  MAX_LOCAL_PART,
  MAX_MAC_ATTEMPTS,
  REPLY_TOKEN_LENGTH,
  REPLY_TOKEN_TTL_DAYS,
  makeReplyToken,
  replyAddress,
  replyAddressProblem,
  replyPlanRef,
  tokenFromAddress,
  verifyReplyToken,
  type ReplyKeys,
  type ReplyTokenCandidate,
} from '../../../site/core/reply/reply-token.ts';
import { EMBEDDED_IDENTITY } from '../../../mail-worker/config/mail-identity.ts';
import { isTwofoldError } from '../../../site/core/errors/problem.ts';

const key = (fill: number) => new Uint8Array(32).fill(fill).map((b, i) => (b + i * 7) & 0xff);
const KEYS: ReplyKeys = { 1: key(11), 2: key(22) };
const NOW = new Date('2026-12-07T15:00:00Z');

const ACME: ReplyTokenCandidate = { plan: 'acme-logistics', emails: ['raj@acme.example', 'lena@acme.example', 'maya@northwind.example'], tasks: ['T1', 'T2', 'review'] };
const BETA: ReplyTokenCandidate = { plan: 'beta-freight', emails: ['raj@acme.example', 'lena@acme.example', 'maya@northwind.example'], tasks: ['T1', 'T2', 'review'] };
const PLANS = [ACME, BETA];

/** The lookup a store would implement: plans indexed by their ref. */
const lookup = async (ref: string) => {
  const out: ReplyTokenCandidate[] = [];
  for (const p of PLANS) if ((await replyPlanRef(p.plan)) === ref) out.push(p);
  return out;
};
const verify = (token: string, options: { keys?: ReplyKeys; now?: Date; lookup?: (ref: string) => Promise<ReplyTokenCandidate[]> | ReplyTokenCandidate[] } = {}) =>
  verifyReplyToken(token, { keys: options.keys ?? KEYS, lookup: options.lookup ?? lookup, now: options.now ?? NOW });
const make = (over: Partial<Parameters<typeof makeReplyToken>[0]> = {}) => makeReplyToken({ keys: KEYS, plan: 'acme-logistics', task: 'T2', email: 'raj@acme.example', now: NOW, ...over });

describe('reply tokens', () => {
  it('round-trips plan, task, person and expiry, signed with the newest key', async () => {
    const token = await make();
    expect(token).toMatch(new RegExp(`^[a-z2-7]{${REPLY_TOKEN_LENGTH}}$`));
    expect(token[0]).toBe('c'); // key version 2 is base32 "c"
    expect(await verify(token)).toEqual({ ok: true, plan: 'acme-logistics', task: 'T2', digest: false, email: 'raj@acme.example', expires: '2027-04-06', keyVersion: 2 });
  });

  it('round-trips a digest token', async () => {
    const token = await make({ task: DIGEST_TASK, email: 'Lena@ACME.example' });
    expect(await verify(token)).toMatchObject({ ok: true, plan: 'acme-logistics', task: DIGEST_TASK, digest: true, email: 'lena@acme.example' });
  });

  it('matches task ids case-insensitively and answers with the plan spelling', async () => {
    expect(await verify(await make({ task: 'REVIEW' }))).toMatchObject({ ok: true, task: 'review' });
  });

  it('carries the plan ref in characters 5–8, for the lookup', async () => {
    const token = await make();
    expect(token.slice(5, 9)).toBe(await replyPlanRef('acme-logistics'));
  });

  it('survives an MTA that uppercases or lowercases the address', async () => {
    const token = await make();
    expect(await verify(token.toUpperCase())).toMatchObject({ ok: true, task: 'T2' });
  });

  it('is refused when any character is changed', async () => {
    const token = await make();
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    for (let i = 0; i < token.length; i++) {
      for (const shift of [1, 16]) {
        const replaced = alphabet[(alphabet.indexOf(token[i]!) + shift) % 32]!;
        const tampered = token.slice(0, i) + replaced + token.slice(i + 1);
        const result = await verify(tampered);
        expect(result.ok, `position ${i} → ${replaced}`).toBe(false);
      }
    }
  });

  it('names why a tampered MAC fails', async () => {
    const token = await make();
    const tampered = token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a');
    expect(await verify(tampered)).toMatchObject({ ok: false, code: 'REPLY_TOKEN_FORGED' });
  });

  it.each([
    { name: 'empty', token: '' },
    { name: 'too short', token: 'abc' },
    { name: 'one character too long', token: 'a'.repeat(REPLY_TOKEN_LENGTH + 1) },
    { name: 'digits outside base32', token: '0189'.repeat(8) },
    { name: 'punctuation', token: `${'a'.repeat(REPLY_TOKEN_LENGTH - 1)}!` },
    { name: 'not a string', token: 42 as unknown as string },
  ])('a malformed token ($name) is REPLY_TOKEN_MALFORMED', async ({ token }) => {
    expect(await verify(token)).toMatchObject({ ok: false, code: 'REPLY_TOKEN_MALFORMED' });
  });

  it('expires after its last valid day, not before', async () => {
    const token = await make();
    const lastDay = new Date(NOW.getTime() + REPLY_TOKEN_TTL_DAYS * 86_400_000);
    expect(await verify(token, { now: new Date(Date.UTC(lastDay.getUTCFullYear(), lastDay.getUTCMonth(), lastDay.getUTCDate(), 23, 59)) })).toMatchObject({ ok: true });
    expect(await verify(token, { now: new Date(lastDay.getTime() + 86_400_000) })).toEqual({
      ok: false,
      code: 'REPLY_TOKEN_EXPIRED',
      message: 'the token expired on 2027-04-06',
      // A genuine but expired token still says whose it was, so the answer can carry a fresh one.
      expired: { plan: 'acme-logistics', task: 'T2', email: 'raj@acme.example' },
    });
    expect(await verify(await make({ ttlDays: 7 }), { now: new Date('2026-12-15T00:00:00Z') })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_EXPIRED' });
  });

  it('an unknown key version is REPLY_TOKEN_UNKNOWN_KEY; rotation keeps old versions verifiable', async () => {
    const old = await make({ keys: { 1: KEYS[1]! } });
    expect(old[0]).toBe('b');
    expect(await verify(old, { keys: { 2: KEYS[2]! } })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_UNKNOWN_KEY' });
    expect(await verify(old, { keys: KEYS })).toMatchObject({ ok: true, keyVersion: 1 });
    expect((await make())[0]).toBe('c');
  });

  it('a different key under the same version is forged', async () => {
    const token = await make();
    expect(await verify(token, { keys: { 1: KEYS[1]!, 2: key(99) } })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_FORGED' });
  });

  it('is bound to its plan: plan B\'s data does not verify a plan A token', async () => {
    const token = await make();
    // A lookup that ignores the ref and offers only plan B, with the same people and task ids.
    expect(await verify(token, { lookup: () => [BETA] })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_UNKNOWN_PLAN' });
    // Plan B relabelled with plan A's slug but other people: refused by the MAC.
    expect(await verify(token, { lookup: () => [{ ...BETA, plan: 'acme-logistics', emails: ['mallory@evil.example'] }] })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_FORGED' });
    expect(await verify(token, { lookup: () => [] })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_UNKNOWN_PLAN' });
    // Both plans on offer: the token picks its own.
    expect(await verify(token, { lookup: () => [BETA, ACME] })).toMatchObject({ ok: true, plan: 'acme-logistics' });
  });

  it('is bound to its person: the same plan with another email does not verify', async () => {
    const token = await make({ email: 'raj@acme.example' });
    expect(await verify(token, { lookup: () => [{ ...ACME, emails: ['lena@acme.example', 'maya@northwind.example'] }] })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_FORGED' });
  });

  it('is bound to its task: a removed task does not verify, and a task token is not a digest token', async () => {
    const token = await make({ task: 'T2' });
    expect(await verify(token, { lookup: () => [{ ...ACME, tasks: ['T1', 'review'] }] })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_FORGED' });
    expect(await verify(await make({ task: DIGEST_TASK }))).toMatchObject({ ok: true, digest: true });
  });

  it('bounds the work a hostile lookup can cause', async () => {
    const token = await make();
    const many = Array.from({ length: 500 }, () => ({ ...ACME, emails: Array(100).fill('raj@acme.example'), tasks: Array(100).fill('T2') }));
    const result = await verify(token, { lookup: () => many });
    // The first combination verifies; the cap only matters when none does.
    expect(result.ok).toBe(true);
    const forged = token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a');
    const started = performance.now();
    expect(await verify(forged, { lookup: () => many })).toMatchObject({ ok: false, code: 'REPLY_TOKEN_FORGED' });
    expect(performance.now() - started).toBeLessThan(MAX_MAC_ATTEMPTS * 50);
  });

  it('refuses keys shorter than 32 bytes', async () => {
    const error = await make({ keys: { 1: new Uint8Array(16) } }).catch((e: unknown) => e);
    expect(isTwofoldError(error) && error.code).toBe('REPLY_KEY_INVALID');
  });

  it('stays 32 characters, and the address within 64 before the @, for the longest slug, email and task id', async () => {
    const slug = `a${'b'.repeat(61)}z`;
    const email = `${'x'.repeat(64)}@${'sub.'.repeat(45)}example.com`;
    const task = 'Tabcdefghijk';
    const plan = { plan: slug, emails: [email], tasks: [task] };
    const token = await make({ plan: slug, email, task });
    expect(token).toHaveLength(REPLY_TOKEN_LENGTH);
    const address = replyAddress({ mode: 'plus', localPart: 'twofold', domain: 'twofold.example' }, token);
    expect(address.split('@')[0]!.length).toBeLessThanOrEqual(MAX_LOCAL_PART);
    expect(await verify(token, { lookup: () => [plan] })).toMatchObject({ ok: true, plan: slug, email, task });
  });
});

describe('reply addresses', () => {
  it('plus mode: <localPart>+<token>@<domain>, 40 characters before the @', async () => {
    const token = await make();
    const address = replyAddress(EMBEDDED_IDENTITY.reply, token);
    expect(address).toBe(`twofold+${token}@twofold.localhost`);
    expect(address.indexOf('@')).toBe(40);
    expect(tokenFromAddress(EMBEDDED_IDENTITY.reply, address)).toBe(token);
  });

  it('subdomain mode: <token>@<domain>', async () => {
    const reply = { mode: 'subdomain' as const, domain: 'reply.northwind.example' };
    const token = await make();
    const address = replyAddress(reply, token);
    expect(address).toBe(`${token}@reply.northwind.example`);
    expect(tokenFromAddress(reply, address)).toBe(token);
  });

  it.each([
    { name: 'uppercased by an MTA', transform: (a: string) => a.toUpperCase() },
    { name: 'with a display name', transform: (a: string) => `"Twofold" <${a}>` },
    { name: 'with a trailing dot on the domain', transform: (a: string) => `${a}.` },
    { name: 'with surrounding spaces', transform: (a: string) => `  ${a} ` },
  ])('survives the address being $name, and the token still verifies', async ({ transform }) => {
    const token = await make();
    const found = tokenFromAddress(EMBEDDED_IDENTITY.reply, transform(replyAddress(EMBEDDED_IDENTITY.reply, token)));
    expect(found).toBe(token);
    expect(await verify(found!)).toMatchObject({ ok: true });
  });

  it.each([
    { name: 'another domain', address: 'twofold+abc@evil.example' },
    { name: 'another local part', address: 'other+abc@twofold.localhost' },
    { name: 'no token', address: 'twofold@twofold.localhost' },
    { name: 'an empty token', address: 'twofold+@twofold.localhost' },
    { name: 'no @', address: 'twofold+abc' },
    { name: 'a huge string', address: `twofold+${'a'.repeat(10_000)}@twofold.localhost` },
  ])('is not ours: $name', ({ address }) => {
    expect(tokenFromAddress(EMBEDDED_IDENTITY.reply, address)).toBeUndefined();
  });

  it.each([
    { name: 'a local part too long for the token', reply: { mode: 'plus' as const, localPart: 'x'.repeat(32), domain: 'a.example' }, match: /at most 31/ },
    { name: 'a local part with a plus', reply: { mode: 'plus' as const, localPart: 'two+fold', domain: 'a.example' }, match: /without quotes/ },
    { name: 'a local part needing quotes', reply: { mode: 'plus' as const, localPart: 'two fold', domain: 'a.example' }, match: /without quotes/ },
    { name: 'a domain with a space', reply: { mode: 'subdomain' as const, domain: 'reply example.com' }, match: /not a plain domain/ },
  ])('refuses settings with $name', async ({ reply, match }) => {
    expect(replyAddressProblem(reply)).toMatch(match);
    const token = await make();
    expect(() => replyAddress(reply, token)).toThrow(match);
  });

  it('accepts the longest local part that fits', async () => {
    const reply = { mode: 'plus' as const, localPart: 'x'.repeat(31), domain: 'a.example' };
    expect(replyAddressProblem(reply)).toBeUndefined();
    expect(replyAddress(reply, await make()).indexOf('@')).toBe(MAX_LOCAL_PART);
  });
});

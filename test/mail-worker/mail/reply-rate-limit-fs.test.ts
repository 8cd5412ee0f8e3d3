/**
 * Rate limits of answers and CSM notices: sliding windows per recipient, per plan's CSM and in
 * all, kept in one state file that concurrent senders share.
 */
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csmRateKey, decide, emptyRateState, LIMITS, openReplyRateLimit, RATE_STATE_FILE, senderRateKey, type RateKey } from '../../../mail-worker/mail/reply-rate-limit-fs.ts';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const MIN = 60_000;
let stateDir: string;

beforeEach(async () => {
  stateDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'twofold-rate-')), 'state');
});
afterEach(async () => {
  await rm(path.dirname(stateDir), { recursive: true, force: true });
});

const at = (minutes: number) => new Date(T0 + minutes * MIN);

describe('the reply rate limit', () => {
  it.each<{ name: string; sends: Array<[number, RateKey, boolean]> }>([
    {
      name: 'three answers an hour to one address, the window sliding',
      sends: [
        [0, senderRateKey('raj@acme.example'), true],
        [1, senderRateKey('raj@acme.example'), true],
        [2, senderRateKey('RAJ@acme.example '), true],
        [3, senderRateKey('raj@acme.example'), false],
        [59, senderRateKey('raj@acme.example'), false],
        [60, senderRateKey('raj@acme.example'), true], // the 0-minute send left the window
        [60.5, senderRateKey('raj@acme.example'), false],
        [61, senderRateKey('raj@acme.example'), true],
        [200, senderRateKey('raj@acme.example'), true],
      ],
    },
    {
      name: 'addresses counted apart',
      sends: [
        [0, senderRateKey('a@x.example'), true],
        [0, senderRateKey('a@x.example'), true],
        [0, senderRateKey('a@x.example'), true],
        [0, senderRateKey('a@x.example'), false],
        [0, senderRateKey('b@x.example'), true],
      ],
    },
    {
      name: 'a clock set back still counts the sends stamped "later"',
      sends: [
        [30, senderRateKey('a@x.example'), true],
        [31, senderRateKey('a@x.example'), true],
        [32, senderRateKey('a@x.example'), true],
        [0, senderRateKey('a@x.example'), false],
      ],
    },
  ])('$name', async ({ sends }) => {
    const limit = openReplyRateLimit({ stateDir });
    const got: boolean[] = [];
    for (const [minute, key] of sends) got.push(await limit.shouldSend(key, at(minute)));
    expect(got).toEqual(sends.map(([, , expected]) => expected));
  });

  it(`allows ${LIMITS.csm} notices an hour to one plan's CSM, each plan apart`, async () => {
    const limit = openReplyRateLimit({ stateDir });
    const acme: boolean[] = [];
    for (let i = 0; i < LIMITS.csm + 5; i++) acme.push(await limit.shouldSend(csmRateKey('acme'), at(i)));
    expect(acme.filter(Boolean)).toHaveLength(LIMITS.csm);
    expect(acme.slice(0, LIMITS.csm).every(Boolean)).toBe(true);
    expect(await limit.shouldSend(csmRateKey('globex'), at(30))).toBe(true);
  });

  it(`caps everything together at ${LIMITS.all} an hour: a flood from many forged addresses stays a trickle`, () => {
    const state = emptyRateState();
    const decisions = Array.from({ length: 500 }, (_, i) => decide(state, senderRateKey(`forged-${i}@evil.example`), T0 + i * 1000));
    expect(decisions.filter(Boolean)).toHaveLength(LIMITS.all);
    expect(Object.values(state.sends).flat().length).toBe(2 * LIMITS.all); // each allowed send, plus the "all" tally
    expect(decide(state, senderRateKey('late@x.example'), T0 + 62 * MIN)).toBe(true);
    expect(Object.keys(state.sends).sort()).toEqual(['all', 'sender:late@x.example']);
  });

  it('keeps its state in one file that a new process reads', async () => {
    for (let i = 0; i < 3; i++) expect(await openReplyRateLimit({ stateDir }).shouldSend(senderRateKey('raj@acme.example'), at(i))).toBe(true);
    expect(await openReplyRateLimit({ stateDir }).shouldSend(senderRateKey('raj@acme.example'), at(10))).toBe(false);
    expect(await readdir(stateDir)).toEqual([RATE_STATE_FILE]);
    const saved = JSON.parse(await readFile(path.join(stateDir, RATE_STATE_FILE), 'utf8'));
    expect(saved.sends['sender:raj@acme.example']).toEqual([at(0).getTime(), at(1).getTime(), at(2).getTime()]);
  });

  it('lets exactly the limit through when many senders ask at the same moment', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => openReplyRateLimit({ stateDir }).shouldSend(senderRateKey('raj@acme.example'), at(0))));
    expect(results.filter(Boolean)).toHaveLength(LIMITS.sender);
  });

  it.each([
    { name: 'not JSON', content: '{"version":1,"sends":' },
    { name: 'the wrong shape', content: '{"version":1,"sends":[1,2,3]}' },
    { name: 'hostile keys and values', content: '{"version":1,"sends":{"__proto__":[1],"sender:a@x.example":["x",null,1e400]}}' },
  ])('starts over from a state file that is $name', async ({ content }) => {
    await mkdir(stateDir, { recursive: true });
    await writeFile(path.join(stateDir, RATE_STATE_FILE), content);
    expect(await openReplyRateLimit({ stateDir }).shouldSend(senderRateKey('a@x.example'), at(0))).toBe(true);
    const saved = JSON.parse(await readFile(path.join(stateDir, RATE_STATE_FILE), 'utf8'));
    expect(saved.sends['sender:a@x.example']).toEqual([at(0).getTime()]);
  });
});

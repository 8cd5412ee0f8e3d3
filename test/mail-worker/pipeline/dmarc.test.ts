import { describe, expect, it } from 'vitest';
import { dmarcVerdict, parseAuthenticationResults } from '../../../mail-worker/pipeline/dmarc.ts';

const OURS = { authservId: 'mx.twofold.example' };
const FROM = { address: 'raj@acme.example', name: 'Raj' };

const verdict = (headers: string[], from: typeof FROM | undefined = FROM) =>
  dmarcVerdict(from ? { authenticationResults: headers, from } : { authenticationResults: headers }, OURS);

describe('dmarcVerdict', () => {
  it.each([
    { name: 'pass', header: 'mx.twofold.example; dmarc=pass (p=reject dis=none) header.from=acme.example', verdict: 'pass' },
    { name: 'fail', header: 'mx.twofold.example; dkim=fail; spf=softfail smtp.mailfrom=x@y; dmarc=fail (p=none) header.from=acme.example', verdict: 'fail' },
    { name: 'the authserv-id in another case, with a version', header: 'MX.Twofold.Example 1; dmarc=pass header.from=acme.example', verdict: 'pass' },
    { name: 'a result with a method version', header: 'mx.twofold.example; dmarc/1=pass header.from=acme.example', verdict: 'pass' },
    { name: 'folded and commented', header: 'mx.twofold.example (Postfix);\r\n\tdkim=pass (2048-bit key) header.d=acme.example;\r\n\tdmarc=pass (policy=reject) header.from="acme.example"', verdict: 'pass' },
    { name: 'none', header: 'mx.twofold.example; dmarc=none header.from=acme.example', verdict: 'none' },
    { name: 'temperror', header: 'mx.twofold.example; dmarc=temperror header.from=acme.example', verdict: 'none' },
    { name: 'no DMARC result at all', header: 'mx.twofold.example; spf=pass smtp.mailfrom=acme.example', verdict: 'none' },
    { name: 'no results (none)', header: 'mx.twofold.example; none', verdict: 'none' },
  ])('reads $name as $verdict', ({ header, verdict: expected }) => {
    expect(verdict([header]).verdict).toBe(expected);
  });

  it('carries the catalog code on a failure', () => {
    expect(verdict(['mx.twofold.example; dmarc=fail header.from=acme.example'])).toEqual({
      verdict: 'fail',
      code: 'MAIL_DMARC_FAIL',
      reason: 'mx.twofold.example: dmarc=fail',
      headerFrom: 'acme.example',
    });
  });

  it('trusts only the receiving server: a pass stamped by anyone else is no verdict', () => {
    expect(verdict(['evil.example; dmarc=pass header.from=acme.example']).verdict).toBe('none');
    expect(verdict(['mx.twofold.example.evil.example; dmarc=pass header.from=acme.example']).verdict).toBe('none');
  });

  it('reads only the topmost header of the receiving server, not one the sender wrote below it', () => {
    const real = 'mx.twofold.example; dmarc=fail header.from=acme.example';
    const forged = 'mx.twofold.example; dmarc=pass header.from=acme.example';
    expect(verdict([real, forged]).verdict).toBe('fail');
  });

  it('ignores a result about another domain than the From address', () => {
    const result = verdict(['mx.twofold.example; dmarc=pass header.from=attacker.example']);
    expect(result).toMatchObject({ verdict: 'none', headerFrom: 'attacker.example' });
    expect(result.reason).toContain('not the From domain acme.example');
  });

  it('gives no verdict when no authserv-id is configured', () => {
    expect(dmarcVerdict({ authenticationResults: ['x; dmarc=fail'], from: FROM }, { authservId: ' ' }).verdict).toBe('none');
  });

  it.each(['', ';;;', 'dmarc=pass', '(((', '"unterminated; dmarc=pass', 'x'.repeat(100_000)])('survives the malformed header %j', (header) => {
    expect(verdict([header]).verdict).toBe('none');
  });
});

describe('parseAuthenticationResults', () => {
  it('parses methods, results and properties, dropping comments', () => {
    expect(parseAuthenticationResults('mx.example (a comment (nested)); spf=pass (why) smtp.mailfrom=a@b.example; dmarc=fail header.from=b.example')).toEqual({
      authservId: 'mx.example',
      results: [
        { method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': 'a@b.example' } },
        { method: 'dmarc', result: 'fail', properties: { 'header.from': 'b.example' } },
      ],
    });
  });
});

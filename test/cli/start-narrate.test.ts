/**
 * What `npm start` prints about the running worker: one readable line per reply, per scheduler
 * run that sent mail, and per failure; nothing for the routine rest.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { narrate } from '../../scripts/cli/commands/start.ts';

function lines(events: Array<Record<string, unknown>>): string[] {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk) => (text += chunk));
  for (const e of events) narrate(e as never, out);
  return text.split('\n').filter(Boolean).map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, ''));
}

describe('npm start narration', () => {
  it('tells of applied and refused replies, mail the scheduler sent, re-seals and failures', () => {
    expect(
      lines([
        { event: 'message.processed', verdict: 'apply', sender: 'raj@acme.example', plan: 'acme', task: 'T2', changes: ['T2: to do → done'] },
        { event: 'message.processed', verdict: 'reject', code: 'REPLY_SENDER_MISMATCH', sender: 'eve@evil.example', plan: 'acme', task: 'T2' },
        { event: 'tick.done', trigger: 'interval', sent: 3, byKind: { checkin: 2, task: 1 } },
        { event: 'tick.done', trigger: 'interval', sent: 0, byKind: {} },
        { event: 'portal.reseal', plan: 'acme', status: 'resealed' },
        { event: 'portal.reseal', plan: 'acme', status: 'unpublished' },
        { event: 'git.failed', code: 'GIT_COMMIT_FAILED', reason: 'not a repository' },
      ]),
    ).toEqual([
      'reply from raj@acme.example about acme T2: applied: T2: to do → done',
      'reply from eve@evil.example about acme T2: reject (REPLY_SENDER_MISMATCH)',
      'scheduler sent 3 emails (2 checkin, 1 task)',
      'portal of acme re-sealed',
      'git.failed: GIT_COMMIT_FAILED — not a repository',
    ]);
  });
});

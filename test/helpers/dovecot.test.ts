import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type Dovecot } from './dovecot.ts';
import { testMessage } from './test-messages.ts';

describe('the Dovecot test helper', () => {
  let dovecot: Dovecot;

  beforeAll(async () => {
    dovecot = await startDovecot({ users: [{ user: 'inbox', password: 'pa"ss\\word' }, { user: 'other', password: 'secret' }] });
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('listens on a loopback port and logs in each user', async () => {
    expect(dovecot.host).toBe('127.0.0.1');
    expect(dovecot.port).toBeGreaterThan(0);
    for (const user of ['inbox', 'other']) {
      const client = await dovecot.connect(user);
      expect(client.authenticated).toBeTruthy();
      await client.logout();
    }
  });

  it('refuses a wrong password', async () => {
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: 'inbox', pass: 'wrong' }, logger: false });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toThrow();
  });

  it.each([
    { name: 'IMAP APPEND into INBOX', via: 'imap' as const, folder: undefined },
    { name: 'IMAP APPEND into a new folder', via: 'imap' as const, folder: 'Archive' },
    { name: 'dovecot-lda into INBOX', via: 'lda' as const, folder: undefined },
    { name: 'dovecot-lda into a new folder', via: 'lda' as const, folder: 'Lda' },
  ])('delivers by $name and lists the message', async ({ via, folder }) => {
    const message = testMessage({ subject: `delivered by ${via} ${folder ?? 'INBOX'}` });
    await dovecot.deliver('other', message.raw, { via, ...(folder ? { folder } : {}) });
    const listed = await dovecot.list('other', folder ?? 'INBOX');
    const found = listed.find((m) => m.messageId === message.messageId);
    expect(found).toMatchObject({ subject: message.subject, size: message.raw.length });
    if (folder) expect(await dovecot.folders('other')).toContain(folder);
  });

  it('sets flags on IMAP delivery and keeps delivery order', async () => {
    const first = testMessage({ subject: 'first' });
    const second = testMessage({ subject: 'second' });
    await dovecot.deliver('inbox', first.raw, { folder: 'Ordered', flags: ['\\Seen', '$Custom'] });
    await dovecot.deliver('inbox', second.raw, { folder: 'Ordered' });
    const listed = await dovecot.list('inbox', 'Ordered');
    expect(listed.map((m) => m.subject)).toEqual(['first', 'second']);
    expect(listed[0]!.flags).toEqual(expect.arrayContaining(['\\Seen', '$Custom']));
    expect(listed[1]!.flags).not.toContain('\\Seen');
  });

  it('lists a missing folder as empty', async () => {
    expect(await dovecot.list('inbox', 'Does-Not-Exist')).toEqual([]);
  });

  it('restarts on the same port, keeping the mail and cutting open sessions', async () => {
    const message = testMessage({ subject: 'survives a restart' });
    await dovecot.deliver('inbox', message.raw);
    const client = await dovecot.connect('inbox');
    await client.mailboxOpen('INBOX');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const port = dovecot.port;
    await dovecot.restart();
    await closed; // the old session was cut
    expect(dovecot.port).toBe(port);
    const listed = await dovecot.list('inbox');
    expect(listed.map((m) => m.messageId)).toContain(message.messageId);
  });

  it('runs several instances side by side', async () => {
    const second = await startDovecot({ users: [{ user: 'inbox', password: 'x' }] });
    try {
      expect(second.port).not.toBe(dovecot.port);
      const message = testMessage({ subject: 'only in the second server' });
      await second.deliver('inbox', message.raw);
      expect((await second.list('inbox')).map((m) => m.messageId)).toEqual([message.messageId]);
      expect((await dovecot.list('inbox')).map((m) => m.messageId)).not.toContain(message.messageId);
    } finally {
      await second.stop();
    }
  });
});

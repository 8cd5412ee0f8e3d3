/**
 * Small, unique RFC 5322 messages for transport tests (IMAP, SMTP, file sources). Scenario
 * fixtures for the reply pipeline live as `.eml` files under test/fixtures/; these only need a
 * Message-ID to count by and, sometimes, a size.
 */
import { randomBytes } from 'node:crypto';

export interface TestMessageOptions {
  subject?: string;
  from?: string;
  to?: string;
  body?: string;
  /** Without angle brackets; a unique one is generated when omitted. */
  messageId?: string;
  /** Pad the body with lines of text until the whole message has at least this many bytes. */
  minBytes?: number;
  /** Omit the Message-ID header entirely. */
  withoutMessageId?: boolean;
}

export interface TestMessage {
  raw: Buffer;
  /** `<id@twofold.test>`, as it appears in the header and in an IMAP envelope. */
  messageId: string;
  subject: string;
}

export function testMessage(options: TestMessageOptions = {}): TestMessage {
  const id = options.messageId ?? `${Date.now().toString(36)}.${randomBytes(6).toString('hex')}@twofold.test`;
  const messageId = `<${id}>`;
  const subject = options.subject ?? `Test ${id}`;
  const headers = [
    `From: ${options.from ?? 'Client <client@customer.test>'}`,
    `To: ${options.to ?? 'twofold+token@twofold.localhost'}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    ...(options.withoutMessageId ? [] : [`Message-ID: ${messageId}`]),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  let body = options.body ?? 'done\r\n';
  const head = `${headers.join('\r\n')}\r\n\r\n`;
  if (options.minBytes) {
    const line = `${'padding '.repeat(9)}\r\n`;
    const missing = options.minBytes - Buffer.byteLength(head + body);
    if (missing > 0) body += line.repeat(Math.ceil(missing / line.length));
  }
  return { raw: Buffer.from(head + body), messageId, subject };
}

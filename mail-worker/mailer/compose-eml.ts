/**
 * Turn a nodemailer message into RFC 5322 bytes. One composer for every outgoing email, so the
 * outbox, dry runs (`--dry-run --out`) and SMTP delivery send exactly the same bytes.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import type { SendMailOptions } from 'nodemailer';

export type OutgoingMessage = SendMailOptions & { messageId: string };

export async function composeEml(message: OutgoingMessage): Promise<Buffer> {
  return new MailComposer(message).compile().build();
}

/** Envelope recipients of a message (To, Cc, Bcc), as bare addresses. */
export function envelopeRecipients(message: SendMailOptions): string[] {
  const out: string[] = [];
  for (const field of [message.to, message.cc, message.bcc]) {
    for (const a of ([] as unknown[]).concat(field ?? [])) {
      if (typeof a === 'string') out.push(...a.split(',').map((s) => (/<([^>]+)>/.exec(s)?.[1] ?? s).trim()).filter(Boolean));
      else if (a && typeof a === 'object' && 'address' in a) out.push(String((a as { address: string }).address));
    }
  }
  return out;
}

export function envelopeSender(message: SendMailOptions): string {
  const from = message.from;
  if (typeof from === 'string') return (/<([^>]+)>/.exec(from)?.[1] ?? from).trim();
  if (from && typeof from === 'object' && 'address' in from) return String(from.address);
  return '';
}

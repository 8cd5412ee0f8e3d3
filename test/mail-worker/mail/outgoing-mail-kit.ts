/**
 * What the outgoing-mail tests share: a throwaway project holding copies of the example plans
 * with a real secret store, and a reader that looks at a composed message the way a recipient
 * does (its exact bytes through mailparser), plus the checks every message must pass.
 */
import { rm } from 'node:fs/promises';
import { simpleParser, type ParsedMail } from 'mailparser';
import { expect } from 'vitest';
import { EMBEDDED_IDENTITY, type MailIdentity } from '../../../mail-worker/config/mail-identity.ts';
import type { ComposedEmail, MailContext } from '../../../mail-worker/mail/mail-context.ts';
import { composeEml } from '../../../mail-worker/mailer/compose-eml.ts';
import { openPlanDirectory } from '../../../mail-worker/stores/plan-directory-fs.ts';
import { evaluateMessage, type Evaluation } from '../../../mail-worker/pipeline/evaluate-message.ts';
import type { Plan } from '../../../site/core/plan/plan-types.ts';
import { parseUnlockFragment, type UnlockLink } from '../../../site/core/portal/portal-links.ts';
import { tokenFromAddress, verifyReplyToken, type VerifyReplyTokenResult } from '../../../site/core/reply/reply-token.ts';
import { readPlan } from '../../../site/lib/plan-store-fs.ts';
import { projectPaths, type ProjectPaths } from '../../../site/lib/project-paths.ts';
import { openSecretStore, type SecretStore } from '../../../site/lib/secret-store-fs.ts';
import { tempProject } from '../../helpers/run-twofold.ts';

export const IDENTITY: MailIdentity = {
  ...EMBEDDED_IDENTITY,
  from: { name: 'Twofold', address: 'plans@kestrelbyte.example' },
  reply: { mode: 'plus', localPart: 'plans', domain: 'kestrelbyte.example' },
  portalBaseUrl: 'https://plans.kestrelbyte.example',
  messageIdDomain: 'kestrelbyte.example',
};

export interface Project {
  root: string;
  paths: ProjectPaths;
  store: SecretStore;
  ctx(now: Date, extra?: Partial<MailContext>): MailContext;
  plan(slug: string): Promise<Plan>;
  remove(): Promise<void>;
}

export async function exampleProject(): Promise<Project> {
  const root = await tempProject(['plans']);
  const paths = projectPaths(root, {});
  const store = openSecretStore(paths, {});
  return {
    root,
    paths,
    store,
    ctx: (now, extra = {}) => ({ paths, store, identity: IDENTITY, now, ...extra }),
    plan: async (slug) => (await readPlan(paths, slug)).plan,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

export interface ReadMail {
  raw: string;
  /** The header block as sent (before the first blank line), unfolded. */
  headerBlock: string;
  /** Header names as sent, lowercase, in order. */
  headerNames: string[];
  parsed: ParsedMail;
  text: string;
  html: string;
}

export async function readComposed(email: ComposedEmail): Promise<ReadMail> {
  const raw = (await composeEml(email.message)).toString('utf8');
  const headerBlock = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const headerNames = headerBlock.split('\r\n').map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
  const parsed = await simpleParser(raw);
  return { raw, headerBlock, headerNames, parsed, text: parsed.text ?? '', html: typeof parsed.html === 'string' ? parsed.html : '' };
}

/** The Reply-To token, verified as the worker verifies it (the real plan directory as lookup). */
export async function verifyReplyTo(project: Project, mail: ReadMail, now: Date): Promise<VerifyReplyTokenResult> {
  const address = mail.parsed.replyTo?.value[0]?.address ?? '';
  const token = tokenFromAddress(IDENTITY.reply, address);
  expect(token, `Reply-To ${address} carries no token`).toBeTruthy();
  const { version, key } = await project.store.replyKey();
  return verifyReplyToken(token!, { keys: { [version]: key }, lookup: openPlanDirectory(project.paths).lookup, now });
}

/** Every personal unlock link in a text, parsed as the portal page parses its fragment. */
export function unlockLinks(text: string): Array<{ url: URL; link: UnlockLink | undefined }> {
  return [...text.matchAll(/https?:\/\/[^\s"'<>]+#u=[^\s"'<>]+/g)].map((m) => {
    const url = new URL(m[0].replace(/&amp;/g, '&'));
    return { url, link: parseUnlockFragment(url.hash) };
  });
}

/** What every email Twofold sends must be: marked as ours, one text and one HTML part, nothing remote. */
export function expectWellFormed(mail: ReadMail, autoSubmitted: 'auto-generated' | 'auto-replied'): void {
  expect(mail.parsed.headers.get('auto-submitted')).toBe(autoSubmitted);
  expect(mail.parsed.headers.get('x-twofold-generated')).toBe('yes');
  expect(mail.parsed.messageId).toMatch(/^<[^<>\s]+@kestrelbyte\.example>$/);
  expect(mail.text.length).toBeGreaterThan(20);
  expect(mail.html).toMatch(/^<!doctype html>/);
  // No images, no remote content, no scripts, styles only inline.
  expect(mail.html).not.toMatch(/<(img|script|link|style|iframe|object|embed|form|svg)\b/i);
  expect(mail.html).not.toMatch(/<[^>]*\s(src|background|srcset)=/i);
  expect(mail.html).not.toMatch(/url\(|@import/i);
  expect(mail.parsed.attachments).toHaveLength(0);
  // Lines of the text part fit a phone, except URLs and reply addresses, which must stay whole.
  for (const line of mail.text.split('\n')) {
    if ([...line].length > 40) expect(line.replace(/^(> |- |\s+)/, ''), `a text line longer than 40 characters is one unbreakable word: "${line}"`).toMatch(/^\S+$/);
  }
  // Only To: no Cc or Bcc on any Twofold email.
  expect(mail.headerNames).not.toContain('bcc');
  expect(mail.headerNames).not.toContain('cc');
}

/** Text with line breaks and runs of spaces made single spaces (the text part is wrapped). */
export function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}

/**
 * A person's reply to a message Twofold sent, as their mail client writes it: to the Reply-To
 * address, `Re:` subject, In-Reply-To and References, the new text above the quoted original.
 */
export async function replyTo(mail: ReadMail, from: { name: string; address: string }, body: string, date: Date, messageId = `<reply.${Math.random().toString(36).slice(2)}@client.example>`): Promise<Buffer> {
  const to = mail.parsed.replyTo?.value[0]?.address ?? mail.parsed.from?.value[0]?.address ?? '';
  const refs = [...[mail.parsed.references ?? []].flat(), mail.parsed.messageId!];
  const quoted = mail.text.split('\n').map((l) => `> ${l}`).join('\n');
  return composeEml({
    messageId,
    from,
    to,
    subject: `Re: ${mail.parsed.subject}`,
    inReplyTo: mail.parsed.messageId!,
    references: refs,
    date,
    text: `${body}\n\nOn Thu, Dec 3, 2026 at 9:00 AM Twofold <${mail.parsed.from?.value[0]?.address}> wrote:\n${quoted}\n`,
  });
}

/** What the worker decides about a message (the whole pipeline as a dry run). */
export async function evaluate(project: Project, raw: Buffer, now: Date): Promise<Evaluation> {
  return evaluateMessage(raw, {
    identity: IDENTITY,
    plans: openPlanDirectory(project.paths),
    replyKey: async (version) => (await project.store.replyKey(version))?.key,
    now,
  });
}

/**
 * Send task emails on request (`twofold mail send`, and the worker when a task is assigned):
 * with a task, that task's email to its owner (or to another person of the plan); without, one
 * digest per person with open tasks (or only the given person's).
 *
 * Everything is composed first, then `beforeSend(newLinks)` runs once when any personal link
 * was created (a new link opens the portal only after the portal is sealed again: the caller
 * re-seals there), then the messages go to the mailer. Sending is not plan activity: nothing is
 * written to the plan, its records or its activity log.
 */
import { openTasks } from '../../site/core/plan/plan-model.ts';
import { readPlan } from '../../site/lib/plan-store-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import type { MailIdentity } from '../config/mail-identity.ts';
import type { Mailer } from '../mailer/mailer.ts';
import { composeDigestEmail } from './digest-email.ts';
import { memberOf, todayFor, type ComposedEmail, type MailContext, type NewLink } from './mail-context.ts';
import { composeTaskEmail } from './task-email.ts';

export interface SendTaskEmailsOptions {
  paths: ProjectPaths;
  store: MailContext['store'];
  identity: MailIdentity;
  mailer: Pick<Mailer, 'send'>;
  now: Date;
  /** Today in every plan's zone (`--now YYYY-MM-DD`); default: `now` in the plan's zone. */
  today?: string;
  slug: string;
  /** One task's email; without it, digests. */
  task?: string;
  /** Only this person (must be a person of the plan). */
  to?: string;
  /** Runs once, before anything is sent, when personal links were created (re-seal the portal here). */
  beforeSend?: (newLinks: NewLink[]) => unknown;
  log?: (event: Record<string, unknown>) => void;
}

export interface SentTaskEmail {
  plan: string;
  /** The task id for a task email. */
  task?: string;
  to: string;
  kind: 'task' | 'digest';
  messageId: string;
  /** Where the mailer put the message (outbox, queue or sent). */
  file: string;
  /** Accepted by the SMTP server (false: in the outbox, or queued for retry). */
  delivered: boolean;
}

export interface SendTaskEmailsResult {
  sent: SentTaskEmail[];
  /** Personal links created for these emails. */
  newLinks: NewLink[];
}

export async function sendTaskEmails(options: SendTaskEmailsOptions): Promise<SendTaskEmailsResult> {
  const { slug, mailer } = options;
  const { plan } = await readPlan(options.paths, slug);
  const ctx: MailContext = {
    paths: options.paths,
    store: options.store,
    identity: options.identity,
    now: options.now,
    ...(options.today ? { today: options.today } : {}),
  };

  const composed: ComposedEmail[] = [];
  if (options.task) {
    composed.push(await composeTaskEmail(ctx, { slug, plan, task: options.task, ...(options.to ? { to: options.to } : {}) }));
  } else {
    const today = todayFor(ctx, plan);
    const owners = new Set(openTasks(plan, today).map((v) => v.owner.email));
    const people = options.to ? [memberOf(plan, slug, options.to)] : plan.people;
    for (const person of people) {
      if (!owners.has(person.email)) continue;
      composed.push(await composeDigestEmail(ctx, { slug, plan, to: person.email, kind: 'request' }));
    }
  }

  const newLinks = composed.flatMap((c) => c.newLinks);
  if (newLinks.length > 0) await options.beforeSend?.(newLinks);

  const sent: SentTaskEmail[] = [];
  for (const email of composed) {
    const result = await mailer.send(email.message, email.tag);
    const kind = email.kind === 'task' ? 'task' : 'digest';
    options.log?.({ event: `mail.${kind}`, plan: slug, task: email.task, to: email.to, messageId: result.messageId, file: result.file, delivered: result.delivered });
    sent.push({ plan: slug, ...(kind === 'task' ? { task: email.task! } : {}), to: email.to, kind, messageId: result.messageId, file: result.file, delivered: result.delivered });
  }
  return { sent, newLinks };
}

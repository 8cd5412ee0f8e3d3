/**
 * Realistic replies for the benchmark: one per plan, from the task's owner, to the task's signed
 * reply address, threaded under the task email, with the original quoted — composed by the same
 * composer Twofold uses for its own mail. Each phase answers a different task, so every reply
 * really changes its plan.
 */
import { composeEml } from '../../mail-worker/mailer/compose-eml.ts';
import { replyAddressFor, threadRootId } from '../../mail-worker/mail/mail-context.ts';
import type { WorkerCore } from '../../mail-worker/worker.ts';
import { findTask, personById, planTitle } from '../../site/core/plan/plan-model.ts';
import { readPlan } from '../../site/lib/plan-store-fs.ts';
import type { ProjectPaths } from '../../site/lib/project-paths.ts';
import { readdir } from 'node:fs/promises';
import { SMTP_MAX_CLIENTS } from '../../mail-worker/sources/smtp-source.ts';

/**
 * Replies one worker handles at once in the throughput runs: as many as its embedded SMTP
 * server takes sessions, as when an MTA forwards a burst over several connections. Concurrent
 * replies share directory fsyncs (group commit), so fewer in flight cost more per reply.
 */
export const REPLIES_IN_FLIGHT = SMTP_MAX_CLIENTS;

export interface BenchReply {
  slug: string;
  messageId: string;
  from: string;
  to: string;
  raw: Buffer;
}

const PHASES = {
  latency: { task: 'T11', offset: 0 },
  throughput: { task: 'T12', offset: 0 },
  'throughput-2': { task: 'T15', offset: 0 },
  dovecot: { task: 'T13', offset: 500 },
  backlog: { task: 'T14', offset: 0 },
} as const;

export async function replyMessages(paths: ProjectPaths, core: Pick<WorkerCore, 'store' | 'identity'>, count: number, phase: keyof typeof PHASES, onProgress?: (done: number) => void): Promise<BenchReply[]> {
  const slugs = (await readdir(paths.plansDir)).map((f) => f.replace(/\.mdx?$/, '')).sort();
  const { task, offset } = PHASES[phase];
  const out: BenchReply[] = [];
  for (let i = 0; i < count; i++) {
    const slug = slugs[(i + offset) % slugs.length]!;
    const { plan } = await readPlan(paths, slug);
    const hit = findTask(plan, task)!;
    const owner = personById(plan, hit.task.owner)!;
    const to = await replyAddressFor({ store: core.store, identity: core.identity, now: new Date() }, slug, hit.task.id, owner.email);
    const root = threadRootId(core.identity, slug, hit.task.id, owner.email);
    const messageId = `<bench-${phase}-${i}-${Date.now().toString(36)}@${owner.email.split('@')[1]}>`;
    const raw = await composeEml({
      messageId,
      from: { name: owner.name, address: owner.email },
      to,
      subject: `Re: [${planTitle(plan)}] ${hit.task.id}: ${hit.task.title}`,
      inReplyTo: root,
      references: [root],
      date: new Date(),
      // Lets the benchmark's worker processes load the plan a reply is for before the clock starts.
      headers: { 'X-Bench-Plan': slug },
      text: `Done, thanks!\n\nOn ${new Date().toUTCString()}, Twofold <${core.identity.from.address}> wrote:\n> ${hit.task.id}: ${hit.task.title}\n> Reply "done" when it is done.\n`,
    });
    out.push({ slug, messageId, from: owner.email, to, raw });
    onProgress?.(i + 1);
  }
  return out;
}

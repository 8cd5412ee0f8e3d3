/**
 * A task email forwarded to someone else, end to end: the forwarded reader answers it, over and
 * over, through a real SMTP client into a running worker's embedded SMTP inbox. Every reply is
 * refused (REPLY_SENDER_MISMATCH) without changing the plan, the forwarded reader hears nothing,
 * and the plan's CSM is told — at most LIMITS.csm notices an hour however many arrive.
 *
 * Forged, tampered, expired and cross-plan tokens and timing-safe comparison are proven in
 * test/core/reply/reply-token.test.ts and test/mail-worker/e2e/reply-scenarios.test.ts; the rate
 * limiter itself in test/mail-worker/mail/reply-rate-limit-fs.test.ts.
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../mail-worker/mail/reply-rate-limit-fs.ts';
import { normaliseMessageId } from '../../mail-worker/pipeline/normalise-message-id.ts';
import { freePort } from '../helpers/free-port.ts';
import { replyAs } from '../helpers/reply-builder.ts';
import { startSmtpCapture, type SmtpCapture } from '../helpers/smtp-capture.ts';
import { waitUntil } from '../helpers/wait-until.ts';
import { workerConfig, workerProject, type StartedWorker, type WorkerProject } from '../helpers/worker-project.ts';
import { FORWARDED_REPLIES } from './figures.ts';

const CSM = 'wrenna.castellanos@kestrelbyte.example';
const FORWARDED_TO = { name: 'IT Helpdesk', address: 'helpdesk@tamarindvale.example' };

let project: WorkerProject;
let smtp: SmtpCapture;
let worker: StartedWorker;
let inbound: number;

beforeAll(async () => {
  [project, smtp, inbound] = await Promise.all([workerProject({ passwords: [] }), startSmtpCapture(), freePort()]);
  worker = await project.start({ config: workerConfig({ smtp: { host: smtp.host, port: smtp.port }, inbound_smtp: { enabled: true, host: '127.0.0.1', port: inbound } }) });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.all([smtp?.stop(), project?.remove()]);
});

describe('a reply token used by someone the task email was forwarded to', () => {
  it(`is refused every time, changes nothing, and the CSM gets ${LIMITS.csm} notices for ${FORWARDED_REPLIES} attempts (the hourly limit)`, async () => {
    expect(FORWARDED_REPLIES).toBeGreaterThan(LIMITS.csm);
    const before = await project.planBytes();
    const activityBefore = await project.activity('tamarind-vale');
    const ids: string[] = [];
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: inbound, secure: false, ignoreTLS: true });
    try {
      for (let i = 0; i < FORWARDED_REPLIES; i++) {
        // Hamish's own reply address for T9, answered by the helpdesk he forwarded the email to.
        const reply = await replyAs({ paths: project.paths, store: project.store, identity: worker.core.identity }, { slug: 'tamarind-vale', task: 'T9', from: FORWARDED_TO, text: `Done - closed ticket ${4400 + i}` });
        ids.push(normaliseMessageId(reply.messageId)!);
        const info = await transport.sendMail({ envelope: { from: FORWARDED_TO.address, to: [reply.to] }, raw: reply.raw });
        expect(info.response).toMatch(/^250 /);
      }
    } finally {
      transport.close();
    }
    await waitUntil(() => worker.events.filter((e) => e.event === 'message.processed').length === FORWARDED_REPLIES, 'every reply processed');
    const processed = worker.events.filter((e) => e.event === 'message.processed');
    expect(processed.every((e) => e.verdict === 'reject' && e.code === 'REPLY_SENDER_MISMATCH' && e.plan === 'tamarind-vale')).toBe(true);
    expect(await project.planBytes()).toEqual(before);
    expect(await project.activity('tamarind-vale')).toEqual(activityBefore);

    const notices = await smtp.waitForCount(LIMITS.csm, (m) => m.envelope.to.includes(CSM), 20_000);
    await worker.core.publisher.idle();
    expect(smtp.messages.filter((m) => m.envelope.to.includes(CSM))).toHaveLength(LIMITS.csm);
    expect(notices.every((m) => /\[REPLY_SENDER_MISMATCH\]/.test(m.parsed.subject ?? '') && (m.parsed.text ?? '').includes(FORWARDED_TO.address))).toBe(true);
    // Each notice names the refused message; the ones over the limit are only logged.
    expect(new Set(notices.map((m) => m.parsed.messageId)).size).toBe(LIMITS.csm);
    expect(worker.events.filter((e) => e.event === 'answer.rate-limited')).toHaveLength(FORWARDED_REPLIES - LIMITS.csm);
    expect(worker.events.find((e) => e.event === 'answer.rate-limited')).toMatchObject({ code: 'MAIL_REPLY_RATE_LIMITED', to: 'csm', plan: 'tamarind-vale' });
    // The forwarded reader never hears back (no help for whoever holds someone else's address).
    expect(smtp.messages.filter((m) => m.envelope.to.includes(FORWARDED_TO.address))).toEqual([]);
    expect(smtp.messages.filter((m) => ids.includes(m.parsed.inReplyTo ?? ''))).toEqual([]);
  });
});

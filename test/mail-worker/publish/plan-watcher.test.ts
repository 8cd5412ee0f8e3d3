/**
 * A plan edited by hand while the worker runs reaches its portal without a build command: the
 * worker notices the file change and re-seals that portal through the fast path.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editPlanText } from '../../../site/core/plan/plan-file.ts';
import { waitUntil } from '../../helpers/wait-until.ts';
import { workerProject, type StartedWorker, type WorkerProject } from '../../helpers/worker-project.ts';

const SLUG = 'halvorsen-marine';
let project: WorkerProject;
let worker: StartedWorker;

beforeAll(async () => {
  project = await workerProject({ passwords: [SLUG], build: true });
  worker = await project.start();
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await project?.remove();
});

describe('a plan edited by hand', () => {
  it('is re-sealed into its portal by the running worker', async () => {
    const before = await project.portal(SLUG);
    const file = await project.planFile(SLUG);
    await writeFile(file, editPlanText(await readFile(file, 'utf8'), [{ op: 'set', path: ['title'], value: 'Halvorsen harbour rollout' }]));
    await waitUntil(async () => (await project.portal(SLUG)).envelope !== before.envelope, 'the portal to be re-sealed', 15_000);
    const after = await project.portal(SLUG);
    expect(after.html).toContain('Halvorsen harbour rollout');
    expect(worker.events.some((e) => e.event === 'portal.reseal' && e.plan === SLUG && e.status === 'resealed')).toBe(true);
  });
});

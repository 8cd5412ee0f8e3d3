import { describe, expect, it } from 'vitest';
import { editPlanText } from '../../../site/core/plan/plan-file.ts';

const plan = `---
client: Acme
vendor: Northwind
timezone: UTC
start: 2026-12-07
golive: +60d
people:
  - { id: maya, name: Maya, email: maya@n.example, side: vendor, csm: true, sponsor: true }
  - { id: raj, name: Raj, email: raj@a.example, side: client, sponsor: true }
success: { outcome: It works }
stages:
  - id: one
    name: One
    due: +7d   # milestone
    tasks:
      - { id: T1, title: Flow task, owner: raj, status: todo }
      - id: T2
        title: Block task   # keep me
        owner: maya
        status: blocked
        blocked: { reason: waiting on IT, since: 2026-12-09 }
---
Body stays *exactly* as it was.
`;

describe('editPlanText', () => {
  it.each([
    { name: 'sets a scalar in a flow map', edits: [{ op: 'set' as const, path: ['stages', 0, 'tasks', 0, 'status'], value: 'done' }], changed: ['      - { id: T1, title: Flow task, owner: raj, status: done }'] },
    { name: 'adds a key to a flow map', edits: [{ op: 'set' as const, path: ['stages', 0, 'tasks', 0, 'due'], value: '2026-12-20' }], changed: ['      - { id: T1, title: Flow task, owner: raj, status: todo, due: 2026-12-20 }'] },
    { name: 'removes a key from a block map', edits: [{ op: 'delete' as const, path: ['stages', 0, 'tasks', 1, 'blocked'] }, { op: 'set' as const, path: ['stages', 0, 'tasks', 1, 'status'], value: 'todo' }], changed: ['        status: todo'] },
  ])('$name and changes only the affected lines', ({ edits, changed }) => {
    const next = editPlanText(plan, edits);
    const before = plan.split('\n');
    const after = next.split('\n');
    const added = after.filter((l) => !before.includes(l));
    expect(added).toEqual(changed);
    expect(next.endsWith('---\nBody stays *exactly* as it was.\n')).toBe(true);
    expect(next).toContain('title: Block task   # keep me');
  });

  it('quotes values that YAML would misread', () => {
    const next = editPlanText(plan, [{ op: 'set', path: ['stages', 0, 'tasks', 1, 'blocked'], value: { reason: 'IT: "security", #2', since: '2026-12-10' } }]);
    expect(next).toContain('blocked: { reason: "IT: \\"security\\", #2", since: 2026-12-10 }');
  });
});

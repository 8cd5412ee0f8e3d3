/**
 * The narrative body checked the way the portal renders it (MDX components, refused constructs),
 * with problem lines counted in the file. `twofold check` and `twofold build` both run it, so a
 * body the build would refuse is already an error in `check`.
 */
import type { Problem } from '../core/errors/problem.ts';
import { bodyKindOf, renderPlanBody } from '../core/render/plan-body.ts';
import type { StoredPlan } from './plan-store-fs.ts';

export async function planBodyProblems(plan: Pick<StoredPlan, 'file' | 'label' | 'text' | 'source'>): Promise<Problem[]> {
  const rendered = await renderPlanBody(plan.source.body, bodyKindOf(plan.file));
  if (!rendered.problems.length) return [];
  const bodyFirstLine = plan.text.slice(0, plan.text.length - plan.source.body.length).split('\n').length;
  return rendered.problems.map((p) => ({ ...p, file: plan.label, ...(p.line ? { line: p.line + bodyFirstLine - 1 } : {}) }));
}

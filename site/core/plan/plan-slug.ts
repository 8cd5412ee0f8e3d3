/** Plan slugs name files (`content/plans/<slug>.md`): a strict pattern refuses path traversal. */
import { problem, TwofoldError } from '../errors/problem.ts';

export const PLAN_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export function isPlanSlug(value: string): boolean {
  return PLAN_SLUG.test(value);
}

export function assertPlanSlug(value: string): string {
  if (!isPlanSlug(value)) throw new TwofoldError('PLAN_SLUG_INVALID', `"${value.slice(0, 80)}" is not a plan slug`);
  return value;
}

export function slugProblem(value: string) {
  return problem('PLAN_SLUG_INVALID', `"${value.slice(0, 80)}" is not a plan slug`);
}

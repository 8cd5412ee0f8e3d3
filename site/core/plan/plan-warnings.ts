/** Advice, not errors: `twofold check` prints these and still exits 0. */
import { problem, type Problem } from '../errors/problem.ts';
import type { Plan } from './plan-schema.ts';

export const RECOMMENDED_STAGES = { min: 3, max: 5 } as const;

export function planWarnings(plan: Plan): Problem[] {
  const out: Problem[] = [];
  const side = new Map(plan.people.map((p) => [p.id, p.side]));
  const n = plan.stages.length;
  if (n < RECOMMENDED_STAGES.min || n > RECOMMENDED_STAGES.max) {
    out.push(problem('PLAN_STAGE_COUNT', `the plan has ${n} stage${n === 1 ? '' : 's'}; 3 to 5 milestone stages keep a plan readable and purposeful`, { path: ['stages'] }));
  }
  plan.stages.forEach((stage, si) => {
    const sides = new Set(stage.tasks.map((t) => side.get(t.owner)).filter(Boolean));
    if (stage.tasks.length > 0 && sides.size === 1) {
      out.push(problem('PLAN_STAGE_ONE_SIDED', `every task of stage "${stage.id}" is owned by the ${[...sides][0]} side`, { path: ['stages', si, 'tasks'] }));
    }
    const attendees = stage.checkin?.attendees ?? [];
    const attendeeSides = new Set(attendees.map((id) => side.get(id)).filter(Boolean));
    if (attendees.length > 0 && attendeeSides.size === 1) {
      out.push(problem('PLAN_CHECKIN_ONE_SIDED', `the check-in of stage "${stage.id}" only invites the ${[...attendeeSides][0]} side`, { path: ['stages', si, 'checkin', 'attendees'] }));
    }
    stage.tasks.forEach((task, ti) => {
      if (task.status === 'blocked' && task.blocked && !task.blocked.since) {
        out.push(problem('PLAN_BLOCKED_WITHOUT_SINCE', `task ${task.id} is blocked with no \`since\` date, so its blocker cannot age or escalate`, { path: ['stages', si, 'tasks', ti, 'blocked'] }));
      }
    });
  });
  if (plan.success.criteria.length === 0) {
    out.push(problem('PLAN_NO_MEASURABLE_CRITERION', 'success has an outcome but no measurable criterion', { path: ['success'] }));
  }
  return out;
}

/** Advice, not errors: `twofold check` prints these and still exits 0. */
import { problem, type Problem } from '../errors/problem.ts';
import type { Plan } from './plan-schema.ts';

export const RECOMMENDED_STAGES = { min: 3, max: 5 } as const;

export function planWarnings(plan: Plan): Problem[] {
  const out: Problem[] = [];
  const side = new Map(plan.people.map((p) => [p.id, p.side]));
  const csm = plan.people.find((p) => p.csm);
  const n = plan.stages.length;
  if (n < RECOMMENDED_STAGES.min || n > RECOMMENDED_STAGES.max) {
    out.push(problem('PLAN_STAGE_COUNT', `the plan has ${n} stage${n === 1 ? '' : 's'}; 3 to 5 milestone stages keep a plan readable and purposeful`, { path: ['stages'] }));
  }
  plan.stages.forEach((stage, si) => {
    const sides = new Set(stage.tasks.map((t) => side.get(t.owner)).filter(Boolean));
    if (stage.tasks.length > 0 && sides.size === 1) {
      out.push(problem('PLAN_STAGE_ONE_SIDED', `every task of stage "${stage.id}" is owned by the ${[...sides][0]} side`, { path: ['stages', si, 'tasks'] }));
    }
    // The CSM (vendor side) organizes every check-in without being listed, so a check-in
    // that lists only client people is still mutual; one without a client is not.
    const attendees = stage.checkin?.attendees ?? [];
    const attendeeSides = new Set([...attendees.map((id) => side.get(id)), ...(attendees.length > 0 && csm ? [csm.side] : [])].filter(Boolean));
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
  placeholders(plan, [], out);
  return out;
}

/** Templates mark what the CSM must fill in (`name: "FILL IN: client IT lead"`). */
export const PLACEHOLDER_MARK = 'FILL IN';

/** Every value of the plan still holding a template placeholder (the scheduler mails no such plan). */
export function placeholderProblems(plan: Plan): Problem[] {
  const out: Problem[] = [];
  placeholders(plan, [], out);
  return out;
}

function placeholders(value: unknown, path: (string | number)[], out: Problem[]): void {
  if (typeof value === 'string') {
    if (value.includes(PLACEHOLDER_MARK)) out.push(problem('PLAN_PLACEHOLDER_LEFT', `"${value.length > 80 ? `${value.slice(0, 77)}...` : value}" still needs filling in`, { path }));
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => placeholders(v, [...path, i], out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) placeholders(v, [...path, k], out);
  }
}

/**
 * What counts as "a plan's distinctive strings" for the leak scan: names, emails, titles, the
 * success definition, reasons, and runs of the narrative. Short or generic words are left out so
 * the shell's own words ("Open the plan") never raise a false alarm.
 */
import type { Plan } from '../plan/plan-types.ts';

export const MIN_NEEDLE = 6;
/** Runs of narrative text at least this long are searched for. */
const MIN_BODY_RUN = 24;
const MAX_BODY_NEEDLES = 40;

export function leakNeedles(plan: Plan, body: string, extra: string[] = []): string[] {
  const out = new Set<string>();
  const add = (value: string | undefined, min = MIN_NEEDLE) => {
    const v = value?.replace(/\s+/g, ' ').trim();
    if (v && v.length >= min) out.add(v);
  };
  add(plan.client, 4);
  add(plan.vendor, 4);
  add(plan.title);
  add(plan.success.outcome);
  for (const c of plan.success.criteria) {
    add(c.metric);
    add(c.target, 8);
  }
  for (const p of plan.people) {
    add(p.name, 4);
    add(p.email, 4);
  }
  for (const s of plan.stages) {
    add(s.name, 10);
    add(s.goal);
    add(s.checkin?.title);
    add(s.checkin?.location);
    for (const t of s.tasks) {
      add(t.title, 10);
      add(t.details);
      add(t.blocked?.reason, 10);
    }
  }
  let n = 0;
  for (const run of body.match(/[\p{L}\p{N}][\p{L}\p{N} ,'’-]{22,}[\p{L}\p{N}]/gu) ?? []) {
    if (run.length < MIN_BODY_RUN || n >= MAX_BODY_NEEDLES) continue;
    add(run.slice(0, 60));
    n++;
  }
  for (const e of extra) add(e, 4);
  return [...out];
}

/** Plan types, re-exported from the schema so modules can import types without zod. */
export type { Plan, Person, Stage, Task, TaskStatus, Checkin, EscalationStep, Schedule, PlanInput } from './plan-schema.ts';
export type Side = 'vendor' | 'client';

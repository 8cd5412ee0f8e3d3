/**
 * The scheduler's memory of what it sent, one small JSON document per plan
 * (`.twofold/state/tick/<slug>.json`, local: it names people's addresses and is no part of the
 * plan's record). Each scheduled email settles one or more keys; a key present means "done, never
 * again". Run the tick twice for the same moment and the second run finds every key present.
 *
 * Keys (task ids as the plan writes them, dates YYYY-MM-DD in the plan's zone, steps 1-based):
 *
 *   digest:<email>:<date>                  the person's one reminder/digest email of that day
 *   weekly:<email>:<digest date>           the weekly digest of the week starting that digest day
 *   remind:<task>:<due>:before             "due soon" reminder for that due date
 *   remind:<task>:<due>:overdue-<n>        n-th overdue reminder (every OVERDUE_REMIND_EVERY_DAYS)
 *   escalation:<task>:<since>:<step>       that ladder step notified for the blocker since <since>
 *   stage:<stage id>:<completion day>      stage completion handled (records, activity, task emails)
 *   opening:<first stage id>                the plan started: its first stage's task emails sent
 *
 * Escalations and stage completions are also in the plan's records (content/records), which is
 * what the portal shows; Message-IDs derived from these keys stop a resend at the mailer even if
 * this file is lost.
 */
export interface TickState {
  version: 1;
  /** Key → ISO instant it was settled. */
  sent: Record<string, string>;
}

/** Keys older than this are dropped when the state is written: none can come due again by then. */
export const TICK_STATE_RETENTION_DAYS = 120;
const DAY_MS = 24 * 60 * 60 * 1000;

export function emptyTickState(): TickState {
  return { version: 1, sent: {} };
}

/** A parsed state document, or undefined when it is not one (the caller refuses to guess). */
export function parseTickState(value: unknown): TickState | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as { version?: unknown; sent?: unknown };
  if (v.version !== 1 || !v.sent || typeof v.sent !== 'object' || Array.isArray(v.sent)) return undefined;
  const sent: Record<string, string> = {};
  for (const [key, at] of Object.entries(v.sent as Record<string, unknown>)) if (typeof at === 'string') sent[key] = at;
  return { version: 1, sent };
}

/** The state with `keys` settled at `now`. */
export function settle(state: TickState, keys: readonly string[], now: Date): TickState {
  const sent = { ...state.sent };
  for (const key of keys) sent[key] ??= now.toISOString();
  return { version: 1, sent };
}

/** The state without keys settled more than TICK_STATE_RETENTION_DAYS before `now`. */
export function pruneTickState(state: TickState, now: Date): TickState {
  const cutoff = now.getTime() - TICK_STATE_RETENTION_DAYS * DAY_MS;
  // A plan starts once: its opening key is kept for good, or a long first stage would be announced again.
  const sent = Object.fromEntries(Object.entries(state.sent).filter(([key, at]) => key.startsWith('opening:') || !(Date.parse(at) < cutoff)));
  return { version: 1, sent };
}

export const tickKeys = {
  digest: (email: string, date: string) => `digest:${email}:${date}`,
  weekly: (email: string, digestDate: string) => `weekly:${email}:${digestDate}`,
  remindBefore: (task: string, due: string) => `remind:${task}:${due}:before`,
  remindOverdue: (task: string, due: string, n: number) => `remind:${task}:${due}:overdue-${n}`,
  /** `step` is the 0-based index in `plan.escalation`; the key says it 1-based, as people read it. */
  escalation: (task: string, since: string, step: number) => `escalation:${task}:${since}:${step + 1}`,
  stage: (stageId: string, day: string) => `stage:${stageId}:${day}`,
  /** The plan's first stage opened: its tasks were emailed to their owners. */
  opening: (stageId: string) => `opening:${stageId}`,
};

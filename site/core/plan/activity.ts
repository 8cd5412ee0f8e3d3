/**
 * The activity log: one JSON object per line in `content/activity/<slug>.jsonl`, appended by
 * Twofold, never rewritten. Machine-written, human-readable (keys in a fixed, readable order).
 */
export const ACTIVITY_VERBS = [
  'done', 'blocked', 'unblock', 'reopen', 'in_progress', 'due', 'note', // task changes (reply grammar verbs)
  'escalated', 'stage_complete', 'rsvp', 'invite', 'reminder', 'created', 'edited',
] as const;
export type ActivityVerb = (typeof ACTIVITY_VERBS)[number];

export interface ActivityEntry {
  /** ISO 8601 instant (UTC). */
  at: string;
  /** Person id, or `twofold` for the scheduler and worker. */
  actor: string;
  verb: ActivityVerb;
  task?: string;
  stage?: string;
  /** Reason, resolved date (YYYY-MM-DD), note text, escalation step… */
  value?: string;
  /** Where it came from. */
  via?: 'email' | 'cli' | 'tick' | 'calendar';
  /** Message-ID of the email that caused it, or `digest:<sha256>` of one without (dedupe and crash recovery use it). */
  message?: string;
}

const KEY_ORDER: (keyof ActivityEntry)[] = ['at', 'actor', 'verb', 'task', 'stage', 'value', 'via', 'message'];

export function formatActivityLine(entry: ActivityEntry): string {
  const ordered: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (entry[k] !== undefined) ordered[k] = entry[k];
  return `${JSON.stringify(ordered)}\n`;
}

/** Parse a log; a torn or foreign line is skipped, never fatal (the log is append-only). */
export function parseActivityLog(text: string): ActivityEntry[] {
  const out: ActivityEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line);
      if (v && typeof v.at === 'string' && typeof v.actor === 'string' && (ACTIVITY_VERBS as readonly string[]).includes(v.verb)) out.push(v);
    } catch {
      // A line torn by a crash mid-append: ignore it.
    }
  }
  return out;
}

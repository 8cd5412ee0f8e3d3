/**
 * `twofold status [--json] [--now <date>]`: the CSM's portfolio, one row per plan: progress,
 * current stage, health and why, the next check-in and whose move it is. Health comes from
 * plan-health.ts, the same function the portal uses.
 */
import { nextCheckin, type CheckinPlan } from '../../../site/core/calendar/checkin-schedule.ts';
import { HEALTH_LABELS, planHealth, type PlanHealth } from '../../../site/core/plan/plan-health.ts';
import { currentStage, planTitle, progressOf, whoseMove, type Progress } from '../../../site/core/plan/plan-model.ts';
import { formatDay, formatInstant } from '../../../site/core/util/format.ts';
import { readRecords } from '../../../site/lib/plan-records-fs.ts';
import { readAllPlans } from '../../../site/lib/plan-store-fs.ts';
import { clockFromOption, NOW_OPTION_DOC, todayIn } from '../cli-clock.ts';
import { print, type CliCommand } from '../cli-command.ts';

export const INVALID_ROW = 'invalid — run twofold check';

export type StatusRow =
  | {
      slug: string;
      file: string;
      ok: true;
      client: string;
      title: string;
      timezone: string;
      today: string;
      progress: Progress;
      stage: { id: string; name: string; number: number; of: number };
      health: PlanHealth;
      nextCheckin: string | null;
      move: 'client' | 'vendor' | null;
    }
  | { slug: string; file: string; ok: false; status: string; errors: number };

export const command: CliCommand = {
  name: 'status',
  summary: 'portfolio: progress, stage, health, next check-in and whose move, per plan',
  usage: [
    'npx twofold status [--json] [--now <date|time>]',
    '',
    '  --json             print { now, plans: [...] } with one object per plan',
    `  ${NOW_OPTION_DOC}`,
    '',
    'Health: stalled = a task 7+ days overdue or a blocker past the last escalation step;',
    'at risk = a task 1–6 days overdue or a blocker past the first step; otherwise on track.',
  ].join('\n'),
  options: { json: { type: 'boolean', default: false }, now: { type: 'string' } },
  positionals: false,
  async run({ values }, ctx) {
    const clock = clockFromOption(values.now as string | undefined);
    const results = await readAllPlans(ctx.paths);
    const rows: StatusRow[] = [];
    for (const result of results) {
      if (!result.ok) {
        rows.push({ slug: result.file.slug, file: result.file.label, ok: false, status: INVALID_ROW, errors: result.problems.filter((p) => p.severity === 'error').length });
        continue;
      }
      const { plan, slug, label } = result.value;
      const today = todayIn(clock, plan.timezone);
      const stage = currentStage(plan);
      const records = await readRecords(ctx.paths, slug);
      const checkin = nextCheckin(plan, slug, records, clock.instant);
      rows.push({
        slug,
        file: label,
        ok: true,
        client: plan.client,
        title: planTitle(plan),
        timezone: plan.timezone,
        today,
        progress: progressOf(plan),
        stage: { id: stage.stage.id, name: stage.stage.name, number: stage.index + 1, of: plan.stages.length },
        health: planHealth(plan, today, records),
        nextCheckin: checkin ? checkinLabel(checkin) : null,
        move: whoseMove(plan, today) ?? null,
      });
    }

    if (values.json) {
      print(ctx.stdout, JSON.stringify({ now: clock.date ?? clock.instant.toISOString(), plans: rows }, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      print(ctx.stdout, 'no plans yet: create one with `npx twofold new <slug> --client "Name" --template saas-onboarding --start YYYY-MM-DD`');
      return 0;
    }
    print(ctx.stdout, table(rows, ctx.isTTY ? TTY_HEALTH_WIDTH : Infinity));
    return 0;
  },
};

/** On a terminal the health reason is cut to this many characters; `--json` has all reasons. */
const TTY_HEALTH_WIDTH = 90;

/** "Wed, Dec 16, 2026, 2:00 PM EST", "Mon, Jan 4, 2027 (all day)" or "when Technical setup completes". */
export function checkinLabel(checkin: CheckinPlan): string {
  if (checkin.status === 'pending') return `when ${checkin.stageName} completes`;
  if (checkin.allDay && checkin.date) return `${formatDay(checkin.date)} (all day)`;
  return checkin.start ? formatInstant(checkin.start, checkin.timezone) : `when ${checkin.stageName} completes`;
}

const HEADERS = ['PLAN', 'PROGRESS', 'STAGE', 'HEALTH', 'NEXT CHECK-IN', 'MOVE'] as const;

function cells(row: StatusRow, healthWidth: number): string[] {
  if (!row.ok) return [row.slug, '', '', row.status, '', ''];
  const { progress, stage, health } = row;
  const more = health.reasons.length > 1 ? ` (+${health.reasons.length - 1} more)` : '';
  return [
    row.slug,
    `${progress.percent}% (${progress.done}/${progress.total})`,
    `${stage.number}/${stage.of} ${stage.name}`,
    clip(`${HEALTH_LABELS[health.level]}: ${health.reasons[0] ?? ''}${more}`, healthWidth),
    row.nextCheckin ?? '—',
    row.move ?? '—',
  ];
}

/** Aligned columns; the last column is not padded so lines carry no trailing spaces. */
function table(rows: StatusRow[], healthWidth: number): string {
  const grid = [[...HEADERS], ...rows.map((r) => cells(r, healthWidth))];
  const widths = HEADERS.map((_, i) => Math.max(...grid.map((r) => [...(r[i] ?? '')].length)));
  return grid
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ').trimEnd())
    .join('\n');
}

function clip(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

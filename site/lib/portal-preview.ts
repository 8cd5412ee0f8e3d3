/** The unencrypted portal HTML for `twofold dev`, rendered by the same code as a sealed portal. */
import { planCheckins } from '../core/calendar/checkin-schedule.ts';
import { renderPortalHtml } from '../core/render/portal-html.ts';
import { readActivity, readRecords } from './plan-records-fs.ts';
import { readPlan } from './plan-store-fs.ts';
import { buildPaths } from './build-context.ts';

export async function previewHtml(slug: string, bodyHtml: string): Promise<string> {
  const paths = buildPaths();
  const now = new Date();
  const stored = await readPlan(paths, slug);
  const [records, activity] = await Promise.all([readRecords(paths, slug), readActivity(paths, slug)]);
  return renderPortalHtml({ plan: stored.plan, records, activity, bodyHtml, checkins: planCheckins(stored.plan, slug, records, now), now });
}

/**
 * Ages shown in a portal ("blocked for 12 days"). A sealed page is opened days after it was
 * built, so the unlock script refreshes every `<time data-age-since="YYYY-MM-DD">` against today
 * in the plan's time zone (`data-age-zone`, the zone every age in the plan is counted in, so the
 * card agrees with the health line), and words it with the renderer's `formatAge`.
 *
 * Plain Date.UTC arithmetic rather than site/core/util/dates.ts: this runs in the browser bundle,
 * which must not carry Luxon. Both count whole calendar days between two YYYY-MM-DD dates.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Whole calendar days from `since` to `today` (both YYYY-MM-DD), or undefined for a bad date. */
export function daysSince(since: string, today: string): number | undefined {
  const a = utcDay(since);
  const b = utcDay(today);
  return a === undefined || b === undefined ? undefined : Math.round((b - a) / DAY_MS);
}

/** Today in an IANA zone, YYYY-MM-DD (Intl, no Luxon); the reader's local date when the zone is unknown. */
export function isoDateInZone(now: Date, zone: string | undefined): string {
  if (zone) {
    try {
      // en-CA formats dates as YYYY-MM-DD.
      return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
    } catch {
      // an unknown zone: fall back to the reader's date
    }
  }
  return localIsoDate(now);
}

/** The reader's local calendar date, YYYY-MM-DD. */
export function localIsoDate(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function utcDay(iso: string): number | undefined {
  const m = ISO_DATE.exec(iso);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  // Refuse 2026-02-30 and friends instead of rolling them over.
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? t : undefined;
}

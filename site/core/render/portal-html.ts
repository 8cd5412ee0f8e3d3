/**
 * The portal renderer: one plan (plus its records, activity and rendered narrative) to the HTML
 * that is sealed into the portal. The full build and the worker's fast path both call
 * `renderPortalHtml`, so the two can never disagree. Pure: `now` is passed in.
 *
 * Section order is the product's promise: the north star first, then progress, whose move it is,
 * blockers, the timeline with check-ins, the narrative, recent activity, whom to contact.
 */
import type { CheckinPlan } from '../calendar/checkin-schedule.ts';
import type { ActivityEntry } from '../plan/activity.ts';
import { planHealth, escalationStepReached, recordedEscalation, type PlanHealth } from '../plan/plan-health.ts';
import { allTasks, csmOf, golive, planTitle, progressOf, sponsorsOf, stageViews, type TaskView } from '../plan/plan-model.ts';
import type { EscalationRecord, PlanRecords } from '../plan/plan-records.ts';
import type { Person, Plan } from '../plan/plan-types.ts';
import { dateInZone } from '../util/dates.ts';
import { formatAge, formatDay, formatInstant, formatShortDay, plural } from '../util/format.ts';
import { html, trusted, type Html } from './html.ts';

export interface PortalInput {
  plan: Plan;
  records: PlanRecords;
  activity: ActivityEntry[];
  /** The narrative body, already rendered to HTML by Astro (trusted: written by the CSM). */
  bodyHtml: string;
  /** Every check-in the plan defines (site/core/calendar/checkin-schedule.ts). */
  checkins: CheckinPlan[];
  now: Date;
}

export const RECENT_ACTIVITY = 12;

export function renderPortalHtml(input: PortalInput): string {
  const { plan, now } = input;
  const today = dateInZone(now, plan.timezone);
  const tasks = allTasks(plan, today);
  const health = planHealth(plan, today, input.records);
  const people = new Map(plan.people.map((p) => [p.id, p]));
  const parts: Html[] = [
    header(plan, health),
    northStar(plan),
    progress(plan),
    waiting(plan, tasks),
    blockers(plan, input.records, tasks, today),
    timeline(plan, input, tasks),
    narrative(input.bodyHtml),
    activity(input.activity, people, plan),
    contacts(plan),
    footer(plan, today),
  ];
  return parts.map(String).join('\n');
}

function header(plan: Plan, health: PlanHealth): Html {
  return html`<header class="portal-header">
  <p class="eyebrow">${plan.client} × ${plan.vendor}</p>
  <h1 id="plan-title">${planTitle(plan)}</h1>
  <p class="header-meta">Go-live target <strong>${formatDay(golive(plan))}</strong>
    <span class="health health-${health.level}" role="status">${HEALTH_LABEL[health.level]}</span></p>
  ${health.reasons.length ? html`<ul class="health-reasons">${health.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
  <nav class="portal-actions" aria-label="Portal actions">
    <a href="#timeline">Timeline</a> <a href="#contacts">Contacts</a>
    <button type="button" data-action="print">Print</button>
    <button type="button" data-action="lock">Lock</button>
  </nav>
</header>`;
}

const HEALTH_LABEL: Record<PlanHealth['level'], string> = { on_track: 'On track', at_risk: 'At risk', stalled: 'Stalled' };

function northStar(plan: Plan): Html {
  const criteria = plan.success.criteria;
  return html`<section class="north-star" aria-labelledby="north-star-title">
  <h2 id="north-star-title">What success means</h2>
  <p class="outcome">${plan.success.outcome}</p>
  ${criteria.length
    ? html`<table class="criteria"><caption>How we will know</caption>
    <thead><tr><th scope="col">Measure</th>${criteria.some((c) => c.baseline) ? html`<th scope="col">Today</th>` : ''}<th scope="col">Target</th></tr></thead>
    <tbody>${criteria.map((c) => html`<tr><th scope="row">${c.metric}</th>${criteria.some((x) => x.baseline) ? html`<td>${c.baseline ?? '—'}</td>` : ''}<td>${c.target}</td></tr>`)}</tbody></table>`
    : ''}
</section>`;
}

function progress(plan: Plan): Html {
  const overall = progressOf(plan);
  return html`<section class="progress" aria-labelledby="progress-title">
  <h2 id="progress-title">Progress</h2>
  <p class="overall"><progress max="${overall.total}" value="${overall.done}" aria-labelledby="overall-label"></progress>
    <span id="overall-label">${overall.percent}% — ${overall.done} of ${plural(overall.total, 'task')} done</span></p>
  <ol class="stage-progress">${stageViews(plan).map(
    (s) => html`<li class="${s.complete ? 'complete' : ''}"><span class="stage-name">${s.stage.name}</span>
      <progress max="${Math.max(1, s.total)}" value="${s.done}" aria-label="${s.stage.name}: ${s.done} of ${s.total} tasks done"></progress>
      <span class="stage-count">${s.done}/${s.total}${s.complete ? ' ✓' : ''}</span></li>`,
  )}</ol>
</section>`;
}

function taskItem(t: TaskView, extra?: Html | string): Html {
  const overdue = t.overdueDays > 0 ? html` · <strong class="overdue">${formatAge(t.overdueDays)} overdue</strong>` : '';
  return html`<li class="task status-${t.task.status}" data-owner="${t.owner.id}" data-task="${t.task.id}">
  <span class="task-id">${t.task.id}</span> <span class="task-title">${t.task.title}</span>
  <span class="task-meta">${t.owner.name} · due ${formatShortDay(t.due)}${overdue}${t.task.status === 'in_progress' ? ' · in progress' : t.task.status === 'blocked' ? ' · blocked' : ''}</span>${extra ?? ''}
  ${t.task.link ? html`<a class="task-link" href="${t.task.link}" rel="noopener noreferrer">Open the link for ${t.task.id}</a>` : ''}
</li>`;
}

function waiting(plan: Plan, tasks: TaskView[]): Html {
  const open = tasks.filter((t) => t.task.status !== 'done').sort((a, b) => (a.due < b.due ? -1 : a.due > b.due ? 1 : 0));
  const column = (title: string, side: 'client' | 'vendor', who: string) => {
    const mine = open.filter((t) => t.owner.side === side);
    return html`<div class="waiting-column">
    <h3>${title} <span class="side-name">(${who})</span></h3>
    ${mine.length ? html`<ul class="task-list">${mine.map((t) => taskItem(t))}</ul>` : html`<p class="empty">Nothing open.</p>`}
  </div>`;
  };
  return html`<section class="waiting" aria-labelledby="waiting-title">
  <h2 id="waiting-title">Open tasks</h2>
  <div class="waiting-columns">
  ${column('Waiting on you', 'client', plan.client)}
  ${column('Waiting on us', 'vendor', plan.vendor)}
  </div>
</section>`;
}

function blockers(plan: Plan, records: PlanRecords, tasks: TaskView[], today: string): Html {
  const blocked = tasks.filter((t) => t.task.status === 'blocked');
  if (blocked.length === 0) {
    return html`<section class="blockers" aria-labelledby="blockers-title"><h2 id="blockers-title">Blockers</h2><p class="empty">No blockers.</p></section>`;
  }
  return html`<section class="blockers" aria-labelledby="blockers-title">
  <h2 id="blockers-title">Blockers</h2>
  <ul class="blocker-list">${blocked.map((t) => {
    const since = t.task.blocked?.since;
    const recorded = recordedEscalation(records, t.task);
    const step = recorded?.step ?? -1;
    const stepText = escalationText(plan, t, recorded, today);
    return html`<li class="blocker" data-owner="${t.owner.id}" data-task="${t.task.id}">
    <p><span class="task-id">${t.task.id}</span> <strong>${t.task.title}</strong></p>
    <p class="blocker-reason">Waiting on: ${t.task.blocked?.reason ?? 'no reason given'}</p>
    <p class="blocker-meta">Owner ${t.owner.name} · ${since ? html`blocked since ${formatShortDay(since)} (<time datetime="${since}" data-age-since="${since}" data-age-zone="${plan.timezone}">${formatAge(t.blockedDays ?? 0)}</time>)` : 'blocked (date unknown)'}</p>
    <p class="escalation-step step-${step + 1}">${stepText}</p>
  </li>`;
  })}</ul>
</section>`;
}

/**
 * What the blocker's escalation is: the step the tick recorded as notified (who, and the day),
 * else when the ladder's first step fires, or that a step is due and goes out with the next
 * scheduled run (the blocker is past a threshold the tick has not yet notified).
 */
function escalationText(plan: Plan, t: TaskView, recorded: EscalationRecord | undefined, today: string): string {
  const ladder = plan.escalation;
  const nameOf = (id: string) => plan.people.find((p) => p.id === id)?.name ?? id;
  const due = escalationStepReached(plan, t.task, today);
  if (recorded) {
    const notified = recorded.notified?.length
      ? recorded.notified.map((email) => plan.people.find((p) => p.email === email)?.name ?? email)
      : (ladder[recorded.step]?.notify ?? []).map(nameOf);
    const day = Number.isNaN(Date.parse(recorded.at)) ? '' : ` on ${formatShortDay(dateInZone(new Date(recorded.at), plan.timezone))}`;
    const next = due > recorded.step ? `; step ${due + 1} due` : '';
    return `Escalated: step ${recorded.step + 1} of ${Math.max(ladder.length, recorded.step + 1)} — ${notified.join(', ')} notified${day}${next}`;
  }
  if (ladder.length === 0) return 'No escalation ladder';
  if (due >= 0) return `Escalation step ${due + 1} of ${ladder.length} due — ${ladder[due]!.notify.map(nameOf).join(', ')} to be notified`;
  return `Escalates after ${ladder[0]!.after} blocked`;
}

function timeline(plan: Plan, input: PortalInput, tasks: TaskView[]): Html {
  const checkins = new Map(input.checkins.map((c) => [c.stageId, c]));
  return html`<section class="timeline" id="timeline" aria-labelledby="timeline-title">
  <h2 id="timeline-title">Timeline</h2>
  <ol class="stages">${stageViews(plan).map((s) => {
    const checkin = checkins.get(s.stage.id);
    const rsvps = input.records.rsvps[s.stage.id] ?? {};
    return html`<li class="stage ${s.complete ? 'complete' : ''}" id="stage-${s.stage.id}">
    <h3>${s.stage.name} <span class="stage-due">due ${formatDay(s.due)}</span></h3>
    ${s.stage.goal ? html`<p class="stage-goal">${s.stage.goal}</p>` : ''}
    ${checkin ? checkinBlock(plan, checkin, rsvps) : ''}
    <ul class="task-list">${tasks.filter((t) => t.stageIndex === s.index).map((t) => taskItem(t, t.task.status === 'done' ? html` <span class="done-mark">done${t.task.done ? ` ${formatShortDay(t.task.done)}` : ''}</span>` : ''))}</ul>
  </li>`;
  })}</ol>
</section>`;
}

function checkinBlock(plan: Plan, c: CheckinPlan, rsvps: Record<string, { partstat: string }>): Html {
  const when = c.status === 'pending' ? `when ${c.stageName} completes` : c.allDay && c.date ? `${formatDay(c.date)} (all day)` : c.start ? formatInstant(c.start, plan.timezone) : 'to be scheduled';
  const answers = Object.entries(rsvps).map(([email, r]) => {
    const p = plan.people.find((x) => x.email === email);
    return html`<li>${p?.name ?? email}: ${r.partstat.toLowerCase()}</li>`;
  });
  return html`<div class="checkin">
    <p><strong>Check-in</strong> — ${when}${c.status === 'scheduled' && !c.allDay ? ` (${c.minutes} min)` : ''}</p>
    ${answers.length ? html`<ul class="rsvps" aria-label="Answers">${answers}</ul>` : ''}
    ${c.status === 'scheduled' ? html`<button type="button" class="add-to-calendar" data-ics="${c.stageId}">Add to calendar</button>` : ''}
  </div>`;
}

function narrative(bodyHtml: string): Html {
  if (!bodyHtml.trim()) return html``;
  return html`<section class="narrative" aria-labelledby="narrative-title">
  <h2 id="narrative-title">About this plan</h2>
  <div class="prose">${trusted(bodyHtml)}</div>
</section>`;
}

const VERB_TEXT: Record<string, string> = {
  done: 'marked done',
  blocked: 'marked blocked',
  unblock: 'unblocked',
  reopen: 'reopened',
  in_progress: 'started',
  due: 'moved the due date of',
  note: 'added a note to',
  escalated: 'escalated',
  stage_complete: 'completed stage',
  rsvp: 'answered the check-in for',
  invite: 'sent the check-in invite for',
  reminder: 'reminded about',
  created: 'created',
  edited: 'edited',
};

function activity(entries: ActivityEntry[], people: Map<string, Person>, plan: Plan): Html {
  const recent = entries.slice(-RECENT_ACTIVITY).reverse();
  return html`<section class="activity" aria-labelledby="activity-title">
  <h2 id="activity-title">Recent activity</h2>
  ${recent.length
    ? html`<ol class="activity-list">${recent.map((e) => {
        const who = e.actor === 'twofold' ? 'Twofold' : people.get(e.actor)?.name ?? e.actor;
        const what = [VERB_TEXT[e.verb] ?? e.verb, e.task ?? e.stage ?? ''].filter(Boolean).join(' ');
        return html`<li><time datetime="${e.at}">${formatInstant(e.at, plan.timezone)}</time> — ${who} ${what}${e.value ? html`: <q>${e.value}</q>` : ''}</li>`;
      })}</ol>`
    : html`<p class="empty">No activity yet.</p>`}
</section>`;
}

function contacts(plan: Plan): Html {
  const csm = csmOf(plan);
  const sponsors = new Set(sponsorsOf(plan).map((p) => p.id));
  const side = (s: 'client' | 'vendor', title: string) => html`<div class="contact-side"><h3>${title}</h3><ul>${plan.people
    .filter((p) => p.side === s)
    .map((p) => html`<li data-owner="${p.id}"><strong>${p.name}</strong>${p.role ? `, ${p.role}` : ''}${p.id === csm.id ? ' — your main contact' : ''}${sponsors.has(p.id) ? ' — executive sponsor' : ''}<br><a href="mailto:${p.email}">${p.email}</a></li>`)}</ul></div>`;
  return html`<section class="contacts" id="contacts" aria-labelledby="contacts-title">
  <h2 id="contacts-title">Whom to contact</h2>
  <div class="contact-columns">${side('vendor', plan.vendor)}${side('client', plan.client)}</div>
</section>`;
}

/** Dated by day, not minute: a portal whose plan did not change seals to the same bytes all day. */
function footer(_plan: Plan, today: string): Html {
  return html`<footer class="portal-footer"><p>Plan as of ${formatDay(today)}. Reply to any task email to update it.</p></footer>`;
}

/**
 * Realistic synthetic plans for the benchmark: 4 stages of 5 tasks, a 1–2 KB narrative body,
 * people on both sides, a few blockers, deterministic for a given seed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const COMPANIES = ['Arbor', 'Bluefin', 'Cobalt', 'Driftwood', 'Ember', 'Fjord', 'Granite', 'Harbor', 'Ironwood', 'Juniper', 'Kestrel', 'Lumen', 'Meridian', 'Nimbus', 'Onyx', 'Pinnacle', 'Quarry', 'Redwood', 'Summit', 'Tidewater'];
const SUFFIX = ['Logistics', 'Health', 'Foods', 'Energy', 'Retail', 'Freight', 'Labs', 'Mutual', 'Systems', 'Outfitters'];
const FIRST = ['Avery', 'Blake', 'Casey', 'Devon', 'Emery', 'Finley', 'Gray', 'Harper', 'Indy', 'Jules', 'Kai', 'Logan', 'Morgan', 'Noel', 'Oakley', 'Parker', 'Quinn', 'Reese', 'Sage', 'Tatum'];
const LAST = ['Abara', 'Bergstrom', 'Castellano', 'Dubois', 'Eriksen', 'Fujimoto', 'Gallagher', 'Haddad', 'Ivanova', 'Jaramillo', 'Kowalski', 'Lindqvist', 'Mbeki', 'Nakamura', 'Okafor', 'Petrov', 'Quintero', 'Rasmussen', 'Saito', 'Trujillo'];
const ZONES = ['America/Chicago', 'America/New_York', 'America/Los_Angeles', 'Europe/Berlin', 'Europe/London', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland'];
const STAGES = [
  ['kickoff', 'Kickoff and success definition', 'Agree what success means and who owns what'],
  ['setup', 'Technical setup', 'Connect systems and single sign-on'],
  ['adoption', 'Training and adoption', 'Train every team that will use the product'],
  ['golive', 'Go-live and value review', 'Switch over and measure the outcome'],
] as const;
const TASKS = [
  'Confirm the success criteria with the operations team', 'Share the SSO metadata file', 'Provision the sandbox tenant',
  'Export last quarter\'s routes as CSV', 'Schedule the admin training', 'Review the data mapping', 'Approve the security questionnaire',
  'Invite the pilot users', 'Configure the nightly sync', 'Sign off the go-live checklist', 'Run the value review workshop',
  'Publish the internal announcement', 'Set up the reporting dashboard', 'Validate the imported records', 'Name the executive sponsor',
];
const PARAGRAPHS = [
  'This plan is the single place where both teams see what happens next, who owns it, and what success looks like. Reply to any task email to update it; the portal changes within seconds.',
  'During the technical setup we connect your identity provider, import historical data and configure the nightly synchronisation. Your IT lead owns the security review; we own the configuration.',
  'Training is organised by role: dispatchers first, then planners, then managers. Each session lasts ninety minutes and is recorded for people who cannot attend.',
  'At go-live we switch the daily planning over, keep the old process available for one week, and hold a value review four weeks later to compare against the baseline.',
  'If anything blocks you, reply with "blocked:" and the reason. Blockers escalate automatically to the sponsors named in this plan so nothing waits in silence.',
  'Useful links: the admin guide, the data import template and the security whitepaper are in the shared folder. Ask your customer success manager for access if a link does not open.',
];

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticPlan(i: number, start = '2026-11-02'): { slug: string; text: string } {
  const r = prng(i + 1);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!;
  const client = `${pick(COMPANIES)} ${pick(SUFFIX)} ${i}`;
  const slug = `plan-${String(i).padStart(4, '0')}`;
  const person = (id: string, side: string, role: string, extra = '') => {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    return `  - { id: ${id}, name: ${name}, email: ${id}.${i}@${side === 'vendor' ? 'northwind' : `client${i}`}.example, side: ${side}, role: ${role}${extra} }`;
  };
  const people = [
    person('csm', 'vendor', 'Customer Success Manager', ', csm: true'),
    person('vsponsor', 'vendor', 'VP Customer Success', ', sponsor: true'),
    person('se', 'vendor', 'Solutions Engineer'),
    person('it', 'client', 'IT lead'),
    person('ops', 'client', 'Operations manager'),
    person('csponsor', 'client', 'VP Operations', ', sponsor: true'),
  ];
  const owners = ['csm', 'se', 'it', 'ops', 'csponsor'];
  let t = 0;
  const stages = STAGES.map(([id, name, goal], si) => {
    const tasks = Array.from({ length: 5 }, (_, k) => {
      t++;
      const owner = owners[(k + si) % owners.length]!;
      const status = si === 0 ? 'done' : si === 1 && k < 2 ? (r() < 0.3 ? 'blocked' : 'done') : 'todo';
      const blocked = status === 'blocked' ? `, blocked: { reason: waiting on the security review, since: 2026-11-${10 + (i % 15)} }` : '';
      const done = status === 'done' ? `, done: 2026-11-${String(3 + si * 7 + k).padStart(2, '0')}` : '';
      return `      - { id: T${t}, title: ${pick(TASKS)}, owner: ${owner}, due: +${si * 14 + k * 2 + 3}d, status: ${status}${blocked}${done} }`;
    });
    return [
      `  - id: ${id}`,
      `    name: ${name}`,
      `    goal: ${goal}`,
      `    due: +${(si + 1) * 14}d`,
      `    checkin: { when: ${si % 2 ? 'at-due' : 'on-complete'}, minutes: 30, attendees: [csm, it, ops] }`,
      '    tasks:',
      ...tasks,
    ].join('\n');
  });
  const body: string[] = [`Welcome, ${client} team!`, ''];
  while (body.join('\n').length < 1000 + r() * 900) body.push(pick(PARAGRAPHS), '');
  const text = [
    '---',
    `client: ${client}`,
    'vendor: Northwind Analytics',
    `timezone: ${pick(ZONES)}`,
    `start: ${start}`,
    'golive: +70d',
    'people:',
    ...people,
    'success:',
    `  outcome: ${client} plans daily work in Northwind instead of spreadsheets, halving planning time.`,
    '  criteria:',
    '    - { metric: Planning time per day, target: 2 h or less (from 4 h) }',
    '    - { metric: Weekly active planners, target: 90% of the team }',
    'stages:',
    ...stages,
    'escalation:',
    '  - { after: 3d, notify: [csm] }',
    '  - { after: 7d, notify: [csponsor, vsponsor] }',
    '---',
    ...body,
  ].join('\n');
  return { slug, text };
}

export async function writeSyntheticPlans(dir: string, n: number, ext: '.md' | '.mdx' = '.mdx'): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const slugs: string[] = [];
  for (let i = 0; i < n; i++) {
    const { slug, text } = syntheticPlan(i);
    await writeFile(path.join(dir, `${slug}${ext}`), text);
    slugs.push(slug);
  }
  return slugs;
}

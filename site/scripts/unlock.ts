/**
 * The portal's unlock script (a plain module, no framework). DOM contract of the shell page:
 *
 *   <meta name="twofold-portal" content="<portalId>">
 *   <script type="application/json" id="twofold-sealed">ENVELOPE</script>
 *   <main id="unlock"> <form id="unlock-form"> #unlock-password, #unlock-remember, a submit
 *     button, <p id="unlock-error" role="alert" hidden>, <p id="unlock-status" aria-live="polite">
 *   <main id="portal" hidden tabindex="-1">  (filled with the decrypted payload's html)
 *
 * Ways in, in order:
 * 1. A personal link `#u=<linkId>.<secret>`: the fragment is removed from the address bar before
 *    anything else runs (no await before it), then the link's wrap is opened and that person's
 *    tasks are highlighted. A link only opens the page; it never performs an action (mail
 *    scanners pre-open links).
 * 2. A key remembered on this device for this portal and key generation (`kid`). A remembered key
 *    for another generation (the portal was re-keyed) or one that no longer opens is deleted
 *    silently and the form shows.
 * 3. The password form.
 *
 * Inside the opened portal: `button[data-ics]` downloads that check-in's .ics made here from the
 * payload, `time[data-age-since]` is refreshed against the reader's today, `button[data-action=lock]`
 * forgets the remembered key and reloads, `button[data-action=print]` prints.
 * `window.__twofoldUnlockMs` is the time from submit (or page start, for links and remembered
 * keys) to visible content, for the benchmark.
 */
import type { PortalPayload } from '../core/render/portal-payload.ts';
import { daysSince, isoDateInZone } from '../core/portal/portal-age.ts';
import { openEnvelope, parseEnvelope, unwrapWithSecret, type Envelope } from '../core/portal/portal-crypto.ts';
import { isPortalId, parseUnlockFragment, UNLOCK_FRAGMENT_PREFIX, type UnlockLink } from '../core/portal/portal-links.ts';
import { canonicalPassword } from '../core/portal/portal-password.ts';
import { decodePortalPayload } from '../core/portal/portal-payload-codec.ts';
import { formatAge } from '../core/util/format.ts';
import { forgetKey, forgetPortal, rememberedKeys, rememberKey } from './remembered-keys.ts';

declare global {
  interface Window {
    /** Milliseconds from submit (or page start) to visible content, for `twofold bench`. */
    __twofoldUnlockMs?: number;
  }
}

export const MESSAGES = {
  wrongPassword: 'That password does not open this plan. Check it and try again.',
  emptyPassword: 'Enter the password you were given.',
  unlocking: 'Unlocking…',
  openingLink: 'Opening your personal link…',
  linkRevoked: 'This personal link no longer opens the plan. Enter the password, or ask your contact for a new link.',
  linkInvalid: 'This personal link is incomplete or does not open the plan. Enter the password, or ask your contact for a new link.',
  damaged: 'This page is damaged and cannot be opened. Ask your contact for a fresh link.',
  unsupported: 'This browser cannot open encrypted plans. Please use a current version of Firefox, Chrome, Safari or Edge.',
} as const;

/** Revoke a download's object URL after the browser has surely started the download. */
const DOWNLOAD_URL_TTL_MS = 60_000;

// The link's secret must leave the address bar (and so history, screenshots and shoulder-surfers)
// before the first await: this runs synchronously at module evaluation.
const pageStart = performance.now();
const fragmentLink = takeUnlockFragment();

function takeUnlockFragment(): UnlockLink | 'invalid' | undefined {
  const hash = location.hash;
  if (!hash.startsWith(UNLOCK_FRAGMENT_PREFIX)) return undefined;
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  return parseUnlockFragment(hash) ?? 'invalid';
}

interface Shell {
  unlock: HTMLElement;
  form: HTMLFormElement;
  password: HTMLInputElement;
  remember: HTMLInputElement | null;
  submit: HTMLButtonElement | null;
  error: HTMLElement;
  status: HTMLElement;
  portal: HTMLElement;
}

function findShell(): Shell | undefined {
  const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;
  const unlock = byId('unlock');
  const form = byId<HTMLFormElement>('unlock-form');
  const password = byId<HTMLInputElement>('unlock-password');
  const error = byId('unlock-error');
  const status = byId('unlock-status');
  const portal = byId('portal');
  if (!unlock || !form || !password || !error || !status || !portal) return undefined;
  return { unlock, form, password, remember: byId<HTMLInputElement>('unlock-remember'), submit: form.querySelector('button[type="submit"], button:not([type])'), error, status, portal };
}

async function start(): Promise<void> {
  const found = findShell();
  if (!found) return;
  const shell: Shell = found;
  const ui = shellUi(shell);
  if (!globalThis.crypto?.subtle) return ui.fail(MESSAGES.unsupported);
  const parsed = parseEnvelope(document.getElementById('twofold-sealed')?.textContent ?? '');
  if (!parsed.ok) return ui.fail(MESSAGES.damaged);
  const envelope = parsed.envelope;
  const portalMeta = document.querySelector<HTMLMetaElement>('meta[name="twofold-portal"]')?.content ?? '';
  // Without a valid portal id there is nothing to key a remembered key by: remembering is off.
  const portalId = isPortalId(portalMeta) ? portalMeta : undefined;
  let payload: PortalPayload | undefined;

  const show = (opened: PortalPayload, since: number, viewer?: string) => {
    payload = opened;
    document.title = opened.title;
    shell.portal.innerHTML = opened.html;
    refreshAges(shell.portal);
    if (viewer !== undefined) highlight(viewer);
    shell.portal.hidden = false;
    shell.unlock.hidden = true;
    shell.portal.focus();
    window.__twofoldUnlockMs = performance.now() - since;
  };

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const ics = target?.closest<HTMLButtonElement>('button[data-ics]');
    if (ics && payload && shell.portal.contains(ics)) {
      event.preventDefault();
      downloadCalendar(payload, ics.dataset.ics ?? '');
      return;
    }
    const action = target?.closest<HTMLButtonElement>('button[data-action]')?.dataset.action;
    if (action === 'lock') {
      event.preventDefault();
      void (portalId ? forgetPortal(portalId) : Promise.resolve()).catch(() => {}).finally(() => location.reload());
    } else if (action === 'print') {
      event.preventDefault();
      window.print();
    }
  });

  shell.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submitPassword();
  });

  async function submitPassword(): Promise<void> {
    if (ui.busy) return;
    const since = performance.now();
    const typed = shell.password.value;
    if (canonicalPassword(typed) === '') return ui.wrong(MESSAGES.emptyPassword);
    ui.working(MESSAGES.unlocking);
    const unwrapped = await unwrapWithSecret(envelope, typed);
    if (!unwrapped.ok) return ui.wrong(unwrapped.reason === 'malformed' ? MESSAGES.damaged : MESSAGES.wrongPassword);
    const opened = await openPayload(envelope, unwrapped.key);
    if (!opened) return ui.wrong(MESSAGES.damaged);
    if (shell.remember?.checked && portalId) await rememberKey(portalId, envelope.kid, unwrapped.key).catch(() => {});
    shell.password.value = '';
    ui.done();
    show(opened, since);
  }

  if (fragmentLink !== undefined) {
    if (fragmentLink === 'invalid') return ui.wrong(MESSAGES.linkInvalid);
    ui.working(MESSAGES.openingLink);
    const unwrapped = await unwrapWithSecret(envelope, fragmentLink.secret, fragmentLink.linkId);
    if (!unwrapped.ok) return ui.wrong(unwrapped.reason === 'no-such-link' ? MESSAGES.linkRevoked : unwrapped.reason === 'malformed' ? MESSAGES.damaged : MESSAGES.linkInvalid);
    const opened = await openPayload(envelope, unwrapped.key);
    if (!opened) return ui.wrong(MESSAGES.damaged);
    ui.done();
    const viewer = Object.hasOwn(opened.links, fragmentLink.linkId) ? opened.links[fragmentLink.linkId] : undefined;
    return show(opened, pageStart, viewer);
  }

  if (portalId) {
    const opened = await openRemembered(envelope, portalId);
    if (opened) return show(opened, pageStart);
  }
}

/** Try the key remembered for this portal's current `kid`; delete stale or failing ones silently. */
async function openRemembered(envelope: Envelope, portalId: string): Promise<PortalPayload | undefined> {
  let records;
  try {
    records = await rememberedKeys(portalId);
  } catch {
    return undefined; // no IndexedDB (private mode, blocked storage): the form it is
  }
  let opened: PortalPayload | undefined;
  for (const record of records) {
    if (record.kid === envelope.kid && !opened) opened = await openPayload(envelope, record.key);
    if (record.kid !== envelope.kid || !opened) await forgetKey(portalId, record.kid).catch(() => {});
  }
  return opened;
}

async function openPayload(envelope: Envelope, key: CryptoKey): Promise<PortalPayload | undefined> {
  try {
    return decodePortalPayload(await openEnvelope(envelope, key));
  } catch {
    return undefined;
  }
}

function shellUi(shell: Shell) {
  const ui = {
    busy: false,
    working(status: string) {
      ui.busy = true;
      shell.error.hidden = true;
      shell.error.textContent = '';
      shell.status.textContent = status;
      shell.form.setAttribute('aria-busy', 'true');
      if (shell.submit) shell.submit.disabled = true;
    },
    done() {
      ui.busy = false;
      shell.status.textContent = '';
      shell.form.removeAttribute('aria-busy');
      if (shell.submit) shell.submit.disabled = false;
    },
    /** A failure the reader can fix: say so, keep the form usable, put the cursor back. */
    wrong(message: string) {
      ui.done();
      shell.error.textContent = message;
      shell.error.hidden = false;
      shell.password.focus();
      shell.password.select();
    },
    /** A failure nobody on this page can fix: say so and disable the form. */
    fail(message: string) {
      ui.wrong(message);
      shell.password.disabled = true;
      if (shell.submit) shell.submit.disabled = true;
    },
  };
  return ui;
}

/** Mark the viewer's tasks. Compared as strings, never put into a selector. */
function highlight(personId: string): void {
  document.body.dataset.viewer = personId;
  for (const el of document.querySelectorAll<HTMLElement>('[data-owner]')) {
    if (el.dataset.owner === personId) el.classList.add('is-mine');
  }
}

function refreshAges(root: HTMLElement): void {
  const now = new Date();
  for (const el of root.querySelectorAll<HTMLElement>('time[data-age-since]')) {
    const days = daysSince(el.dataset.ageSince ?? '', isoDateInZone(now, el.dataset.ageZone));
    if (days !== undefined) el.textContent = formatAge(days);
  }
}

function downloadCalendar(payload: PortalPayload, stageId: string): void {
  const file = Object.hasOwn(payload.calendar, stageId) ? payload.calendar[stageId] : undefined;
  if (!file) return;
  const url = URL.createObjectURL(new Blob([file.ics], { type: 'text/calendar' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_TTL_MS);
}

// Module scripts run after parsing; a classic include may not, so wait for the DOM if needed.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start(), { once: true });
else void start();

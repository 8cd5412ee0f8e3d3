/**
 * What is sealed inside a portal: the rendered plan, the title the page takes once unlocked,
 * which personal link belongs to whom (for highlighting), and each check-in's calendar file.
 * JSON, so the browser needs nothing but JSON.parse after decryption.
 */
import { planTitle } from '../plan/plan-model.ts';
import { renderPortalHtml, type PortalInput } from './portal-html.ts';

export const PAYLOAD_VERSION = 1;

export interface PortalPayload {
  v: typeof PAYLOAD_VERSION;
  title: string;
  html: string;
  /** linkId → person id, so a personal link can highlight that person's tasks. */
  links: Record<string, string>;
  /** stageId → the check-in as an .ics file (same UID and SEQUENCE as the emailed invite). */
  calendar: Record<string, { filename: string; ics: string }>;
}

export interface PayloadInput extends PortalInput {
  links: Record<string, string>;
  calendar: PortalPayload['calendar'];
}

export function portalPayload(input: PayloadInput): PortalPayload {
  return {
    v: PAYLOAD_VERSION,
    title: `${planTitle(input.plan)} · ${input.plan.vendor}`,
    html: renderPortalHtml(input),
    links: input.links,
    calendar: input.calendar,
  };
}

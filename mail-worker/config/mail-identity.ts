import type { ReplyAddressConfig } from '../../site/core/reply/reply-address.ts';

/** The reply-address shape lives in core (reply tokens need it); re-exported for the worker. */
export type { ReplyAddressConfig };

/**
 * Who Twofold's outgoing mail is from and where replies go. Built from the worker config
 * (`mail-worker/config/worker-config.ts`); the embedded defaults use `twofold.localhost`.
 */
export interface MailIdentity {
  /** The sending mailbox (task emails, digests, confirmations, escalations). */
  from: { name: string; address: string };
  /**
   * Reply addresses carry a signed token: `plus` → `<localPart>+<token>@<domain>`,
   * `subdomain` → `<token>@<domain>` (a catch-all reply subdomain).
   */
  reply: ReplyAddressConfig;
  /** Base URL where `dist/` is published, e.g. https://plans.northwind.example (no trailing slash). */
  portalBaseUrl: string;
  /** Right-hand side of Message-IDs Twofold generates. */
  messageIdDomain: string;
}

export const EMBEDDED_IDENTITY: MailIdentity = {
  from: { name: 'Twofold', address: 'twofold@twofold.localhost' },
  reply: { mode: 'plus', localPart: 'twofold', domain: 'twofold.localhost' },
  portalBaseUrl: 'http://localhost:4321',
  messageIdDomain: 'twofold.localhost',
};

/**
 * How often handling a message has failed, so a poison message is moved to the Failed folder
 * after N attempts instead of being retried forever. The default lives in memory; the worker can
 * back it with its journal so the count survives a restart and is shared by two workers.
 */
export interface AttemptKey {
  /** The mailbox and its UIDVALIDITY: together with the UID, stable while the message stays there. */
  mailbox: string;
  uidValidity: string;
  uid: number;
  /** From the IMAP envelope, when the message has one (for a journal keyed by Message-ID). */
  messageId?: string;
}

export interface AttemptCounter {
  /** Failed attempts recorded so far. */
  get(key: AttemptKey): Promise<number> | number;
  /** Records one more failed attempt and returns the new count. */
  fail(key: AttemptKey, error: string): Promise<number> | number;
  /** The message left the mailbox: forget it. */
  clear(key: AttemptKey): Promise<void> | void;
}

export function memoryAttemptCounter(): AttemptCounter {
  const counts = new Map<string, number>();
  const id = (key: AttemptKey) => `${key.mailbox}\u0000${key.uidValidity}\u0000${key.uid}`;
  return {
    get: (key) => counts.get(id(key)) ?? 0,
    fail(key) {
      const next = (counts.get(id(key)) ?? 0) + 1;
      counts.set(id(key), next);
      return next;
    },
    clear(key) {
      counts.delete(id(key));
    },
  };
}

/**
 * "Remember me on this device": the portal's NON-extractable AES-GCM CryptoKey, kept in
 * IndexedDB (structured clone keeps it non-extractable; script can use it but never read its
 * bytes). Never the password. Records are keyed `<portalId>:<kid>`, so a re-keyed portal
 * simply has no record for its new kid and the stale one is deleted.
 */

const DB_NAME = 'twofold';
const DB_VERSION = 1;
const STORE = 'portal-keys';

export interface RememberedKey {
  id: string;
  portalId: string;
  kid: string;
  key: CryptoKey;
  savedAt: string;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE, { keyPath: 'id' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('IndexedDB is blocked'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T> | undefined): Promise<T | undefined> {
  const db = await openDb();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      let result: T | undefined;
      if (request) request.onsuccess = () => (result = request.result);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const portalRange = (portalId: string) => IDBKeyRange.bound(`${portalId}:`, `${portalId}:\uffff`);

export async function rememberKey(portalId: string, kid: string, key: CryptoKey): Promise<void> {
  if (key.extractable) throw new Error('refusing to remember an extractable key');
  const record: RememberedKey = { id: `${portalId}:${kid}`, portalId, kid, key, savedAt: new Date().toISOString() };
  await withStore('readwrite', (store) => store.put(record));
}

export async function rememberedKeys(portalId: string): Promise<RememberedKey[]> {
  return ((await withStore<RememberedKey[]>('readonly', (store) => store.getAll(portalRange(portalId)) as IDBRequest<RememberedKey[]>)) ?? []).filter(
    (r) => r && r.portalId === portalId && typeof r.kid === 'string' && r.key instanceof CryptoKey,
  );
}

export async function forgetKey(portalId: string, kid: string): Promise<void> {
  await withStore('readwrite', (store) => store.delete(`${portalId}:${kid}`));
}

/** Forget every key remembered for this portal (the Lock button). */
export async function forgetPortal(portalId: string): Promise<void> {
  await withStore('readwrite', (store) => store.delete(portalRange(portalId)));
}

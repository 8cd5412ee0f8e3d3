/**
 * The local secret store: portal ids, content keys, passwords, personal links and their key
 * wraps, and the reply-token keys. Default `.twofold/secrets.json` (`paths.secretsFile`, moved by
 * TWOFOLD_SECRETS_FILE), mode 0600, never in content/, git or dist/. In CI, TWOFOLD_SECRETS holds
 * the base64 of that JSON and the store is read-only.
 *
 * Cost rule: builds and the worker never pay PBKDF2 for an unchanged secret. Wraps are stored and
 * reused; only a new secret (one derivation) or a re-key (one per remaining secret) derives.
 * Derivations run outside the file lock; the change is committed under the lock only if the
 * portal has not changed meanwhile (its `rev`), else the step is redone. So the lock is held for
 * milliseconds, and concurrent writers (CLI, worker, build) never lose each other's updates.
 *
 * Re-key: rotating the password or revoking a link gives the portal a new content key and `kid`;
 * the old password or link stops opening the portal once it is sealed again. `portalId` (the URL)
 * never changes.
 */
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TwofoldError } from '../core/errors/problem.ts';
import { assertPlanSlug, isPlanSlug } from '../core/plan/plan-slug.ts';
import {
  CONTENT_KEY_BYTES,
  generateContentKey,
  KID_SHAPE,
  LINK_ID_SHAPE,
  validateWrap,
  wrapContentKey,
  type KeyWrap,
} from '../core/portal/portal-crypto.ts';
import { fromBase64Url, randomBase32, randomBytes, toBase64Url } from '../core/portal/portal-encoding.ts';
import { LINK_ID_BYTES, LINK_SECRET_BYTES, LINK_SECRET_SHAPE, PORTAL_ID_BYTES, PORTAL_ID_SHAPE } from '../core/portal/portal-links.ts';
import { writeFileAtomic } from './atomic-write-fs.ts';
import { withFileLock } from './file-lock-fs.ts';
import type { ProjectPaths } from './project-paths.ts';

export const SECRETS_FILE_MODE = 0o600;
export const SECRETS_DIR_MODE = 0o700;
export const STORE_VERSION = 1;
export const REPLY_KEY_BYTES = 32;
/** A re-key redone this often because others kept changing the portal gives up. */
export const MAX_COMMIT_ATTEMPTS = 5;
/** Largest TWOFOLD_SECRETS / secrets.json accepted. */
export const MAX_STORE_BYTES = 8 * 1024 * 1024;

export interface PasswordSecret {
  /** As shown to the CSM once (`xxxxx-xxxxx-xxxxx-xxxxx`); kept so a re-key can re-wrap it. */
  secret: string;
  wrap: KeyWrap;
  createdAt: string;
}

export interface LinkSecret {
  id: string;
  /** The person's email, lowercase. */
  person: string;
  secret: string;
  wrap: KeyWrap;
  createdAt: string;
}

export interface PortalSecrets {
  slug: string;
  /** The unguessable URL segment: `/p/<portalId>/`. Stable across builds and re-keys. */
  portalId: string;
  /** Content key generation; changes on every re-key. */
  kid: string;
  contentKey: Uint8Array;
  password?: PasswordSecret;
  links: LinkSecret[];
  /** Password wrap first, then every link wrap: what `sealPayload` needs. Empty: nobody could open it. */
  wraps: KeyWrap[];
  createdAt: string;
  rekeyedAt: string;
  /** Bumped on every change of this portal's secrets. */
  rev: number;
}

export interface PersonalLink extends LinkSecret {
  portalId: string;
  /** True when this call created the link (it opens the portal after the next seal). */
  created: boolean;
}

export interface ReplyKey {
  version: number;
  key: Uint8Array;
}

export interface SecretStore {
  /** `file` (read-write) or `env` (TWOFOLD_SECRETS, read-only). */
  readonly source: 'file' | 'env';
  readonly location: string;
  getPortal(slug: string): Promise<PortalSecrets | undefined>;
  /** The portal's secrets, creating its id and content key (no password, no links) when missing. */
  ensurePortal(slug: string): Promise<PortalSecrets>;
  /**
   * Set the password. The first password is wrapped under the current key; replacing one
   * (`replace: true`, else PORTAL_PASSWORD_EXISTS) re-keys and re-wraps every link.
   */
  setPassword(slug: string, password: string, options?: { replace?: boolean }): Promise<PortalSecrets>;
  /** The person's personal link, created and wrapped when missing (one PBKDF2 then, none after). */
  ensureLink(slug: string, email: string): Promise<PersonalLink>;
  /** Revoke the person's link and re-key; false when they had none. */
  revokeLink(slug: string, email: string): Promise<boolean>;
  /** The current reply-token key (created on first use), or a given version (undefined if unknown). */
  replyKey(): Promise<ReplyKey>;
  replyKey(version: number): Promise<ReplyKey | undefined>;
  /** Start a new reply-key version; older versions stay for verifying tokens already sent. */
  rotateReplyKey(): Promise<ReplyKey>;
}

// ── stored shape ─────────────────────────────────────────────────────────────────────────────

const b64url = (bytes: number) => z.string().refine((s) => fromBase64Url(s)?.length === bytes, { message: `must be ${bytes} base64url bytes` });
const wrapSchema = z.unknown().transform((w, ctx) => {
  // A stored wrap is checked exactly as an envelope's (iteration floor included).
  const checked = validateWrap(w);
  if (!checked.ok) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: checked.message });
    return z.NEVER;
  }
  return checked.wrap;
});
const isoTime = z.string().datetime({ offset: true });
const passwordSchema = z.object({ secret: z.string().min(1).max(1024), wrap: wrapSchema, createdAt: isoTime }).strict();
const linkSchema = z
  .object({
    id: z.string().regex(LINK_ID_SHAPE),
    person: z.string().min(3).max(254),
    secret: z.string().regex(LINK_SECRET_SHAPE),
    wrap: wrapSchema,
    createdAt: isoTime,
  })
  .strict();
const portalSchema = z
  .object({
    portalId: z.string().regex(PORTAL_ID_SHAPE),
    kid: z.string().regex(KID_SHAPE),
    contentKey: b64url(CONTENT_KEY_BYTES),
    password: passwordSchema.optional(),
    links: z.array(linkSchema).max(999),
    createdAt: isoTime,
    rekeyedAt: isoTime,
    rev: z.number().int().nonnegative(),
  })
  .strict();
const replyKeysSchema = z
  .object({
    current: z.number().int().positive(),
    keys: z.record(z.string().regex(/^[1-9]\d{0,5}$/), z.string().refine((s) => base64Bytes(s)?.length === REPLY_KEY_BYTES, { message: `must be ${REPLY_KEY_BYTES} base64 bytes` })),
  })
  .strict()
  .refine((r) => Object.hasOwn(r.keys, String(r.current)), { message: 'the current reply key version has no key' });
const storeSchema = z
  .object({
    version: z.literal(STORE_VERSION),
    portals: z.record(z.string().refine(isPlanSlug, { message: 'not a plan slug' }), portalSchema),
    replyKeys: replyKeysSchema.optional(),
  })
  .strict();

type StoreData = z.infer<typeof storeSchema>;
type StoredPortal = StoreData['portals'][string];

const emptyStore = (): StoreData => ({ version: STORE_VERSION, portals: {} });

// ── opening ──────────────────────────────────────────────────────────────────────────────────

/**
 * Open the store: TWOFOLD_SECRETS (read-only) when set, else `paths.secretsFile`. Refuses a file
 * inside content/ or dist/.
 */
export function openSecretStore(paths: ProjectPaths, env: Record<string, string | undefined> = {}): SecretStore {
  const fromEnv = env.TWOFOLD_SECRETS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return envStore(parseEnvSecrets(fromEnv));
  for (const dir of [paths.contentDir, paths.distDir]) {
    const rel = path.relative(dir, paths.secretsFile);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      throw new TwofoldError('PORTAL_SECRETS_IN_CONTENT', `the secret store ${paths.secretsFile} lies inside ${dir}`);
    }
  }
  return fileStore(paths.secretsFile);
}

function parseEnvSecrets(value: string): StoreData {
  const text = value.trim();
  const bytes = text.length <= (MAX_STORE_BYTES * 4) / 3 + 4 ? base64Bytes(text) : undefined;
  if (!bytes) throw new TwofoldError('PORTAL_SECRETS_INVALID', 'TWOFOLD_SECRETS is not base64 (or is too large)');
  return parseStore(new TextDecoder().decode(bytes), 'TWOFOLD_SECRETS');
}

function parseStore(text: string, where: string): StoreData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TwofoldError('PORTAL_SECRETS_INVALID', `${where} is not JSON`);
  }
  const parsed = storeSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TwofoldError('PORTAL_SECRETS_INVALID', `${where}: ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

// ── file store ───────────────────────────────────────────────────────────────────────────────

function fileStore(file: string): SecretStore {
  const lockFile = `${file}.lock`;

  /**
   * The last parse, keyed by the file's identity: writes replace the file (new inode), so an
   * unchanged stamp means unchanged content. At a thousand portals the store is a megabyte of
   * JSON whose validation must not run on every reply.
   */
  let cached: { stamp: string; data: StoreData } | undefined;

  /** Read-only callers share the cached parse; `commit` asks for a fresh one it may change. */
  async function read(fresh = false): Promise<StoreData> {
    let text: string;
    let stamp: string;
    try {
      const info = await stat(file);
      stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (!fresh && cached?.stamp === stamp) return cached.data;
      if (info.size > MAX_STORE_BYTES) throw new TwofoldError('PORTAL_SECRETS_INVALID', `${file} is larger than ${MAX_STORE_BYTES} bytes`);
      // A copied-in file may be world-readable: tighten it rather than leave secrets exposed.
      if ((info.mode & 0o077) !== 0) await chmod(file, SECRETS_FILE_MODE).catch(() => {});
      text = await readFile(file, 'utf8');
    } catch (err: any) {
      if (err?.code === 'ENOENT') return emptyStore();
      throw err;
    }
    const data = parseStore(text, file);
    if (!fresh) cached = { stamp, data };
    return data;
  }

  /** Re-read, change and write under the lock. `change` is fast (no PBKDF2); `write: false` leaves the file alone. */
  async function commit<T>(change: (data: StoreData) => { result: T; write: boolean }): Promise<T> {
    // Create the directory private before the lock file can create it with default permissions.
    await mkdir(path.dirname(file), { recursive: true, mode: SECRETS_DIR_MODE });
    return withFileLock(
      lockFile,
      async () => {
        const data = await read(true);
        const { result, write } = change(data);
        if (write) {
          await writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`, { mode: SECRETS_FILE_MODE });
        }
        return result;
      },
      { onTimeout: (holder) => new TwofoldError('PORTAL_SECRETS_LOCKED', `the secret store ${file} is locked by ${holder}`) },
    );
  }

  async function ensurePortal(slug: string): Promise<PortalSecrets> {
    assertPlanSlug(slug);
    const existing = (await read()).portals[slug];
    if (existing) return view(slug, existing);
    return commit((data) => {
      const found = data.portals[slug];
      if (found) return { result: view(slug, found), write: false };
      const created = newPortal();
      data.portals[slug] = created;
      return { result: view(slug, created), write: true };
    });
  }

  async function setPassword(slug: string, password: string, options: { replace?: boolean } = {}): Promise<PortalSecrets> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const before = await ensurePortal(slug);
      if (before.password && !options.replace) throw passwordExists(slug);
      const now = new Date().toISOString();
      if (!before.password) {
        // First password: the key stays, so links keep their wraps; one derivation.
        const wrap = await wrapContentKey(before.contentKey, password, { type: 'password' });
        const done = await commit((data) => {
          const p = data.portals[slug]!;
          if (p.password && !options.replace) throw passwordExists(slug);
          // Someone set a password or re-keyed meanwhile: start over (a replace then re-keys).
          if (p.password || p.kid !== before.kid) return { result: undefined, write: false };
          p.password = { secret: password, wrap, createdAt: now };
          p.rev += 1;
          return { result: view(slug, p), write: true };
        });
        if (done) return done;
        continue;
      }
      const key = generateContentKey();
      const passwordWrap = await wrapContentKey(key.raw, password, { type: 'password' });
      const links = await rewrapLinks(key.raw, before.links);
      const done = await commit((data) => {
        const p = data.portals[slug]!;
        if (p.rev !== before.rev) return { result: undefined, write: false };
        rekey(p, key, now);
        p.password = { secret: password, wrap: passwordWrap, createdAt: now };
        p.links = links;
        return { result: view(slug, p), write: true };
      });
      if (done) return done;
    }
    throw rekeyConflict(slug);
  }

  async function ensureLink(slug: string, email: string): Promise<PersonalLink> {
    const person = normalizeEmail(email);
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const before = await ensurePortal(slug);
      const existing = before.links.find((l) => l.person === person);
      if (existing) return { ...existing, portalId: before.portalId, created: false };
      const id = randomBase32(LINK_ID_BYTES);
      const secret = randomBase32(LINK_SECRET_BYTES);
      const wrap = await wrapContentKey(before.contentKey, secret, { type: 'link', id });
      const now = new Date().toISOString();
      const done = await commit((data) => {
        const p = data.portals[slug]!;
        const raced = p.links.find((l) => l.person === person);
        if (raced) return { result: { ...raced, portalId: p.portalId, created: false }, write: false };
        if (p.kid !== before.kid) return { result: undefined, write: false };
        const link: LinkSecret = { id, person, secret, wrap, createdAt: now };
        p.links.push(link);
        p.rev += 1;
        return { result: { ...link, portalId: p.portalId, created: true }, write: true };
      });
      if (done) return done;
    }
    throw rekeyConflict(slug);
  }

  async function revokeLink(slug: string, email: string): Promise<boolean> {
    assertPlanSlug(slug);
    const person = normalizeEmail(email);
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const stored = (await read()).portals[slug];
      if (!stored || !stored.links.some((l) => l.person === person)) return false;
      const before = view(slug, stored);
      const key = generateContentKey();
      const passwordWrap = before.password ? await wrapContentKey(key.raw, before.password.secret, { type: 'password' }) : undefined;
      const links = await rewrapLinks(key.raw, before.links.filter((l) => l.person !== person));
      const now = new Date().toISOString();
      const done = await commit((data) => {
        const p = data.portals[slug];
        if (!p || p.rev !== before.rev) return { result: undefined, write: false };
        rekey(p, key, now);
        if (p.password && passwordWrap) p.password = { ...p.password, wrap: passwordWrap };
        p.links = links;
        return { result: true, write: true };
      });
      if (done) return done;
    }
    throw rekeyConflict(slug);
  }

  async function replyKey(version?: number): Promise<ReplyKey | undefined> {
    const existing = (await read()).replyKeys;
    if (version !== undefined) return existing ? replyKeyOf(existing, version) : undefined;
    if (existing) return replyKeyOf(existing, existing.current)!;
    return commit((data) => {
      if (data.replyKeys) return { result: replyKeyOf(data.replyKeys, data.replyKeys.current)!, write: false };
      data.replyKeys = { current: 1, keys: { '1': base64(randomBytes(REPLY_KEY_BYTES)) } };
      return { result: replyKeyOf(data.replyKeys, 1)!, write: true };
    });
  }

  async function rotateReplyKey(): Promise<ReplyKey> {
    return commit((data) => {
      const next = (data.replyKeys?.current ?? 0) + 1;
      data.replyKeys = { current: next, keys: { ...(data.replyKeys?.keys ?? {}), [String(next)]: base64(randomBytes(REPLY_KEY_BYTES)) } };
      return { result: replyKeyOf(data.replyKeys, next)!, write: true };
    });
  }

  return {
    source: 'file',
    location: file,
    getPortal: async (slug) => {
      assertPlanSlug(slug);
      const p = (await read()).portals[slug];
      return p ? view(slug, p) : undefined;
    },
    ensurePortal,
    setPassword,
    ensureLink,
    revokeLink,
    replyKey: replyKey as SecretStore['replyKey'],
    rotateReplyKey,
  };
}

// ── env store (CI) ───────────────────────────────────────────────────────────────────────────

function envStore(data: StoreData): SecretStore {
  const readOnly = (what: string) => new TwofoldError('PORTAL_SECRETS_READ_ONLY', `cannot ${what}: the secret store comes from TWOFOLD_SECRETS`);
  const portal = (slug: string) => {
    assertPlanSlug(slug);
    const p = data.portals[slug];
    return p ? view(slug, p) : undefined;
  };
  async function replyKey(version?: number): Promise<ReplyKey | undefined> {
    if (version !== undefined) return data.replyKeys ? replyKeyOf(data.replyKeys, version) : undefined;
    if (!data.replyKeys) throw readOnly('create the reply-token key');
    return replyKeyOf(data.replyKeys, data.replyKeys.current)!;
  }
  return {
    source: 'env',
    location: 'TWOFOLD_SECRETS',
    getPortal: async (slug) => portal(slug),
    ensurePortal: async (slug) => {
      const p = portal(slug);
      if (!p) throw new TwofoldError('PORTAL_NOT_FOUND', `TWOFOLD_SECRETS has no keys for the portal "${slug}"`);
      return p;
    },
    setPassword: async () => {
      throw readOnly('set a password');
    },
    ensureLink: async (slug, email) => {
      const p = portal(slug);
      const person = normalizeEmail(email);
      const link = p?.links.find((l) => l.person === person);
      if (!p || !link) throw readOnly(`create a personal link for ${person}`);
      return { ...link, portalId: p.portalId, created: false };
    },
    revokeLink: async () => {
      throw readOnly('revoke a link');
    },
    replyKey: replyKey as SecretStore['replyKey'],
    rotateReplyKey: async () => {
      throw readOnly('rotate the reply-token key');
    },
  };
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

function newPortal(): StoredPortal {
  const key = generateContentKey();
  const now = new Date().toISOString();
  return { portalId: randomBase32(PORTAL_ID_BYTES), kid: key.kid, contentKey: toBase64Url(key.raw), links: [], createdAt: now, rekeyedAt: now, rev: 0 };
}

function rekey(p: StoredPortal, key: { kid: string; raw: Uint8Array }, now: string): void {
  p.kid = key.kid;
  p.contentKey = toBase64Url(key.raw);
  p.rekeyedAt = now;
  p.rev += 1;
}

/** One derivation per link: the price of a re-key, paid only on rotation and revocation. */
async function rewrapLinks(rawKey: Uint8Array, links: readonly LinkSecret[]): Promise<LinkSecret[]> {
  const out: LinkSecret[] = [];
  // Sequential on purpose: the machine is shared with builds and the worker.
  for (const l of links) out.push({ ...l, wrap: await wrapContentKey(rawKey, l.secret, { type: 'link', id: l.id }) });
  return out;
}

function view(slug: string, p: StoredPortal): PortalSecrets {
  const links = p.links.map((l) => ({ ...l, wrap: { ...l.wrap } }));
  const password = p.password ? { ...p.password, wrap: { ...p.password.wrap } } : undefined;
  return {
    slug,
    portalId: p.portalId,
    kid: p.kid,
    contentKey: fromBase64Url(p.contentKey)!,
    ...(password ? { password } : {}),
    links,
    wraps: [...(password ? [password.wrap] : []), ...links.map((l) => l.wrap)],
    createdAt: p.createdAt,
    rekeyedAt: p.rekeyedAt,
    rev: p.rev,
  };
}

function replyKeyOf(keys: NonNullable<StoreData['replyKeys']>, version: number): ReplyKey | undefined {
  const text = Object.hasOwn(keys.keys, String(version)) ? keys.keys[String(version)] : undefined;
  const key = text === undefined ? undefined : base64Bytes(text);
  return key ? { version, key } : undefined;
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function passwordExists(slug: string): TwofoldError {
  return new TwofoldError('PORTAL_PASSWORD_EXISTS', `the portal "${slug}" already has a password`, {
    hint: `Run \`npx twofold password ${slug} --rotate\` to replace it (the old password stops working after the next build).`,
  });
}

function rekeyConflict(slug: string): TwofoldError {
  return new TwofoldError('PORTAL_REKEY_CONFLICT', `the portal "${slug}" changed ${MAX_COMMIT_ATTEMPTS} times while its keys were being updated`);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Strict standard base64 (padding required): undefined unless `text` is the canonical encoding. */
function base64Bytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : undefined;
}

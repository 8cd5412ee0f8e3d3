/**
 * A real, throwaway Dovecot IMAP server for tests: its own config, passwd file, maildirs, runtime
 * and log under a temp dir, listening on a free loopback port. Several instances run side by side
 * (one per test file). Dovecot's login processes refuse to run as root, so the mail store belongs
 * to the package's `dovecot` user and logins run as `dovenull`, as on a Debian host.
 *
 *   const dovecot = await startDovecot({ users: [{ user: 'inbox', password: 'secret' }] });
 *   await dovecot.deliver('inbox', raw);           // IMAP APPEND = delivery into the mailbox
 *   await dovecot.deliver('inbox', raw, { via: 'lda' });   // or dovecot-lda, as an MTA would
 *   await dovecot.list('inbox', 'Processed');
 *   await dovecot.restart();  await dovecot.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort } from './free-port.ts';

export const DOVECOT_BIN = '/usr/sbin/dovecot';
export const DOVECOT_LDA_BIN = '/usr/lib/dovecot/dovecot-lda';
const MAIL_OWNER = 'dovecot';
const HOST = '127.0.0.1';
/** How long a start or restart may take before the helper gives up (Dovecot needs ~0.3 s). */
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;
const PROBE_INTERVAL_MS = 50;
/** A free port can be taken by a parallel test between probing and binding: try a few. */
const PORT_ATTEMPTS = 5;

export interface DovecotUser {
  user: string;
  password: string;
}

export interface StartDovecotOptions {
  users: DovecotUser[];
  /** Seconds between Dovecot's "* OK Still here" lines during IDLE (Dovecot's default: 120). */
  idleNotifySeconds?: number;
}

export interface DeliverOptions {
  /** Target folder (default INBOX); created when missing. */
  folder?: string;
  /** IMAP flags to set on the delivered message (IMAP delivery only), e.g. ['\\Seen']. */
  flags?: string[];
  /** `imap` (APPEND, the default) or `lda` (dovecot-lda, the way an MTA hands mail over). */
  via?: 'imap' | 'lda';
  internalDate?: Date;
}

export interface ListedMessage {
  uid: number;
  flags: string[];
  size: number;
  messageId?: string;
  subject?: string;
  internalDate?: Date;
}

export interface Dovecot {
  host: string;
  port: number;
  users: DovecotUser[];
  /** The temp dir holding config, maildirs, runtime and log. */
  dir: string;
  logFile: string;
  deliver(user: string, raw: Buffer | string, options?: DeliverOptions): Promise<{ uid?: number }>;
  /** Messages in a folder, oldest first; [] when the folder does not exist. */
  list(user: string, folder?: string): Promise<ListedMessage[]>;
  folders(user: string): Promise<string[]>;
  /** A logged-in imapflow client for a test's own checks; the caller logs it out. */
  connect(user: string): Promise<ImapFlow>;
  /** Stop and start the server on the same port (all sessions are cut). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  readLog(): Promise<string>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startDovecot(options: StartDovecotOptions): Promise<Dovecot> {
  if (!existsSync(DOVECOT_BIN)) {
    throw new Error('Dovecot is not installed: run apt-get install -y dovecot-imapd (CI does this in .ci/run)');
  }
  if (process.getuid?.() !== 0) {
    throw new Error('The Dovecot test helper must run as root: Dovecot hands the maildirs to its own "dovecot" user (tests run as root here and in CI)');
  }
  if (options.users.length === 0) throw new Error('startDovecot needs at least one user');
  for (const { user, password } of options.users) {
    if (!/^[A-Za-z0-9._@+-]+$/.test(user)) throw new Error(`Dovecot test user "${user}": use letters, digits and ._@+- only`);
    if (/[:\r\n]/.test(password)) throw new Error(`Dovecot test user "${user}": a password cannot contain ":" or line breaks`);
  }
  installExitHook();

  // mkdtemp makes a 0700 dir owned by root; the dovecot user must be able to walk to its maildirs.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twofold-dovecot-'));
  await chmod(dir, 0o755);
  const mailDir = path.join(dir, 'mail');
  const runDir = path.join(dir, 'run');
  const stateDir = path.join(dir, 'state');
  const configFile = path.join(dir, 'dovecot.conf');
  const passwdFile = path.join(dir, 'passwd');
  const logFile = path.join(dir, 'dovecot.log');
  await mkdir(mailDir);
  await mkdir(runDir);
  await mkdir(stateDir);
  const { uid, gid } = mailOwner();
  await chown(mailDir, uid, gid);
  await writeFile(passwdFile, options.users.map((u) => `${u.user}:{PLAIN}${u.password}::::::\n`).join(''), { mode: 0o644 });

  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 1; ; attempt++) {
    port = await freePort(HOST);
    await writeFile(
      configFile,
      dovecotConfig({ name: path.basename(dir), runDir, stateDir, logFile, mailDir, passwdFile, port, idleNotifySeconds: options.idleNotifySeconds }),
    );
    try {
      child = await launch(configFile, logFile, port, options.users[0]!);
      break;
    } catch (err) {
      if (attempt < PORT_ATTEMPTS && /Address already in use/i.test(String(err))) continue;
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  const connect = async (user: string): Promise<ImapFlow> => {
    const account = options.users.find((u) => u.user === user);
    if (!account) throw new Error(`No Dovecot test user "${user}"`);
    const client = new ImapFlow({ host: HOST, port, secure: false, auth: { user, pass: account.password }, logger: false, disableAutoIdle: true });
    client.on('error', () => {}); // a restart cuts sessions; the awaiting call reports it
    await client.connect();
    return client;
  };

  const withClient = async <T>(user: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const client = await connect(user);
    try {
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };

  const deliverLda = (user: string, raw: Buffer, folder: string | undefined) =>
    new Promise<void>((resolve, reject) => {
      const args = ['-c', configFile, '-d', user, ...(folder ? ['-m', folder] : [])];
      const lda = spawn(DOVECOT_LDA_BIN, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      lda.stderr!.on('data', (chunk) => (stderr += chunk));
      lda.on('error', reject);
      lda.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`dovecot-lda exited with ${code}: ${stderr.trim()}`))));
      lda.stdin!.end(raw);
    });

  const dovecot: Dovecot = {
    host: HOST,
    port,
    users: options.users,
    dir,
    logFile,
    async deliver(user, raw, deliverOptions = {}) {
      const body = typeof raw === 'string' ? Buffer.from(raw) : raw;
      const folder = deliverOptions.folder ?? 'INBOX';
      if (deliverOptions.via === 'lda') {
        await deliverLda(user, body, folder === 'INBOX' ? undefined : folder);
        return {};
      }
      return withClient(user, async (client) => {
        if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => {}); // exists already
        const result = await client.append(folder, body, deliverOptions.flags ?? [], deliverOptions.internalDate);
        if (!result) throw new Error(`APPEND to ${user}/${folder} failed`);
        return result.uid === undefined ? {} : { uid: result.uid };
      });
    },
    list(user, folder = 'INBOX') {
      return withClient(user, async (client) => {
        const mailbox = await client.mailboxOpen(folder, { readOnly: true }).catch(() => undefined);
        if (!mailbox || mailbox.exists === 0) return [];
        const rows = await client.fetchAll('1:*', { uid: true, flags: true, size: true, envelope: true, internalDate: true });
        return rows
          .map((m) => ({
            uid: m.uid,
            flags: [...(m.flags ?? [])],
            size: m.size ?? 0,
            ...(m.envelope?.messageId ? { messageId: m.envelope.messageId } : {}),
            ...(m.envelope?.subject ? { subject: m.envelope.subject } : {}),
            ...(m.internalDate instanceof Date ? { internalDate: m.internalDate } : {}),
          }))
          .sort((a, b) => a.uid - b.uid);
      });
    },
    folders(user) {
      return withClient(user, async (client) => (await client.list()).map((f) => f.path).sort());
    },
    connect,
    async restart() {
      if (child) await terminate(child);
      child = undefined;
      // The port must stay the same; if the kernel has not let go of it yet, try again shortly.
      for (let attempt = 1; ; attempt++) {
        try {
          child = await launch(configFile, logFile, port, options.users[0]!);
          return;
        } catch (err) {
          if (attempt >= PORT_ATTEMPTS || !/Address already in use/i.test(String(err))) throw err;
          await sleep(200 * attempt);
        }
      }
    },
    async stop() {
      if (child) await terminate(child);
      child = undefined;
      if (!process.env.TWOFOLD_KEEP_DOVECOT) await rm(dir, { recursive: true, force: true });
    },
    readLog: () => readFile(logFile, 'utf8').catch(() => ''),
  };
  return dovecot;
}

function dovecotConfig(c: {
  name: string;
  runDir: string;
  stateDir: string;
  logFile: string;
  mailDir: string;
  passwdFile: string;
  port: number;
  idleNotifySeconds: number | undefined;
}): string {
  return `# Generated by test/helpers/dovecot.ts: a throwaway test server, never a system service.
instance_name = ${c.name}
base_dir = ${c.runDir}
state_dir = ${c.stateDir}
log_path = ${c.logFile}
info_log_path = ${c.logFile}
protocols = imap
listen = ${HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = ${MAIL_OWNER}
default_internal_group = ${MAIL_OWNER}
default_login_user = dovenull
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:${c.mailDir}/%u
postmaster_address = postmaster@localhost
lda_mailbox_autocreate = yes
mail_max_userip_connections = 200
# Tests try wrong passwords on purpose; without this, every later login from 127.0.0.1 waits.
auth_failure_delay = 0 secs
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${c.idleNotifySeconds ? `imap_idle_notify_interval = ${c.idleNotifySeconds} secs\n` : ''}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${c.passwdFile}
}
userdb {
  driver = static
  args = uid=${MAIL_OWNER} gid=${MAIL_OWNER} home=${c.mailDir}/%u
}
service imap-login {
  inet_listener imap {
    address = ${HOST}
    port = ${c.port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

/** Start the master in the foreground and wait until the first user can log in. */
async function launch(configFile: string, logFile: string, port: number, probeUser: DovecotUser): Promise<ChildProcess> {
  // Its own process group: stopping the group stops every login and imap process at once, as a
  // service manager does. Stopping only the master leaves open sessions alive for seconds.
  const child = spawn(DOVECOT_BIN, ['-F', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    running.delete(child);
    exited = `exited with ${signal ?? code}`;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await imapLoginWorks(port, probeUser)) return child;
    await sleep(PROBE_INTERVAL_MS);
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  if (!exited) await terminate(child);
  throw new Error(`Dovecot did not start on ${HOST}:${port} (${exited ?? 'no login within timeout'}):\n${stderr}\n${log.split('\n').slice(-15).join('\n')}`);
}

function terminate(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      running.delete(child);
      signalGroup(child, 'SIGKILL'); // nothing of this instance may outlive it
      resolve();
    });
    signalGroup(child, 'SIGTERM');
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is already gone
  }
}

/** A raw LOGIN round trip: proves the listener, the login process and auth all work. */
function imapLoginWorks(port: number, { user, password }: DovecotUser): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    let buffer = '';
    let sent = false;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (!sent && buffer.includes('* OK')) {
        sent = true;
        socket.write(`a LOGIN ${imapQuote(user)} ${imapQuote(password)}\r\nb LOGOUT\r\n`);
      }
      if (/^a OK/m.test(buffer)) done(true);
      else if (/^a (NO|BAD)/m.test(buffer)) done(false);
    });
  });
}

function imapQuote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function mailOwner(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', MAIL_OWNER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', MAIL_OWNER], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(`The "${MAIL_OWNER}" user is missing: reinstall dovecot-imapd (apt-get install -y --reinstall dovecot-core dovecot-imapd)`);
  }
}

/** A test file that ends without stop() must not leave Dovecot processes behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) signalGroup(child, 'SIGTERM');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `twofold worker` as a real subprocess (`node scripts/twofold.mjs worker`), for tests that kill
 * it, restart it, or run two of them: its JSON log lines are parsed as they come, so a test can
 * wait for an event (`imap.idle`, `message.processed`) instead of sleeping.
 *
 *   const worker = spawnWorker({ cwd: project.root, env: { TWOFOLD_IMAP_HOST: … } });
 *   await worker.waitFor((e) => e.event === 'imap.idle', 'IDLE');
 *   worker.kill('SIGKILL');  await worker.exited;
 *   await worker.stop();     // SIGTERM, then wait for a clean exit
 *
 * The subprocess gets the test's environment without any TWOFOLD_* variable, plus `env`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { SourceEvent } from '../../mail-worker/sources/message-handler.ts';
import { REPO_ROOT, TWOFOLD_BIN } from './run-twofold.ts';

/** A worker starts in 1–3 s on a loaded two-core machine (tsx compiles the CLI). */
const DEFAULT_WAIT_MS = 20_000;
const STOP_TIMEOUT_MS = 20_000;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  pid: number;
  /** Every JSON log line so far, parsed, in order. */
  readonly events: SourceEvent[];
  /** Whatever it wrote to stderr (the start banner, errors). */
  readonly stderr: string;
  /** Resolves when the process has exited. */
  exited: Promise<WorkerExit>;
  /** The first event (from the start) matching `predicate`. */
  waitFor(predicate: (event: SourceEvent) => boolean, what: string, timeoutMs?: number): Promise<SourceEvent>;
  /** Wait until `count` events match. */
  waitForCount(count: number, predicate: (event: SourceEvent) => boolean, what: string, timeoutMs?: number): Promise<SourceEvent[]>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then wait for the exit (SIGKILL after a timeout). */
  stop(): Promise<WorkerExit>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export function spawnWorker(options: { cwd: string; env?: Record<string, string>; args?: string[] }): WorkerProcess {
  installExitHook();
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('TWOFOLD_')) env[name] = value;
  Object.assign(env, { NO_COLOR: '1' }, options.env);
  const child = spawn(process.execPath, [TWOFOLD_BIN, 'worker', ...(options.args ?? [])], { cwd: options.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const events: SourceEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as SourceEvent);
      } catch {
        events.push({ event: 'stdout', line });
      }
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      for (const wake of [...waiters]) wake();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const waitForCount = (count: number, predicate: (e: SourceEvent) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS) =>
    new Promise<SourceEvent[]>((resolve, reject) => {
      const check = () => {
        const matching = events.filter(predicate);
        if (matching.length >= count) {
          finish();
          resolve(matching);
        } else if (done) {
          finish();
          reject(new Error(`the worker exited before ${what} (${matching.length} of ${count}); stderr:\n${stderr.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${events.filter(predicate).length} of ${count}); last events:\n${events.slice(-8).map((e) => JSON.stringify(e)).join('\n')}\nstderr:\n${stderr.slice(-2000)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    pid: child.pid!,
    events,
    get stderr() {
      return stderr;
    },
    exited,
    waitForCount,
    async waitFor(predicate, what, timeoutMs) {
      return (await waitForCount(1, predicate, what, timeoutMs))[0]!;
    },
    kill(signal) {
      if (!done) child.kill(signal);
    },
    async stop() {
      if (!done) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const exit = await exited;
        clearTimeout(timer);
        return exit;
      }
      return exited;
    },
  };
}

/** A test file that ends without stopping its workers must not leave them running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

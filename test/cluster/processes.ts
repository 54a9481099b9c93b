/**
 * Child processes and temp dirs for the end-to-end harness, with teardown that
 * runs even when a test fails, throws, times out or the runner is signalled.
 *
 * Each child is started in its own process group (detached) so that stopping it
 * also stops anything it spawned; stdout and stderr go to a log file, never to a
 * pipe that could fill up and block the child.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<ManagedProcess>();
const dirs = new Set<string>();
let hooked = false;

function killAllSync(): void {
  for (const p of live) p.killSync();
  if (process.env.GRACEKEEPER_E2E_KEEP !== '1') {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * A run that was SIGKILLed cannot clean up: its etcd and API server would live on. Each run records
 * what it started in a file named by its pid; the next run ends the processes of runs whose pid is
 * gone, checking each process's command line first so that a reused pid is never touched.
 */
const REGISTRY = join(tmpdir(), 'gracekeeper-e2e-runs');

function record(kind: 'pid' | 'dir', value: string): void {
  mkdirSync(REGISTRY, { recursive: true });
  appendFileSync(join(REGISTRY, String(process.pid)), `${kind} ${value}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function reapStaleRuns(): void {
  let runs: string[];
  try {
    runs = readdirSync(REGISTRY);
  } catch {
    return;
  }
  for (const run of runs) {
    const owner = Number(run);
    if (!Number.isInteger(owner) || owner === process.pid || alive(owner)) continue;
    const file = join(REGISTRY, run);
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [kind, ...rest] = line.split(' ');
      const value = rest.join(' ');
      if (kind === 'dir' && value.includes('gracekeeper-')) rmSync(value, { recursive: true, force: true });
      if (kind !== 'pid') continue;
      const [pid, command] = [Number(value.split(' ')[0]), value.split(' ').slice(1).join(' ')];
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      } catch {
        continue; // gone
      }
      if (cmdline !== command) continue; // pid reused by something else
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(file, { force: true });
  }
}

function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  reapStaleRuns();
  process.on('exit', () => rmSync(join(REGISTRY, String(process.pid)), { force: true }));
  process.on('exit', killAllSync);
  // SIGALRM is how tap tells a test file it has timed out.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGALRM'] as const) {
    const onSignal = (): void => {
      killAllSync();
      // If nobody else (e.g. the test runner) handles the signal, die of it as usual.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/** A temp dir removed at teardown (kept when GRACEKEEPER_E2E_KEEP=1). Prefers tmpfs when asked. */
export function makeTempDir(prefix: string, preferTmpfs = false): string {
  installExitHooks();
  const base = preferTmpfs && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, `${prefix}-`));
  dirs.add(dir);
  record('dir', dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  dirs.delete(dir);
  if (process.env.GRACEKEEPER_E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/**
 * Whether a start failed because a port from freePort was taken by the time the process bound it: the port is
 * free when chosen, and an outgoing connection can get it as its ephemeral port before the bind.
 */
export function isPortClash(failure: unknown): boolean {
  const text = failure instanceof Error ? failure.message : typeof failure === 'string' ? failure : '';
  return /address already in use|EADDRINUSE/.test(text);
}

/** Starts before giving up when each one fails on a port clash. */
export const PORT_CLASH_ATTEMPTS = 3;

/**
 * Runs `start` again when it fails on a port clash (isPortClash), up to PORT_CLASH_ATTEMPTS starts in all; any
 * other failure is thrown at once. `start` must choose its ports afresh each time and clean up after a failure.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, onRetry?: (attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= PORT_CLASH_ATTEMPTS || !isPortClash(err)) throw err;
      onRetry?.(attempt + 1);
    }
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  readonly child: ChildProcess;
  /** Set when the command could not be started at all (e.g. ENOENT). */
  spawnError: Error | undefined;
  /** Set once the process has exited. */
  exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  constructor(name: string, command: string, args: string[], opts: { logPath: string; cwd?: string; env?: NodeJS.ProcessEnv }) {
    installExitHooks();
    this.name = name;
    this.logPath = opts.logPath;
    const fd = openSync(opts.logPath, 'a');
    try {
      this.child = spawn(command, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    live.add(this);
    if (this.child.pid !== undefined) record('pid', `${this.child.pid} ${command}`);
    this.exited = new Promise((resolve) => {
      const done = (info: ExitInfo): void => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        live.delete(this);
        resolve(info);
      };
      this.child.once('exit', (code, signal) => done({ code, signal }));
      this.child.once('error', (err) => {
        // spawn failure (e.g. ENOENT): no process group exists
        this.spawnError = err;
        done({ code: -1, signal: null });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.child.pid !== undefined;
  }

  /** Last lines of the process log, for error messages. */
  logTail(lines = 40): string {
    try {
      const text = readFileSync(this.logPath, 'utf8');
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  describeExit(): string {
    if (this.spawnError) return `${this.name} could not be started: ${this.spawnError.message}`;
    const e = this.exitInfo;
    if (!e) return `${this.name} is running`;
    return `${this.name} exited (${e.signal ? `signal ${e.signal}` : `code ${e.code}`}); last log lines from ${this.logPath}:\n${this.logTail()}`;
  }

  private signalGroup(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  }

  killSync(): void {
    if (this.running) this.signalGroup('SIGKILL');
  }

  /** SIGTERM the process group, then SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo ?? { code: null, signal: null };
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      // Reap stragglers left in the group.
      this.signalGroup('SIGKILL');
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `check` until it returns a value other than undefined. Fails early with
 * the process's log when one of `watch` exits, and with `what` on timeout.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; watch?: ManagedProcess[] },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    for (const p of opts.watch ?? []) {
      if (!p.running) throw new Error(`while waiting for ${what}: ${p.describeExit()}`);
    }
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

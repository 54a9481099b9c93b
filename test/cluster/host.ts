/**
 * Small host-level helpers the real node's modules share: running a command, reading and restoring
 * sysctls, unmounting what was mounted under a directory, removing cgroups and killing processes by pid
 * when their command line names a path of ours. Every function here is safe to call when there is
 * nothing to undo.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Run a command, return stdout; throws with stderr on failure. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 60_000, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Like run, but a failure is returned, not thrown (teardown steps that may find nothing to undo). */
export function tryRun(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): { ok: boolean; out: string } {
  try {
    return { ok: true, out: run(cmd, args, opts) };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

const sysctlPath = (name: string): string => join('/proc/sys', ...name.split('.'));

export function readSysctl(name: string): string {
  return readFileSync(sysctlPath(name), 'utf8').trim();
}

/** Remembers sysctls now and writes the remembered values back on restore(). */
export class SysctlGuard {
  private readonly saved = new Map<string, string>();
  constructor(names: readonly string[]) {
    for (const n of names) if (existsSync(sysctlPath(n))) this.saved.set(n, readSysctl(n));
  }
  restore(): string[] {
    const changed: string[] = [];
    for (const [n, v] of this.saved) {
      try {
        if (readSysctl(n) !== v) {
          writeFileSync(sysctlPath(n), v);
          changed.push(`${n}=${v}`);
        }
      } catch {
        /* not writable: nothing we can do */
      }
    }
    return changed;
  }
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmount everything at or under `dir` (lazily if busy). Returns what was unmounted. */
export function unmountUnder(dir: string): string[] {
  const done: string[] = [];
  for (let pass = 0; pass < 5; pass++) {
    const points = mountsUnder(dir);
    if (points.length === 0) break;
    for (const p of points) {
      if (tryRun('umount', [p]).ok || tryRun('umount', ['-l', p]).ok) done.push(p);
    }
  }
  return done;
}

/** Pids whose command line contains `needle` (our temp dir's path): shims and their children. */
export function pidsWithArg(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}

export function killPids(pids: readonly number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/** cgroup v1 controllers mounted under /sys/fs/cgroup (plus the unified hierarchy), as directories. */
function cgroupRoots(): string[] {
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .map((d) => join(base, d))
    .filter((d) => existsSync(join(d, 'cgroup.procs')));
}

/** Kill the processes left in cgroups named `name` (e.g. kubepods) and remove them, deepest first. */
export function removeCgroups(name: string): string[] {
  const removed: string[] = [];
  for (const root of cgroupRoots()) {
    const top = join(root, name);
    if (!existsSync(top)) continue;
    const all: string[] = [];
    const walk = (d: string): void => {
      all.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    try {
      walk(top);
    } catch {
      continue;
    }
    for (const d of all) {
      try {
        const pids = readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
        killPids(pids);
      } catch {
        /* gone */
      }
    }
    for (const d of all.sort((a, b) => b.length - a.length)) {
      for (let i = 0; i < 20; i++) {
        try {
          rmdirSync(d);
          removed.push(d);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          execFileSync('sleep', ['0.1']);
        }
      }
    }
  }
  return removed;
}

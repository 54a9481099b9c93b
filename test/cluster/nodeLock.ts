/**
 * One real node at a time per machine. The node's bridge, node IP, iptables chains, kubepods cgroups and
 * the kubelet's sysctls are machine-wide: a second run would tear down the first one's network, kill its
 * containers (their kubepods cgroups) and "restore" sysctls to the first run's values. So a run takes
 * this lock before it touches any of them (including the clean-up of what a killed run left behind) and
 * waits while another live run holds it. A lock whose owner is gone is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './processes.js';

export const NODE_LOCK = join(tmpdir(), 'gracekeeper-node.lock');

function owner(): number | undefined {
  try {
    const pid = Number(readFileSync(NODE_LOCK, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return false;
  }
}

/** Take the lock (waiting up to timeoutMs for a live holder); returns the release function. */
export async function acquireNodeLock(log: (msg: string) => void, timeoutMs = 30 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(NODE_LOCK, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (owner() === process.pid) rmSync(NODE_LOCK, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = owner();
    if (holder === undefined || holder === process.pid || !alive(holder)) {
      rmSync(NODE_LOCK, { force: true }); // left by a run that is gone
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`another real node run (pid ${holder}, lock ${NODE_LOCK}) still holds the machine after ${timeoutMs / 1000} s`);
    }
    if (!told) {
      log(`another real node run (pid ${holder}) holds ${NODE_LOCK}; waiting for it to finish`);
      told = true;
    }
    await sleep(2000);
  }
}

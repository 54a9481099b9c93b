/**
 * containerd for the real node: Debian's containerd 1.6 (scripts/node-deps.sh) with its own config,
 * root, state and sockets in a temp dir, so it never touches a system containerd. Settings that matter on
 * these machines (test/e2e/README.md, "Real node"):
 * - restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, and runc fails every sandbox ("can't get
 *   final child's PID from pipe: EOF") when it tries to lower oom_score_adj;
 * - runc v2 with SystemdCgroup = false (cgroup v1, cgroupfs driver, like the kubelet);
 * - netns_mounts_under_state_dir: Pod network namespaces live in the temp dir, not /var/run/netns;
 * - CNI plugins from /usr/lib/cni with our own conf_dir; sandbox_image is the pause image built here.
 *
 * stop() kills the tasks it ran, stops containerd by pid, kills leftover shims (their command line names
 * our socket), unmounts everything under the temp dir and removes it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, makeTempDir, removeTempDir, sleep, waitFor } from './processes.js';
import { killPids, pidsWithArg, run, tryRun, unmountUnder } from './host.js';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';

export interface ContainerdOptions {
  sandboxImage: string;
  /** Directory with the CNI network config (network.ts writes it). */
  cniConfDir: string;
  cniBinDir?: string;
  /** Default true; false only to show what happens without it (runc fails every sandbox here). */
  restrictOomScoreAdj?: boolean;
  log?: (msg: string) => void;
}

export interface Containerd {
  readonly dir: string;
  /** unix socket path */
  readonly socket: string;
  readonly endpoint: string;
  readonly version: string;
  readonly process: ManagedProcess;
  /** `ctr -a <socket> -n k8s.io ...` */
  ctr(args: readonly string[], timeoutMs?: number): string;
  /** Kill every task in k8s.io (containers the kubelet left). */
  killTasks(): void;
  stop(): Promise<void>;
  /** stop() without waiting, for exit paths: tasks, containerd, shims killed, mounts under its dir unmounted. */
  cleanupSync(): void;
}

function config(dir: string, o: ContainerdOptions): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "${dir}/containerd.sock"

[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${o.sandboxImage}"
  restrict_oom_score_adj = ${o.restrictOomScoreAdj ?? true}
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${o.cniBinDir ?? '/usr/lib/cni'}"
    conf_dir = "${o.cniConfDir}"
    max_conf_num = 1
`;
}

export async function startContainerd(o: ContainerdOptions): Promise<Containerd> {
  const log = o.log ?? ((): void => {});
  if (!existsSync(CONTAINERD)) throw new Error(`${CONTAINERD} is missing: run scripts/node-deps.sh`);
  const dir = makeTempDir('gracekeeper-containerd');
  const socket = join(dir, 'containerd.sock');
  const configPath = join(dir, 'config.toml');
  mkdirSync(join(dir, 'root'));
  mkdirSync(join(dir, 'state'));
  writeFileSync(configPath, config(dir, o));
  const version = run(CONTAINERD, ['--version']).trim().split(/\s+/)[2] ?? 'unknown';
  log(`starting containerd ${version} (${dir})`);
  const proc = new ManagedProcess('containerd', CONTAINERD, ['--config', configPath, '--log-level', 'info'], {
    logPath: join(dir, 'containerd.log'),
    cwd: dir,
  });
  const ctr = (args: readonly string[], timeoutMs = 60_000): string => run(CTR, ['-a', socket, '-n', 'k8s.io', ...args], { timeoutMs });
  const killTasks = (): void => {
    const listed = tryRun(CTR, ['-a', socket, '-n', 'k8s.io', 'tasks', 'ls', '-q'], { timeoutMs: 10_000 });
    if (!listed.ok) return;
    for (const id of listed.out.split('\n').filter(Boolean)) {
      tryRun(CTR, ['-a', socket, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id], { timeoutMs: 10_000 });
    }
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (proc.running) killTasks();
    await proc.stop(10_000);
    // Shims outlive containerd (they re-parent to init); theirs name our socket on their command line.
    for (let i = 0; i < 3; i++) {
      const shims = pidsWithArg(dir);
      if (shims.length === 0) break;
      killPids(shims);
      await sleep(300);
    }
    unmountUnder(dir);
    removeTempDir(dir);
  };
  const cleanupSync = (): void => {
    if (stopped) return;
    stopped = true;
    if (proc.running) killTasks();
    proc.killSync();
    killPids(pidsWithArg(dir));
    unmountUnder(dir);
    removeTempDir(dir);
  };
  try {
    await waitFor('containerd to answer', async () => (tryRun(CTR, ['-a', socket, 'version'], { timeoutMs: 5000 }).ok ? true : undefined), {
      timeoutMs: 30_000,
      watch: [proc],
    });
  } catch (err) {
    const tail = proc.logTail(30);
    await stop();
    throw new Error(`containerd failed to start: ${(err as Error).message}\n${tail}`, { cause: err });
  }
  return { dir, socket, endpoint: `unix://${socket}`, version, process: proc, ctr, killTasks, stop, cleanupSync };
}

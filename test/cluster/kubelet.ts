/**
 * The kubelet of the real node, with everything it writes under a temp dir (root dir, cert dir, Pod
 * logs, volume plugins). What it needs on these machines (README "Real node"):
 * - cgroup v1: `failCgroupV1: false` (1.35+ refuses cgroup v1 by default) and `cgroupDriver: cgroupfs`;
 *   v1.37.2 still falls back to the config's driver when containerd 1.6 answers RuntimeConfig with
 *   Unimplemented (the fallback goes in 1.38);
 * - node IP and serving address on the bridge (198.18.0.1): it rejects a loopback node IP;
 * - no read-only port, healthz on 127.0.0.1, no resolv.conf, swap allowed, low eviction and image-GC
 *   thresholds (the images cannot be pulled again), `shutdownGracePeriod: 0s`.
 * Side effects it has that stop() undoes: the sysctls it sets (vm.overcommit_memory, vm.panic_on_oom,
 * kernel.panic, kernel.panic_on_oops, kernel.keys.root_max*), the kubepods cgroups, the bind mount of
 * its root dir, /var/lib/kubelet and /var/log/containers when they were not there before.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from './controlPlane.js';
import { writeClientKubeconfig } from './kubeconfigs.js';
import { ManagedProcess, freePort, makeTempDir, removeTempDir, waitFor } from './processes.js';
import { SysctlGuard, removeCgroups, tryRun, unmountUnder } from './host.js';

export const KUBELET_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
] as const;

/** Host paths the kubelet creates whatever its flags say. */
const HOST_PATHS = ['/var/lib/kubelet', '/var/log/containers', '/var/log/pods'] as const;

export interface KubeletOptions {
  binDir: string;
  cp: ControlPlane;
  nodeName: string;
  nodeIp: string;
  runtimeEndpoint: string;
  log?: (msg: string) => void;
  readyTimeoutMs?: number;
}

export interface Kubelet {
  readonly dir: string;
  readonly nodeName: string;
  readonly process: ManagedProcess;
  /** kubeletVersion the Node reports. */
  readonly version: string;
  /** Stop the process (pid), unmount, remove cgroups and host paths it made, restore sysctls. */
  stop(): Promise<void>;
  /** The synchronous part of stop() for exit paths. */
  cleanupSync(): void;
}

export async function startKubelet(o: KubeletOptions): Promise<Kubelet> {
  const log = o.log ?? ((): void => {});
  const sysctls = new SysctlGuard(KUBELET_SYSCTLS);
  const existed = new Map(HOST_PATHS.map((p) => [p, existsSync(p)]));
  const dir = makeTempDir('gracekeeper-kubelet');
  const paths = {
    root: join(dir, 'root'),
    certs: join(dir, 'pki'),
    podLogs: join(dir, 'pod-logs'),
    plugins: join(dir, 'volume-plugins'),
    config: join(dir, 'config.yaml'),
    kubeconfig: join(dir, 'kubeconfig'),
  };
  for (const d of [paths.root, paths.certs, paths.podLogs, paths.plugins]) mkdirSync(d);
  writeClientKubeconfig(o.cp, paths.kubeconfig, { commonName: `system:node:${o.nodeName}`, organizations: ['system:nodes'] });
  writeFileSync(join(dir, 'ca.crt'), o.cp.ca.certPem);
  const [port, healthzPort] = [await freePort(), await freePort()];
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: o.nodeIp,
    port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: join(dir, 'ca.crt') } },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    resolvConf: '',
    podLogsDir: paths.podLogs,
    volumePluginDir: paths.plugins,
    containerRuntimeEndpoint: o.runtimeEndpoint,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    shutdownGracePeriod: '0s',
    shutdownGracePeriodCriticalPods: '0s',
    serializeImagePulls: false,
    registerNode: true,
    clusterDomain: 'cluster.local',
    maxPods: 60,
  };
  writeFileSync(paths.config, JSON.stringify(config, null, 2));
  const args = [
    `--config=${paths.config}`,
    `--kubeconfig=${paths.kubeconfig}`,
    `--root-dir=${paths.root}`,
    `--cert-dir=${paths.certs}`,
    `--node-ip=${o.nodeIp}`,
    `--hostname-override=${o.nodeName}`,
    '--v=2',
  ];
  log(`starting kubelet for node ${o.nodeName} on ${o.nodeIp}:${port} (${dir})`);
  const proc = new ManagedProcess('kubelet', join(o.binDir, 'kubelet'), args, { logPath: join(dir, 'kubelet.log'), cwd: dir });

  let cleaned = false;
  /** What the last cleanup undid, for the log. */
  const undone: string[] = [];
  const cleanupSync = (): void => {
    if (cleaned) return;
    cleaned = true;
    proc.killSync();
    const mounts = unmountUnder(paths.root);
    if (mounts.length) undone.push(`${mounts.length} mounts under its root dir`);
    const cgroups = removeCgroups('kubepods');
    if (cgroups.length) undone.push(`${cgroups.length} kubepods cgroups`);
    for (const [p, was] of existed) {
      if (!was && existsSync(p)) {
        unmountUnder(p);
        tryRun('rm', ['-rf', '--one-file-system', p]);
        undone.push(p);
      }
    }
    const restored = sysctls.restore();
    if (restored.length) undone.push(`sysctls ${restored.join(', ')}`);
    removeTempDir(dir);
  };
  const stop = async (): Promise<void> => {
    if (cleaned) return;
    await proc.stop(15_000);
    cleanupSync();
    if (undone.length) log(`kubelet stopped; undone: ${undone.join('; ')}`);
  };

  try {
    const core = o.cp.kubeConfig.makeApiClient(CoreV1Api);
    const node = await waitFor(
      `node ${o.nodeName} to be Ready`,
      async () => {
        const n = await core.readNode({ name: o.nodeName });
        return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
      },
      { timeoutMs: o.readyTimeoutMs ?? 120_000, intervalMs: 500, watch: [proc] },
    );
    const version = node.status?.nodeInfo?.kubeletVersion ?? 'unknown';
    log(`node ${o.nodeName} Ready: kubelet ${version}, runtime ${node.status?.nodeInfo?.containerRuntimeVersion}`);
    return { dir, nodeName: o.nodeName, process: proc, version, stop, cleanupSync };
  } catch (err) {
    const tail = proc.logTail(40);
    await stop();
    throw new Error(`kubelet failed to start: ${(err as Error).message}\n${tail}`, { cause: err });
  }
}

/**
 * A real single-node cluster: the control plane (controlPlane.ts) with the flags a node needs, then the
 * node's network, containerd with the images built here, kube-scheduler, kube-proxy and the kubelet.
 *
 *   const node = await startNode({ log: (m) => t.comment(m) });
 *   t.teardown(() => node.stop());
 *
 * stop() (and, on a timeout or a signal, a synchronous version of it that runs before the process
 * registry kills what is left) goes in the order that leaves the host clean: Pods deleted while the
 * kubelet runs, every process stopped by pid, leftover containers killed, mounts under the temp dirs
 * unmounted, kubepods cgroups removed, iptables chains, bridge and routes removed, sysctls restored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { resolveBinDir, startControlPlane } from './controlPlane.js';
import type { ControlPlane } from './controlPlane.js';
import { startContainerd } from './containerd.js';
import type { Containerd } from './containerd.js';
import { buildImages, importImages } from './images.js';
import type { NodeImages } from './images.js';
import { startKubelet } from './kubelet.js';
import type { Kubelet } from './kubelet.js';
import { removeKubeChains, startKubeProxy } from './kubeProxy.js';
import type { KubeProxy } from './kubeProxy.js';
import { setupNetwork } from './network.js';
import type { NodeNetwork } from './network.js';
import { startScheduler } from './scheduler.js';
import type { Scheduler } from './scheduler.js';
import { killPids, mountsUnder, pidsWithArg, removeCgroups, unmountUnder } from './host.js';
import { acquireNodeLock } from './nodeLock.js';
import { sleep } from './processes.js';

export const NODE_NAME = 'gk-node';

/** Controllers a node's workloads need on top of the e2e defaults. */
export const NODE_CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'job-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'endpointslice-controller',
  'root-ca-certificate-publisher-controller',
  // Removes the not-ready taint the API server puts on a new Node once its kubelet reports Ready.
  'node-lifecycle-controller',
  'pod-garbage-collector-controller',
] as const;

export interface RealNode {
  readonly cp: ControlPlane;
  readonly network: NodeNetwork;
  readonly containerd: Containerd;
  readonly images: NodeImages;
  readonly kubelet: Kubelet;
  readonly kubeProxy: KubeProxy;
  readonly scheduler: Scheduler;
  readonly nodeName: string;
  stop(): Promise<void>;
}

export interface NodeOptions {
  log?: (msg: string) => void;
  /** containerd's restrict_oom_score_adj (default true: root here lacks CAP_SYS_RESOURCE). */
  restrictOomScoreAdj?: boolean;
}

export async function startNode(opts: NodeOptions = {}): Promise<RealNode> {
  const log = opts.log ?? ((): void => {});
  const binDir = resolveBinDir();
  for (const b of ['kube-scheduler', 'kubelet', 'kube-proxy']) {
    if (!existsSync(join(binDir, b))) throw new Error(`${b} not found in ${binDir}; run scripts/e2e-build.sh`);
  }
  const parts: {
    cp?: ControlPlane;
    network?: NodeNetwork;
    containerd?: Containerd;
    kubelet?: Kubelet;
    kubeProxy?: KubeProxy;
    scheduler?: Scheduler;
  } = {};

  // The node's bridge, chains, cgroups and sysctls are machine-wide: one node run at a time (nodeLock.ts).
  const releaseLock = await acquireNodeLock(log);
  reapStaleNode(log);

  // Exit paths (tap's timeout, a signal, process.exit): undo host state synchronously, before the
  // process registry's own exit hook kills the processes and removes the temp dirs.
  const emergency = (): void => {
    parts.kubelet?.cleanupSync();
    parts.containerd?.cleanupSync();
    parts.kubeProxy?.cleanupSync();
    removeKubeChains();
    parts.network?.teardown();
    releaseLock();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGALRM'] as const;
  process.prependListener('exit', emergency);
  for (const s of signals) process.prependListener(s, emergency);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (parts.cp && parts.kubelet?.process.running) {
      // Delete the Pods while the kubelet still runs, so it stops their containers and releases their IPs.
      const core = parts.cp.kubeConfig.makeApiClient(CoreV1Api);
      try {
        const pods = await core.listPodForAllNamespaces();
        await Promise.all(
          pods.items.map((p) =>
            core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: p.metadata!.namespace!, gracePeriodSeconds: 0 }).catch(() => undefined),
          ),
        );
        for (let i = 0; i < 60; i++) {
          if ((await core.listPodForAllNamespaces()).items.length === 0) break;
          await sleep(500);
        }
      } catch (err) {
        log(`deleting Pods before stopping the kubelet: ${(err as Error).message}`);
      }
    }
    await parts.kubelet?.stop();
    parts.containerd?.killTasks();
    await parts.kubeProxy?.stop();
    await parts.scheduler?.stop();
    await parts.containerd?.stop();
    removeKubeChains();
    parts.network?.teardown();
    await parts.cp?.stop();
    releaseLock();
    process.removeListener('exit', emergency);
    for (const s of signals) process.removeListener(s, emergency);
  };

  try {
    removeKubeChains(); // what a killed run left behind
    parts.network = setupNetwork(log);
    const images = buildImages();
    parts.containerd = await startContainerd({
      sandboxImage: images.pause,
      cniConfDir: parts.network.cniConfDir,
      log,
      ...(opts.restrictOomScoreAdj === undefined ? {} : { restrictOomScoreAdj: opts.restrictOomScoreAdj }),
    });
    const imported = importImages(parts.containerd, images);
    log(`images imported: ${imported.filter((i) => !i.startsWith('sha256:')).join(', ')}`);
    parts.cp = await startControlPlane({
      log,
      binDir,
      controllers: NODE_CONTROLLERS,
      authorizationModes: ['Node', 'RBAC'],
      controllerManagerCredentials: true,
      apiServerArgs: [
        `--service-cluster-ip-range=${parts.network.serviceCidr}`,
        // Without it the API server resolves the node name through the machine's DNS for exec/logs.
        '--kubelet-preferred-address-types=InternalIP',
      ],
      controllerManagerArgs: [`--service-cluster-ip-range=${parts.network.serviceCidr}`],
    });
    parts.scheduler = await startScheduler({ binDir, cp: parts.cp, log });
    parts.kubelet = await startKubelet({
      binDir,
      cp: parts.cp,
      nodeName: NODE_NAME,
      nodeIp: parts.network.nodeIp,
      runtimeEndpoint: parts.containerd.endpoint,
      log,
    });
    parts.kubeProxy = await startKubeProxy({ binDir, cp: parts.cp, nodeName: NODE_NAME, nodeIp: parts.network.nodeIp, podCidr: parts.network.podCidr, log });
    return {
      cp: parts.cp,
      network: parts.network,
      containerd: parts.containerd,
      images,
      kubelet: parts.kubelet,
      kubeProxy: parts.kubeProxy,
      scheduler: parts.scheduler,
      nodeName: NODE_NAME,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * What a run killed with SIGKILL leaves that the process registry (processes.ts) does not end: containerd's
 * shims (they re-parent to init), their containers (in kubepods cgroups) and the mounts under its kubelet and
 * containerd dirs, which would also keep the registry from removing those dirs. Only called with the node
 * lock held, so no live run owns any of them.
 */
function reapStaleNode(log: (msg: string) => void): void {
  const shims = pidsWithArg('/gracekeeper-containerd-').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('containerd-shim');
    } catch {
      return false;
    }
  });
  killPids(shims);
  const cgroups = removeCgroups('kubepods');
  const mounts = mountsUnder(tmpdir())
    .filter((m) => /\/gracekeeper-(kubelet|containerd)-[^/]+(\/|$)/.test(m))
    .map((m) => /^(.*\/gracekeeper-(?:kubelet|containerd)-[^/]+)/.exec(m)![1]!);
  let unmounted = 0;
  for (const dir of new Set(mounts)) unmounted += unmountUnder(dir).length;
  if (shims.length || cgroups.length || unmounted) {
    log(`cleaned up after an earlier run: ${shims.length} shims, ${cgroups.length} kubepods cgroups, ${unmounted} mounts`);
  }
}

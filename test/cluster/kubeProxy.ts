/**
 * kube-proxy in iptables mode for the real node: bound to the node IP, healthz and metrics on
 * 127.0.0.1, conntrack sizes and timeouts 0 (it leaves those sysctls alone), NodePorts on the node IP
 * only and not on localhost (no route_localnet). stop() ends it by pid and runs `kube-proxy --cleanup`,
 * which removes its rules.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from './controlPlane.js';
import { writeClientKubeconfig } from './kubeconfigs.js';
import { ManagedProcess, freePort, makeTempDir, removeTempDir, waitFor } from './processes.js';
import { tryRun } from './host.js';

export interface KubeProxyOptions {
  binDir: string;
  cp: ControlPlane;
  nodeName: string;
  nodeIp: string;
  podCidr: string;
  log?: (msg: string) => void;
}

export interface KubeProxy {
  readonly process: ManagedProcess;
  stop(): Promise<void>;
  cleanupSync(): void;
}

/** Remove the KUBE-* chains left in filter, nat and mangle (kube-proxy's and the kubelet's KUBE-FIREWALL). */
export function removeKubeChains(): void {
  for (const table of ['filter', 'nat', 'mangle']) {
    const listed = tryRun('iptables', ['-w', '-t', table, '-S']);
    if (!listed.ok) continue;
    const lines = listed.out.split('\n');
    for (const l of lines) {
      const m = /^-A (\S+) (.*-j (KUBE-\S+).*)$/.exec(l);
      if (m && !m[1]!.startsWith('KUBE-')) tryRun('iptables', ['-w', '-t', table, '-D', m[1]!, ...m[2]!.split(' ')]);
    }
    const chains = lines.map((l) => /^-N (KUBE-\S+)$/.exec(l)?.[1]).filter((c): c is string => !!c);
    for (const c of chains) tryRun('iptables', ['-w', '-t', table, '-F', c]);
    for (const c of chains) tryRun('iptables', ['-w', '-t', table, '-X', c]);
  }
}

export async function startKubeProxy(o: KubeProxyOptions): Promise<KubeProxy> {
  const log = o.log ?? ((): void => {});
  const dir = makeTempDir('gracekeeper-kube-proxy');
  const kubeconfig = join(dir, 'kubeconfig');
  writeClientKubeconfig(o.cp, kubeconfig, { commonName: 'system:kube-proxy' });
  const [healthz, metrics] = [await freePort(), await freePort()];
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    bindAddress: o.nodeIp,
    healthzBindAddress: `127.0.0.1:${healthz}`,
    metricsBindAddress: `127.0.0.1:${metrics}`,
    clusterCIDR: o.podCidr,
    hostnameOverride: o.nodeName,
    nodePortAddresses: [`${o.nodeIp}/32`],
    clientConnection: { kubeconfig },
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { localhostNodePorts: false },
  };
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const bin = join(o.binDir, 'kube-proxy');
  log('starting kube-proxy (iptables mode)');
  const proc = new ManagedProcess('kube-proxy', bin, [`--config=${configPath}`, '--v=2'], { logPath: join(dir, 'kube-proxy.log'), cwd: dir });
  let cleaned = false;
  const cleanupSync = (): void => {
    if (cleaned) return;
    cleaned = true;
    proc.killSync();
    tryRun(bin, ['--cleanup'], { timeoutMs: 30_000 });
    removeKubeChains();
    removeTempDir(dir);
  };
  const stop = async (): Promise<void> => {
    await proc.stop(10_000);
    cleanupSync();
  };
  try {
    // Its first sync writes the KUBE-SERVICES chain; /healthz stays 503 until it has seen its Node too.
    await waitFor(
      'kube-proxy to sync its iptables rules',
      async () => (tryRun('iptables', ['-w', '-t', 'nat', '-S', 'KUBE-SERVICES']).ok ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500, watch: [proc] },
    );
  } catch (err) {
    const tail = proc.logTail(30);
    await stop();
    throw new Error(`kube-proxy failed to start: ${(err as Error).message}\n${tail}`, { cause: err });
  }
  return { process: proc, stop, cleanupSync };
}

/**
 * The real node's network, all inside 198.18.0.0/15 (the range set aside for benchmark tests):
 * - a bridge made first, holding the node IP 198.18.0.1/24 (the kubelet rejects a loopback node IP);
 * - Pods in 198.18.0.0/24 via the CNI bridge plugin (isGateway, no masquerade, hairpin) with host-local
 *   IPAM in our own dataDir and only the route 198.18.0.0/15: Pods have no default route;
 * - the Service range 198.18.128.0/17 routed onto the bridge from the node IP; the rest of the /15
 *   blackholed;
 * - forwarding to or from the machine's uplink dropped, and output to 198.18.0.0/15 on the uplink
 *   dropped (chains GK-NODE-FWD and GK-NODE-OUT).
 * teardown() removes the bridge, its ports, the routes and chains, and restores net.ipv4.ip_forward
 * (the bridge plugin turns it on). A run that was killed leaves the same names behind: the next start
 * removes them first.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from './processes.js';
import { SysctlGuard, run, tryRun } from './host.js';

export const BRIDGE = 'gk-node0';
export const NODE_IP = '198.18.0.1';
export const POD_CIDR = '198.18.0.0/24';
export const SERVICE_CIDR = '198.18.128.0/17';
export const TEST_RANGE = '198.18.0.0/15';
const FWD_CHAIN = 'GK-NODE-FWD';
const OUT_CHAIN = 'GK-NODE-OUT';

export interface NodeNetwork {
  readonly nodeIp: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly bridge: string;
  /** CNI conf_dir for containerd. */
  readonly cniConfDir: string;
  readonly uplink: string | undefined;
  teardown(): void;
}

function uplinkDevice(): string | undefined {
  const routes = JSON.parse(run('ip', ['-j', 'route', 'show', 'default'])) as { dev?: string }[];
  return routes.find((r) => r.dev && r.dev !== BRIDGE)?.dev;
}

function removeChain(table: string, parent: string, chain: string): void {
  while (tryRun('iptables', ['-w', '-t', table, '-D', parent, '-j', chain]).ok) {
    /* remove every jump */
  }
  tryRun('iptables', ['-w', '-t', table, '-F', chain]);
  tryRun('iptables', ['-w', '-t', table, '-X', chain]);
}

/** Remove what a setup made (also what a killed run left behind). */
function removeNetwork(): void {
  if (tryRun('ip', ['link', 'show', BRIDGE]).ok) {
    // Veth ends still attached (Pods whose netns outlived a killed run) go first.
    const ports = tryRun('ip', ['-j', 'link', 'show', 'master', BRIDGE]);
    if (ports.ok) for (const p of JSON.parse(ports.out || '[]') as { ifname: string }[]) tryRun('ip', ['link', 'del', p.ifname]);
    tryRun('ip', ['link', 'del', BRIDGE]);
  }
  tryRun('ip', ['route', 'del', 'blackhole', TEST_RANGE]);
  tryRun('ip', ['route', 'del', SERVICE_CIDR]);
  removeChain('filter', 'FORWARD', FWD_CHAIN);
  removeChain('filter', 'OUTPUT', OUT_CHAIN);
}

export function setupNetwork(log: (msg: string) => void = () => {}): NodeNetwork {
  const sysctls = new SysctlGuard(['net.ipv4.ip_forward']);
  const hadCniVarDir = existsSync('/var/lib/cni');
  const dir = makeTempDir('gracekeeper-cni');
  const cniConfDir = join(dir, 'net.d');
  mkdirSync(cniConfDir);
  const uplink = uplinkDevice();
  let done = false;
  const teardown = (): void => {
    if (done) return;
    done = true;
    removeNetwork();
    const restored = sysctls.restore();
    if (restored.length) log(`restored ${restored.join(', ')}`);
    // containerd's CNI layer keeps results under /var/lib/cni: remove it when it was not there before.
    if (!hadCniVarDir) tryRun('rm', ['-rf', '/var/lib/cni']);
    removeTempDir(dir);
  };
  try {
    removeNetwork();
    run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', BRIDGE]);
    run('ip', ['link', 'set', BRIDGE, 'up']);
    run('ip', ['route', 'add', SERVICE_CIDR, 'dev', BRIDGE, 'src', NODE_IP]);
    run('ip', ['route', 'add', 'blackhole', TEST_RANGE]);
    run('iptables', ['-w', '-N', FWD_CHAIN]);
    run('iptables', ['-w', '-I', 'FORWARD', '1', '-j', FWD_CHAIN]);
    run('iptables', ['-w', '-N', OUT_CHAIN]);
    run('iptables', ['-w', '-I', 'OUTPUT', '1', '-j', OUT_CHAIN]);
    if (uplink) {
      run('iptables', ['-w', '-A', FWD_CHAIN, '-i', uplink, '-j', 'DROP']);
      run('iptables', ['-w', '-A', FWD_CHAIN, '-o', uplink, '-j', 'DROP']);
      run('iptables', ['-w', '-A', OUT_CHAIN, '-o', uplink, '-d', TEST_RANGE, '-j', 'DROP']);
    }
    const conflist = {
      cniVersion: '1.0.0',
      name: 'gracekeeper-node',
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: join(dir, 'ipam'),
            ranges: [[{ subnet: POD_CIDR, rangeStart: '198.18.0.10', rangeEnd: '198.18.0.250', gateway: NODE_IP }]],
            routes: [{ dst: TEST_RANGE }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
    writeFileSync(join(cniConfDir, '10-gracekeeper.conflist'), JSON.stringify(conflist, null, 2));
    log(`bridge ${BRIDGE} ${NODE_IP}/24, Pods ${POD_CIDR}, Services ${SERVICE_CIDR}, uplink ${uplink ?? '(none)'} fenced off`);
  } catch (err) {
    teardown();
    throw err;
  }
  return { nodeIp: NODE_IP, podCidr: POD_CIDR, serviceCidr: SERVICE_CIDR, bridge: BRIDGE, cniConfDir, uplink, teardown };
}

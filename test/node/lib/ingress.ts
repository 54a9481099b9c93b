/**
 * A client that routes as an ingress controller does (ingress-nginx, Envoy-based gateways): it watches the
 * Service's EndpointSlices, sends each request to a ready Pod IP round-robin over keep-alive connections
 * (one pool per endpoint), and drops an endpoint from the rotation when it stops being ready; its pooled
 * connections are closed once the requests on them have finished. It never goes through kube-proxy.
 * No ready endpoint answers 503, as an ingress would.
 *
 * Endpoint changes reach the rotation as ingress-nginx applies them: its controller syncs its backends at
 * most `syncRateLimit` times a second (flag --sync-rate-limit, default 0.3: one sync per 3.3 s at most,
 * token bucket of 1), so a change waits up to 3.3 s behind the previous sync.
 */
import { Agent } from 'node:http';
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1EndpointSlice } from '@kubernetes/client-node';
import { RateLoop, assertTestAddress, get } from './load.js';
import type { LoadOptions } from './load.js';

interface Upstream {
  key: string;
  host: string;
  port: number;
  agent: Agent;
  inFlight: number;
  removed: boolean;
}

/** What the EndpointSlice watch said, at each event (before the rate-limited sync): for diagnosing a failure. */
export interface SliceEvent {
  at: number;
  slices: number;
  ready: number;
  servingTerminating: number;
}

export interface IngressLoad {
  readonly loop: RateLoop;
  readonly history: readonly SliceEvent[];
  /** Endpoint changes seen (for the report). */
  readonly changes: number;
  stop(): Promise<RateLoop['counts']>;
}

/** ingress-nginx's --sync-rate-limit default. */
export const INGRESS_NGINX_SYNC_RATE_LIMIT = 0.3;

export async function ingressLoad(
  kc: KubeConfig,
  namespace: string,
  service: string,
  opts: LoadOptions,
  syncRateLimit = INGRESS_NGINX_SYNC_RATE_LIMIT,
): Promise<IngressLoad> {
  const slices = new Map<string, V1EndpointSlice>();
  const upstreams = new Map<string, Upstream>();
  let rotation: Upstream[] = [];
  let next = 0;
  let changes = 0;
  const history: SliceEvent[] = [];

  const retire = (u: Upstream): void => {
    u.removed = true;
    if (u.inFlight === 0) u.agent.destroy();
  };
  const recompute = (): void => {
    const ready = new Map<string, { host: string; port: number }>();
    for (const s of slices.values()) {
      const port = s.ports?.[0]?.port;
      if (port === undefined) continue;
      for (const e of s.endpoints ?? []) {
        const host = e.addresses[0];
        if (host && e.conditions?.ready === true) ready.set(`${host}:${port}`, { host, port });
      }
    }
    for (const [key, u] of upstreams) {
      if (!ready.has(key)) {
        upstreams.delete(key);
        retire(u);
        changes++;
      }
    }
    for (const [key, { host, port }] of ready) {
      if (!upstreams.has(key)) {
        assertTestAddress(host);
        upstreams.set(key, { key, host, port, agent: new Agent({ keepAlive: true, maxSockets: 4 }), inFlight: 0, removed: false });
        changes++;
      }
    }
    rotation = [...upstreams.values()];
  };
  // Rate-limited sync (token bucket of 1): at once when the last sync is old enough, else at the next slot.
  const minGapMs = 1000 / syncRateLimit;
  let lastSync = 0;
  let scheduled: NodeJS.Timeout | undefined;
  const sync = (): void => {
    scheduled = undefined;
    lastSync = Date.now();
    recompute();
  };
  const requestSync = (): void => {
    if (scheduled) return;
    const wait = lastSync + minGapMs - Date.now();
    if (wait <= 0) sync();
    else scheduled = setTimeout(sync, wait);
  };

  let synced!: () => void;
  const firstEvent = new Promise<void>((r) => (synced = r));
  const watch = new Watch(kc);
  const req = await watch.watch(
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    { labelSelector: `kubernetes.io/service-name=${service}` },
    (type: string, obj: V1EndpointSlice) => {
      const name = obj.metadata?.name ?? '';
      if (type === 'DELETED') slices.delete(name);
      else slices.set(name, obj);
      const eps = [...slices.values()].flatMap((x) => x.endpoints ?? []);
      if (history.length < 2000) {
        history.push({
          at: Date.now(),
          slices: slices.size,
          ready: eps.filter((e) => e.conditions?.ready === true).length,
          servingTerminating: eps.filter((e) => e.conditions?.ready !== true && e.conditions?.serving === true && e.conditions?.terminating === true).length,
        });
      }
      requestSync();
      synced();
    },
    () => undefined,
  );
  await Promise.race([firstEvent, new Promise((r) => setTimeout(r, 5000))]);

  const loop = new RateLoop(opts, async () => {
    if (rotation.length === 0) return '503 no ready endpoint';
    const u = rotation[next++ % rotation.length]!;
    u.inFlight++;
    try {
      return await get(u.host, u.port, u.agent, opts.timeoutMs ?? 5000);
    } finally {
      u.inFlight--;
      if (u.removed && u.inFlight === 0) u.agent.destroy();
    }
  });
  loop.start();
  return {
    loop,
    history,
    get changes() {
      return changes;
    },
    async stop() {
      const counts = await loop.stop();
      if (scheduled) clearTimeout(scheduled);
      req.abort();
      for (const u of upstreams.values()) u.agent.destroy();
      return counts;
    },
  };
}

import type { V1Container, V1ContainerPort } from '@kubernetes/client-node';
import { containerEntries, isProxy, runsAlongsideApp } from './containers.js';
import type { RuleContext, Workload } from './types.js';
import { isObject } from './workload.js';

/**
 * Which containers of a workload receive traffic, and from where. Endpoints (and so kube-proxy, ingress
 * controllers and DNS for headless Services) route to a pod only through a Service that selects its labels and
 * targets one of its ports; a drain delay and a readiness probe matter only there.
 *
 * - `services`: the namespace's Services are known (the live view synced, or offline: at least one Service of
 *   the namespace among the manifests given). A container receives traffic only if one of them routes to it.
 * - `assumed`: nothing is known of the namespace's Services. Every declared TCP containerPort without a hostPort
 *   is assumed to receive traffic (a hostPort is reached on the node, not through endpoints). Findings built on
 *   this say so, and fixes that could harm a pod (a readiness probe on a port nothing listens on) are not made.
 */
export type TrafficBasis = 'services' | 'assumed';

export interface Route {
  /** The Service that routes here; undefined when assumed. */
  service?: string;
  /** The container port traffic arrives on: the Service's numeric targetPort, or the declared port it names. */
  containerPort: number;
  /** The port's name when the Service targets it by name (probes should use it then). */
  portName?: string;
  /** Whether the container declares the port (a Service may target a number no container declares). */
  declared: boolean;
}

export interface Traffic {
  basis: TrafficBasis;
  /** Why the basis is `assumed`, for messages. */
  unknownReason?: string;
  /** Routes per container name (regular containers and native sidecars only). */
  routes: ReadonlyMap<string, readonly Route[]>;
}

/** Whether a Service's selector (non-empty; ExternalName Services have none) matches these pod labels. */
export function serviceSelects(service: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (!isObject(service) || !isObject(service.spec)) return false;
  const spec = service.spec;
  if (spec.type === 'ExternalName' || !isObject(spec.selector)) return false;
  const entries = Object.entries(spec.selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

export function serviceName(service: unknown): string {
  return isObject(service) && isObject(service.metadata) && typeof service.metadata.name === 'string' ? service.metadata.name : '(unnamed)';
}

const protocolOf = (p: { protocol?: unknown }) => (typeof p.protocol === 'string' && p.protocol ? p.protocol : 'TCP');

function add(routes: Map<string, Route[]>, container: string, route: Route): void {
  const list = routes.get(container) ?? [];
  if (!list.some((r) => r.service === route.service && r.containerPort === route.containerPort)) list.push(route);
  routes.set(container, list);
}

/** The container an undeclared numeric targetPort most likely reaches: the only app container, else the first. */
function likelyListener(candidates: readonly V1Container[], w: Workload, ctx: RuleContext): V1Container | undefined {
  const apps = candidates.filter((c) => !isProxy(c, w, ctx.config));
  return apps[0] ?? candidates[0];
}

/**
 * The traffic of a workload, computed once per evaluation (Workload.memo, shared by the fix pass's copy): it
 * depends only on labels, ports and the namespace's Services, none of which a fix changes. Asked through another
 * view (never within one evaluation), it is computed afresh.
 */
export function trafficOf(w: Workload, ctx: RuleContext): Traffic {
  const known = w.memo.traffic;
  if (known && known.view === ctx.cluster) return known.value as Traffic;
  const value = computeTraffic(w, ctx);
  w.memo.traffic = { view: ctx.cluster, value };
  return value;
}

function computeTraffic(w: Workload, ctx: RuleContext): Traffic {
  const alongside = containerEntries(w.podSpec, w.pointer)
    .filter(runsAlongsideApp)
    .map((e) => e.container);
  const routes = new Map<string, Route[]>();
  const services = ctx.cluster.listServices(w.metadata.namespace ?? '');
  if (!services.found) {
    for (const c of alongside) {
      for (const p of c.ports ?? []) {
        if (protocolOf(p) !== 'TCP' || p.hostPort) continue;
        add(routes, c.name, { containerPort: p.containerPort, ...(p.name ? { portName: p.name } : {}), declared: true });
      }
    }
    return { basis: 'assumed', unknownReason: services.reason, routes };
  }

  const labels = w.templateMetadata.labels ?? {};
  const sorted = [...services.value].sort((a, b) => (serviceName(a) < serviceName(b) ? -1 : serviceName(a) > serviceName(b) ? 1 : 0));
  for (const service of sorted) {
    if (!serviceSelects(service, labels)) continue;
    const name = serviceName(service);
    const ports = isObject((service as { spec?: unknown }).spec) && Array.isArray(service.spec?.ports) ? service.spec.ports : [];
    for (const port of ports as unknown[]) {
      if (!isObject(port)) continue;
      const protocol = protocolOf(port);
      // targetPort defaults to port (also when given as 0 or '').
      const target = port.targetPort || port.port;
      const declaring = (match: (p: V1ContainerPort) => boolean) =>
        alongside.flatMap((c) => (c.ports ?? []).filter((p) => protocolOf(p) === protocol && match(p)).map((p) => ({ c, p })));
      if (typeof target === 'string') {
        for (const { c, p } of declaring((p) => p.name === target)) {
          add(routes, c.name, { service: name, containerPort: p.containerPort, portName: target, declared: true });
        }
      } else if (typeof target === 'number') {
        const hits = declaring((p) => p.containerPort === target);
        for (const { c } of hits) add(routes, c.name, { service: name, containerPort: target, declared: true });
        // containerPort is informational: traffic to a port no container declares still arrives if one listens.
        const listener = hits.length === 0 ? likelyListener(alongside, w, ctx) : undefined;
        if (listener) add(routes, listener.name, { service: name, containerPort: target, declared: false });
      }
    }
  }
  return { basis: 'services', routes };
}

/** Routes of one container (empty when it receives no traffic). */
export function routesOf(w: Workload, ctx: RuleContext, container: string): readonly Route[] {
  return trafficOf(w, ctx).routes.get(container) ?? [];
}

/** Whether any container of the workload receives traffic. */
export function receivesTraffic(w: Workload, ctx: RuleContext): boolean {
  return trafficOf(w, ctx).routes.size > 0;
}

/**
 * How a container gets traffic, as a clause after its name: "receives traffic from Service 'web' on port 8080"
 * or "is assumed to receive traffic on port 8080 (no Service of namespace 'shop' is among the manifests given)".
 */
/** "port 8080" / "ports 8080, 9090": the distinct container ports of some routes, for messages. */
export function describePorts(routes: readonly Route[]): string {
  const numbers = [...new Set(routes.map((r) => r.containerPort))];
  return `${numbers.length === 1 ? 'port' : 'ports'} ${numbers.join(', ')}`;
}

export function describeRoutes(traffic: Traffic, routes: readonly Route[]): string {
  const ports = describePorts(routes);
  if (traffic.basis === 'assumed') {
    return `is assumed to receive traffic on ${ports} (${traffic.unknownReason ?? 'no Service is known'})`;
  }
  const services = [...new Set(routes.map((r) => r.service))];
  const who = services.length === 1 ? `Service '${services[0]}'` : `Services ${services.map((s) => `'${s}'`).join(', ')}`;
  return `receives traffic from ${who} on ${ports}`;
}

import type { V1Container } from '@kubernetes/client-node';
import { isProxy } from '../engine/containers.js';
import { restartsAlways } from '../engine/shutdown.js';
import { describeRoutes, routesOf, trafficOf, type Route } from '../engine/traffic.js';
import type { Rule, RuleContext, Workload } from '../engine/types.js';

/** App containers that receive traffic and have no readiness probe, with their routes. */
function unprobed(w: Workload, ctx: RuleContext) {
  if (!restartsAlways(w.podSpec)) return [];
  return w.podSpec.containers
    .map((container, index) => ({ container, index, routes: routesOf(w, ctx, container.name) }))
    .filter((e) => e.routes.length > 0 && !e.container.readinessProbe && !isProxy(e.container, w, ctx.config));
}

/**
 * The port a probe should check: the first port a known Service routes to that the container declares, by name
 * when the Service targets one. A numeric targetPort the container does not declare still reaches the pod
 * (containerPort is informational), but nothing shows that anything listens there: no probe is made on it.
 */
function probePort(routes: readonly Route[]): number | string | undefined {
  const route = routes.find((r) => r.declared);
  return route ? (route.portName ?? route.containerPort) : undefined;
}

function advice(routes: readonly Route[], known: boolean): string {
  if (!known) {
    return 'Add one on the port your Service targets (no automatic fix: which port carries traffic is not known).';
  }
  const port = probePort(routes);
  if (port === undefined) {
    const ports = [...new Set(routes.map((r) => r.containerPort))];
    return (
      `Add one on the port the app listens on (no automatic fix: the container does not declare ` +
      `${ports.length === 1 ? 'port' : 'ports'} ${ports.join(', ')}, ` +
      'so nothing shows that anything listens there).'
    );
  }
  return `Fix: tcpSocket on port ${port}, or better an HTTP check of the app's own readiness.`;
}

export const readinessProbeMissing: Rule = {
  id: 'readiness-probe-missing',
  summary: 'A container that receives Service traffic has no readinessProbe, so it gets traffic before it can answer.',
  defaultAction: 'warn',
  check(w, ctx) {
    const traffic = trafficOf(w, ctx);
    return unprobed(w, ctx).map((e) => ({
      container: e.container.name,
      path: `${w.pointer}/containers/${e.index}/readinessProbe`,
      message:
        `container '${e.container.name}' ${describeRoutes(traffic, e.routes)} but has no readinessProbe: ` +
        `endpoints send it requests as soon as it starts, before it can answer. ${advice(e.routes, traffic.basis === 'services')}`,
    }));
  },
  fix(spec, ctx, w) {
    // Never probe a port that is not known to carry traffic: a probe on a port nothing listens on keeps the pod
    // unready forever, an outage made by the fix.
    if (trafficOf(w, ctx).basis !== 'services') return;
    for (const e of unprobed(w, ctx)) {
      const port = probePort(e.routes);
      if (port === undefined) continue;
      const c: V1Container = spec.containers[e.index]!;
      // The API server defaults probe fields before mutating webhooks run, and validates after them; give
      // the defaulted values explicitly so a re-invocation sees the same object and the patch stays stable.
      c.readinessProbe = {
        tcpSocket: { port },
        periodSeconds: 5,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      };
    }
  },
};

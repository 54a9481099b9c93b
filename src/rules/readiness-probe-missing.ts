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

/** The port a probe should check: the first port a Service is known to route to, by name when it targets one. */
function probePort(routes: readonly Route[]): number | string {
  const route = routes[0]!;
  return route.portName ?? route.containerPort;
}

function advice(routes: readonly Route[], known: boolean): string {
  if (!known) {
    return 'Add one on the port your Service targets (no automatic fix: which port carries traffic is not known).';
  }
  return `Fix: tcpSocket on port ${probePort(routes)}, or better an HTTP check of the app's own readiness.`;
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
      const c: V1Container = spec.containers[e.index]!;
      // The API server defaults probe fields before mutating webhooks run, and validates after them; give
      // the defaulted values explicitly so a re-invocation sees the same object and the patch stays stable.
      c.readinessProbe = {
        tcpSocket: { port: probePort(e.routes) },
        periodSeconds: 5,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      };
    }
  },
};

import type { V1Container } from '@kubernetes/client-node';
import { containerEntries, isProxy, isServing } from '../engine/containers.js';
import type { Rule } from '../engine/types.js';

/** A serving app container without a readiness probe receives traffic before it can answer. */
function needsProbe(c: V1Container, isProxyContainer: boolean): boolean {
  return !c.readinessProbe && isServing(c) && !isProxyContainer;
}

export const readinessProbeMissing: Rule = {
  id: 'readiness-probe-missing',
  summary: 'A serving container has no readinessProbe, so it gets traffic before it is ready and during rollouts.',
  defaultAction: 'warn',
  check(w, ctx) {
    return containerEntries(w.podSpec, w.pointer)
      .filter((e) => !e.init && needsProbe(e.container, isProxy(e.container, w, ctx.config)))
      .map((e) => {
        const port = e.container.ports!.find((p) => (p.protocol ?? 'TCP') === 'TCP')!;
        return {
          container: e.container.name,
          path: `${e.path}/readinessProbe`,
          message:
            `container '${e.container.name}' serves port ${port.containerPort} but has no readinessProbe: ` +
            `it receives traffic before it can answer. Add one (fix: tcpSocket on port ${port.containerPort}).`,
        };
      });
  },
  fix(spec, ctx, w) {
    for (const c of spec.containers) {
      if (!needsProbe(c, isProxy(c, w, ctx.config))) continue;
      const port = c.ports!.find((p) => (p.protocol ?? 'TCP') === 'TCP')!;
      // The API server defaults probe fields before mutating webhooks run, and validates after them; give
      // the defaulted values explicitly so a re-invocation sees the same object and the patch stays stable.
      c.readinessProbe = {
        tcpSocket: { port: port.name ?? port.containerPort },
        periodSeconds: 5,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      };
    }
  },
};

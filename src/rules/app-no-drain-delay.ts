import type { V1Container } from '@kubernetes/client-node';
import { isServing } from '../engine/containers.js';
import { addDelay, chooseDelayMethod, describeDelay, noDelayAdvice } from '../engine/prestop.js';
import { proxySidecars, restartsAlways } from '../engine/shutdown.js';
import type { Rule, RuleContext, Workload } from '../engine/types.js';

const NO_PROXY_ENV = { proxyEnv: false };

/** Serving regular containers other than proxy sidecars, without a preStop hook. */
function undelayed(w: Workload, ctx: RuleContext) {
  // appPreStopSeconds 0 says no delay is wanted.
  if (!restartsAlways(w.podSpec) || ctx.config.timings.appPreStopSeconds === 0) return [];
  const sidecars = new Set(proxySidecars(w, ctx.config).map((e) => e.container));
  return w.podSpec.containers
    .map((container, index) => ({ container, path: `${w.pointer}/containers/${index}` }))
    .filter((e) => isServing(e.container) && !sidecars.has(e.container) && !e.container.lifecycle?.preStop);
}

function remedy(c: V1Container, ctx: RuleContext): string {
  const seconds = ctx.config.timings.appPreStopSeconds;
  const method = chooseDelayMethod(c, ctx, NO_PROXY_ENV);
  if (!method) return noDelayAdvice(c, ctx, seconds, NO_PROXY_ENV);
  return `Fix: ${describeDelay(method, seconds)}, so endpoints drop the pod before the app stops.`;
}

export const appNoDrainDelay: Rule = {
  id: 'app-no-drain-delay',
  summary: 'A serving container without a preStop hook gets SIGTERM while endpoints still route traffic to it.',
  defaultAction: 'warn',
  check(w, ctx) {
    return undelayed(w, ctx).map((e) => {
      const port = e.container.ports!.find((p) => (p.protocol ?? 'TCP') === 'TCP')!;
      return {
        container: e.container.name,
        path: `${e.path}/lifecycle/preStop`,
        message:
          `container '${e.container.name}' (port ${port.containerPort}) has no preStop: SIGTERM comes while traffic still does. ` +
          `Endpoints and load balancers take seconds to drop a terminating pod, so requests fail in every rollout. ` +
          remedy(e.container, ctx),
      };
    });
  },
  fix(spec, ctx, w) {
    for (const { container } of undelayed(w, ctx)) {
      const method = chooseDelayMethod(container, ctx, NO_PROXY_ENV);
      if (method) addDelay(spec, container, method, ctx.config.timings.appPreStopSeconds);
    }
  },
};

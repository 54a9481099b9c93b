import type { V1Container } from '@kubernetes/client-node';
import { addDelay, chooseDelayMethod, describeDelay, noDelayAdvice } from '../engine/prestop.js';
import { proxySidecars, restartsAlways } from '../engine/shutdown.js';
import { describeRoutes, routesOf, trafficOf } from '../engine/traffic.js';
import type { Rule, RuleContext, Workload } from '../engine/types.js';
import { isBarePod } from '../engine/workload.js';

const NO_PROXY_ENV = { proxyEnv: false };

/** Regular containers that receive traffic, other than proxy sidecars, without a preStop hook. */
function undelayed(w: Workload, ctx: RuleContext) {
  // appPreStopSeconds 0 says no delay is wanted.
  if (!restartsAlways(w.podSpec) || ctx.config.timings.appPreStopSeconds === 0) return [];
  const sidecars = new Set(proxySidecars(w, ctx.config).map((e) => e.container));
  return w.podSpec.containers
    .map((container, index) => ({ container, path: `${w.pointer}/containers/${index}` }))
    .filter((e) => !sidecars.has(e.container) && !e.container.lifecycle?.preStop && routesOf(w, ctx, e.container.name).length > 0);
}

function remedy(c: V1Container, ctx: RuleContext): string {
  const seconds = ctx.config.timings.appPreStopSeconds;
  const method = chooseDelayMethod(c, ctx, NO_PROXY_ENV);
  if (!method) return noDelayAdvice(c, ctx, seconds, NO_PROXY_ENV);
  return `Fix: ${describeDelay(method, seconds)}, so endpoints drop the pod before the app stops.`;
}

/** When the lost requests happen: a bare Pod is never rolled out, only deleted. */
function whenLost(w: Workload): string {
  return isBarePod(w)
    ? 'requests fail whenever the pod is deleted (evictions, node drains)'
    : 'requests fail in every rollout';
}

export const appNoDrainDelay: Rule = {
  id: 'app-no-drain-delay',
  summary: 'A container that receives Service traffic has no preStop hook: it gets SIGTERM while endpoints still route to it.',
  defaultAction: 'warn',
  check(w, ctx) {
    const traffic = trafficOf(w, ctx);
    return undelayed(w, ctx).map((e) => ({
      container: e.container.name,
      path: `${e.path}/lifecycle/preStop`,
      message:
        `container '${e.container.name}' ${describeRoutes(traffic, routesOf(w, ctx, e.container.name))} but has no preStop: ` +
        `SIGTERM comes while endpoints still route to it, so ${whenLost(w)}. ${remedy(e.container, ctx)}`,
    }));
  },
  fix(spec, ctx, w) {
    for (const { container } of undelayed(w, ctx)) {
      const method = chooseDelayMethod(container, ctx, NO_PROXY_ENV);
      if (method) addDelay(spec, container, method, ctx.config.timings.appPreStopSeconds);
    }
  },
};

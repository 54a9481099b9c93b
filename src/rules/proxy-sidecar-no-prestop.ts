import type { V1Container } from '@kubernetes/client-node';
import { addDelay, chooseDelayMethod, describeDelay, moveToNativeSidecars, noDelayAdvice, resolveStrategy } from '../engine/prestop.js';
import { ownSigtermDelaySeconds, proxySidecars, restartsAlways } from '../engine/shutdown.js';
import type { RuleContext, Rule, Workload } from '../engine/types.js';
import { isBarePod } from '../engine/workload.js';

const PROXY_ENV = { proxyEnv: true };

/** Proxy sidecars that stop at SIGTERM: no preStop hook and no --min-sigterm-delay of their own. */
function unguarded(w: Workload, ctx: RuleContext) {
  // With no preStop or drain time configured there is nothing to outlive.
  if (!restartsAlways(w.podSpec) || proxyHoldSeconds(ctx) === 0) return [];
  const unknown = ctx.config.timings.appPreStopSeconds;
  return proxySidecars(w, ctx.config).filter(
    (e) => !e.container.lifecycle?.preStop && ownSigtermDelaySeconds(e.container, unknown) === 0,
  );
}

/** The proxy must outlive the app: the app's own preStop plus its drain. */
function proxyHoldSeconds(ctx: RuleContext): number {
  return ctx.config.timings.appPreStopSeconds + ctx.config.timings.drainSeconds;
}

function remedy(c: V1Container, ctx: RuleContext): string {
  if (resolveStrategy(ctx) === 'native-sidecar') {
    return 'Fix: run it as a native sidecar (initContainers, restartPolicy: Always), which Kubernetes stops after the app.';
  }
  const seconds = proxyHoldSeconds(ctx);
  const method = chooseDelayMethod(c, ctx, PROXY_ENV);
  if (!method) return noDelayAdvice(c, ctx, seconds, PROXY_ENV);
  return `Fix: ${describeDelay(method, seconds)}, so it outlives the app's preStop and drain.`;
}

export const proxySidecarNoPrestop: Rule = {
  id: 'proxy-sidecar-no-prestop',
  summary: 'A proxy sidecar without a preStop hook exits at SIGTERM while the app is still draining through it.',
  defaultAction: 'warn',
  check(w, ctx) {
    return unguarded(w, ctx).map((e) => ({
      container: e.container.name,
      path: `${e.path}/lifecycle/preStop`,
      message:
        `proxy '${e.container.name}' has no preStop: it exits at SIGTERM while the app still drains. ` +
        `Requests in flight lose their connection ${isBarePod(w) ? 'whenever the pod is deleted (evictions, node drains)' : 'during every rollout'}. ` +
        remedy(e.container, ctx),
    }));
  },
  fix(spec, ctx, w) {
    const proxies = unguarded(w, ctx).map((e) => e.container);
    if (resolveStrategy(ctx) === 'native-sidecar') {
      moveToNativeSidecars(spec, new Set(proxies.map((c) => c.name)));
      return;
    }
    for (const c of proxies) {
      const method = chooseDelayMethod(c, ctx, PROXY_ENV);
      if (method) addDelay(spec, c, method, proxyHoldSeconds(ctx));
    }
  },
};

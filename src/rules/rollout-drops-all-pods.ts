import { deploymentStrategy, desiredReplicas, resolveRollingUpdate, type IntOrPercent } from '../engine/replicas.js';
import { describePorts, trafficOf, type Traffic } from '../engine/traffic.js';
import type { Rule, RuleContext, RuleIssue, Workload } from '../engine/types.js';

const SAFE = 'Set strategy.rollingUpdate maxUnavailable: 0 and maxSurge: 1 so a new pod is ready before an old one stops.';

/**
 * A pod that mounts a claim usually stops before its replacement on purpose: a ReadWriteOnce volume cannot be
 * held by the old and the new pod on two nodes (rwo-volume-shared-by-replicas says so when it can tell).
 */
function mountsClaim(w: Workload): boolean {
  return (w.podSpec.volumes ?? []).some((v) => v.persistentVolumeClaim);
}

/** The Services that route to the pods, for messages; the assumed case names the ports instead. */
function who(traffic: Traffic): string {
  if (traffic.basis === 'assumed') {
    return `clients of ${describePorts([...traffic.routes.values()].flat())} (assumed to receive traffic: ${traffic.unknownReason ?? 'no Service is known'})`;
  }
  const names = [...new Set([...traffic.routes.values()].flat().map((r) => r.service))];
  return names.length === 1 ? `Service '${names[0]}'` : `Services ${names.map((n) => `'${n}'`).join(', ')}`;
}

/** Kubernetes validation reads the raw values: 0 and '0%' are both zero (IsZero on int-or-string). */
function isZero(v: IntOrPercent): boolean {
  return v === 0 || v === '0%';
}

function rollingIssue(w: Workload, ctx: RuleContext): RuleIssue[] {
  const ru = resolveRollingUpdate(w);
  if (!ru) return [];
  for (const [field, value, resolved] of [
    ['maxUnavailable', ru.maxUnavailable, ru.unavailable],
    ['maxSurge', ru.maxSurge, ru.surge],
  ] as const) {
    if (Number.isNaN(resolved)) {
      return [
        {
          path: `/spec/strategy/rollingUpdate/${field}`,
          message:
            `${field} ${JSON.stringify(value)} is neither an integer >= 0 nor a percentage like '25%': the API server ` +
            `rejects the Deployment. ${SAFE}`,
        },
      ];
    }
  }
  if (isZero(ru.maxSurge) && isZero(ru.maxUnavailable)) {
    return [
      {
        path: '/spec/strategy/rollingUpdate/maxUnavailable',
        message: `maxSurge and maxUnavailable are both 0: the API server rejects the Deployment (one of them must allow progress). ${SAFE}`,
      },
    ];
  }
  if (ru.unavailable < ru.replicas) return [];
  const traffic = trafficOf(w, ctx);
  // Without traffic nothing is lost when every pod restarts at once; a single pod on a claim cannot surge.
  if (traffic.routes.size === 0 || (ru.replicas === 1 && mountsClaim(w))) return [];
  const q = JSON.stringify;
  const all = ru.replicas === 1 ? 'the only pod' : `all ${ru.replicas} pods at once`;
  const why = ru.bothZero
    ? `maxSurge ${q(ru.maxSurge)} and maxUnavailable ${q(ru.maxUnavailable)} round to 0 for ${ru.replicas} replica(s), and then the deployment controller allows 1 unavailable`
    : `maxUnavailable ${q(ru.maxUnavailable)} allows ${ru.unavailable} of ${ru.replicas} unavailable`;
  return [
    {
      path: '/spec/strategy/rollingUpdate/maxUnavailable',
      warnOnly: traffic.basis === 'assumed',
      message:
        `rollout can stop ${all} before a replacement is ready: ${why}. ${who(traffic)} then has no ready endpoint ` +
        `and requests fail. ${SAFE}`,
    },
  ];
}

function recreateIssue(w: Workload, ctx: RuleContext): RuleIssue[] {
  // Recreate is a deliberate choice (a leader-elected controller, a pod on a claim): report it only where a known
  // Service loses every endpoint because of it.
  const traffic = trafficOf(w, ctx);
  if (traffic.basis !== 'services' || traffic.routes.size === 0 || mountsClaim(w)) return [];
  return [
    {
      path: '/spec/strategy/type',
      warnOnly: true,
      message:
        `strategy Recreate stops every pod before new ones start: ${who(traffic)} has no endpoints during each rollout. ` +
        `Use RollingUpdate. ${SAFE}`,
    },
  ];
}

export const rolloutDropsAllPods: Rule = {
  id: 'rollout-drops-all-pods',
  summary: 'A Deployment receiving traffic whose rollout may stop every pod at once (maxUnavailable >= replicas, or Recreate).',
  defaultAction: 'deny',
  check(w, ctx) {
    if (w.kind !== 'Deployment' || desiredReplicas(w)! <= 0) return [];
    return deploymentStrategy(w) === 'Recreate' ? recreateIssue(w, ctx) : rollingIssue(w, ctx);
  },
};

import { containerEntries, isServing, runsAlongsideApp } from '../engine/containers.js';
import { deploymentStrategy, desiredReplicas, resolveRollingUpdate } from '../engine/replicas.js';
import type { Rule, RuleIssue, Workload } from '../engine/types.js';

const SAFE = 'Set strategy.rollingUpdate maxUnavailable: 0 and maxSurge: 1 so a new pod is ready before an old one stops.';

function servesTraffic(w: Workload): boolean {
  return containerEntries(w.podSpec, w.pointer).some((e) => runsAlongsideApp(e) && isServing(e.container));
}

/** A pod that mounts a PVC usually uses Recreate on purpose: old and new pods must not hold the volume together. */
function mountsClaim(w: Workload): boolean {
  return (w.podSpec.volumes ?? []).some((v) => v.persistentVolumeClaim);
}

function recreateIssue(w: Workload): RuleIssue[] {
  if (!servesTraffic(w) || mountsClaim(w)) return [];
  return [
    {
      path: '/spec/strategy/type',
      warnOnly: true,
      message:
        'strategy Recreate stops every pod before new ones start: the Service has no endpoints during each rollout. ' +
        `Use RollingUpdate. ${SAFE}`,
    },
  ];
}

export const rolloutDropsAllPods: Rule = {
  id: 'rollout-drops-all-pods',
  summary: 'A Deployment whose rollout may stop every pod at once (maxUnavailable >= replicas, or Recreate while serving).',
  defaultAction: 'deny',
  check(w) {
    if (w.kind !== 'Deployment' || desiredReplicas(w)! <= 0) return [];
    if (deploymentStrategy(w) === 'Recreate') return recreateIssue(w);
    const ru = resolveRollingUpdate(w);
    if (!ru) return [];
    const path = '/spec/strategy/rollingUpdate/maxUnavailable';
    for (const [field, value, resolved] of [
      ['maxUnavailable', ru.maxUnavailable, ru.unavailable],
      ['maxSurge', ru.maxSurge, ru.surge],
    ] as const) {
      if (Number.isNaN(resolved)) {
        return [
          {
            path: `/spec/strategy/rollingUpdate/${field}`,
            warnOnly: true,
            message:
              `${field} ${JSON.stringify(value)} is neither an integer >= 0 nor a percentage like '25%': the rollout ` +
              `could not be checked. The API server rejects it. ${SAFE}`,
          },
        ];
      }
    }
    if (ru.unavailable < ru.replicas) return [];
    const q = JSON.stringify;
    const all = ru.replicas === 1 ? 'the only pod' : `all ${ru.replicas} pods at once`;
    const why = ru.bothZero
      ? `maxSurge ${q(ru.maxSurge)} and maxUnavailable ${q(ru.maxUnavailable)} round to 0, so Kubernetes allows 1 unavailable`
      : `maxUnavailable ${q(ru.maxUnavailable)} allows ${ru.unavailable} of ${ru.replicas} unavailable`;
    return [
      {
        path,
        message:
          `rollout can stop ${all}: ${why}. ` +
          `Old pods may be killed before new ones are ready, so the Service goes down. ${SAFE}`,
      },
    ];
  },
};

import { DEFAULT_GRACE_SECONDS, graceSetExplicitly, gracePeriodSeconds, requiredGrace, type GraceNeed } from '../engine/shutdown.js';
import type { Rule, Workload } from '../engine/types.js';
import { isBarePod } from '../engine/workload.js';
import type { V1PodSpec } from '@kubernetes/client-node';

/**
 * An explicit grace period that outlasts every preStop hook is a person's choice: the rest of the need is
 * Gracekeeper's estimate (drain and proxy shutdown times from its config), so it is reported, never overridden.
 */
function keepsUserChoice(spec: V1PodSpec, need: GraceNeed): boolean {
  return graceSetExplicitly(spec) && gracePeriodSeconds(spec) > need.longestHook;
}

/** The preStop hooks (and so the shutdown) as earlier fixes left them differ from the pod as given. */
function hooksChanged(given: V1PodSpec, spec: V1PodSpec): boolean {
  const hooks = (s: V1PodSpec) => JSON.stringify([...s.containers, ...(s.initContainers ?? [])].map((c) => [c.name, c.lifecycle?.preStop, c.env, c.restartPolicy]));
  return given !== spec && hooks(given) !== hooks(spec);
}

/** How the grace period was given: the user's value, not one an earlier fix raised (a sleep needs grace >= its seconds). */
function describeGrace(given: V1PodSpec): string {
  return (
    `terminationGracePeriodSeconds ${gracePeriodSeconds(given)}s` +
    (graceSetExplicitly(given)
      ? ' (set explicitly)'
      : given.terminationGracePeriodSeconds === undefined
        ? ' (absent: the API server sets 30s)'
        : ` (the ${DEFAULT_GRACE_SECONDS}s default)`)
  );
}

function whenCut(w: Workload): string {
  return isBarePod(w)
    ? 'whenever the pod is deleted (evictions, node drains)'
    : 'whenever a pod stops (rollouts, scale-down, node drains)';
}

export const gracePeriodTooShort: Rule = {
  id: 'grace-period-too-short',
  summary: 'terminationGracePeriodSeconds does not cover the preStop hooks, the drain and the proxy shutdown.',
  defaultAction: 'warn',
  // Sized on the pod as the earlier fixes leave it, so audit states the number mutate writes.
  checkAfterFixes: true,
  check(w, ctx) {
    const current = gracePeriodSeconds(w.podSpec);
    const need = requiredGrace(w, ctx);
    if (current >= need.seconds) return [];
    const given = w.givenPodSpec ?? w.podSpec;
    const assumption = need.assumesDrain ? ' (timings.drainSeconds, an estimate)' : '';
    const withFixes = hooksChanged(given, w.podSpec) ? ' with the other fixes applied' : '';
    const shortfall =
      `${describeGrace(given)} is shorter than the ${need.seconds}s shutdown may take${withFixes}: ` +
      `'${need.container}' ${need.detail}${assumption}.`;
    if (keepsUserChoice(w.podSpec, need)) {
      return [
        {
          container: need.container,
          path: `${w.pointer}/terminationGracePeriodSeconds`,
          warnOnly: true,
          message:
            `${shortfall} If it needs that long, the kubelet kills it ${whenCut(w)}. ` +
            `Raise it to ${need.seconds} if so; an explicit value is left unchanged by the fix.`,
        },
      ];
    }
    return [
      {
        container: need.container,
        path: `${w.pointer}/terminationGracePeriodSeconds`,
        message: `${shortfall} The kubelet kills it before it is done, cutting off in-flight work ${whenCut(w)}. Fix: set it to ${need.seconds}.`,
      },
    ];
  },
  fix(spec, ctx, w) {
    const need = requiredGrace(w, ctx);
    // Never lower: a longer grace period is the user's choice and harmless.
    if (gracePeriodSeconds(spec) < need.seconds && !keepsUserChoice(spec, need)) spec.terminationGracePeriodSeconds = need.seconds;
  },
};

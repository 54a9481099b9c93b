import type { PolicyConfig } from '../config/policy.js';
import { DEFAULT_GRACE_SECONDS, graceSetExplicitly, gracePeriodSeconds, longestHookSeconds, requiredGrace } from '../engine/shutdown.js';
import type { Rule, RuleIssue, Workload } from '../engine/types.js';
import { isBarePod } from '../engine/workload.js';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

/**
 * The grace period a person chose, carried over the fixes: an explicit value (not the 30s default) that outlasts
 * (or matches) the pod's own preStop hooks says how long the app gets after them (0: stop at once). The rest of the need is Gracekeeper's
 * estimate (drain and proxy shutdown times from its config), so such a choice is never overridden; when a fix adds
 * or lengthens a hook by N s, the choice gains the same N s, so the app keeps the time it was given.
 * Undefined when there is no such choice (or it would come out as 30, which reads as the default).
 */
function chosenGrace(given: V1PodSpec, now: V1PodSpec, config: PolicyConfig): number | undefined {
  if (!graceSetExplicitly(given)) return undefined;
  const seconds = gracePeriodSeconds(given);
  const givenHook = longestHookSeconds(given, config);
  if (seconds < givenHook) return undefined;
  const carried = seconds + Math.max(0, longestHookSeconds(now, config) - givenHook);
  // 30 written back would read as the API server's default next time (a re-invoked webhook, a second mutate),
  // and the whole need would be set then: set it now, so the fix is idempotent.
  return carried === DEFAULT_GRACE_SECONDS ? undefined : carried;
}

/** What of a container decides its part of the shutdown: name, preStop hook, env (a proxy's own delay), restartPolicy. */
function sameShutdown(a: V1Container, b: V1Container): boolean {
  if (a.name !== b.name || a.restartPolicy !== b.restartPolicy) return false;
  // Fixes replace what they change and share the rest with the input, so identity settles most fields.
  const same = (x: unknown, y: unknown) => x === y || (x != null && y != null && JSON.stringify(x) === JSON.stringify(y));
  return same(a.lifecycle?.preStop, b.lifecycle?.preStop) && same(a.env, b.env);
}

/** The preStop hooks (and so the shutdown) as earlier fixes left them differ from the pod as given. */
function hooksChanged(given: V1PodSpec, spec: V1PodSpec): boolean {
  if (given === spec) return false;
  const all = (s: V1PodSpec) => [...s.containers, ...(s.initContainers ?? [])];
  const [before, after] = [all(given), all(spec)];
  return before.length !== after.length || !before.every((c, i) => sameShutdown(c, after[i]!));
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
    const given = w.givenPodSpec ?? w.podSpec;
    const chosen = chosenGrace(given, w.podSpec, ctx.config);
    const target = chosen === undefined ? need.seconds : Math.min(chosen, need.seconds);
    const path = `${w.pointer}/terminationGracePeriodSeconds`;
    const issues: RuleIssue[] = [];
    // Worded only when there is something to report (most pods need no words here).
    const shortfall = () =>
      `${describeGrace(given)} is shorter than the ${need.seconds}s shutdown may take` +
      `${hooksChanged(given, w.podSpec) ? ' with the other fixes applied' : ''}: ` +
      `'${need.container}' ${need.detail}${need.assumesDrain ? ' (timings.drainSeconds, an estimate)' : ''}.`;
    if (current < target) {
      issues.push({
        container: need.container,
        path,
        message:
          chosen === undefined
            ? `${shortfall()} The kubelet kills it before it is done, cutting off in-flight work ${whenCut(w)}. Fix: set it to ${target}.`
            : // The person's time after the hooks is kept: a preStop a fix adds comes on top of it.
              `${describeGrace(given)} must grow by the ${chosen - gracePeriodSeconds(given)}s of preStop the other fixes ` +
              `add, or the containers lose that time after SIGTERM. Fix: set it to ${target}.`,
      });
    }
    if (chosen !== undefined && chosen < need.seconds) {
      issues.push({
        container: need.container,
        path,
        warnOnly: true,
        message:
          `${shortfall()} If it needs that long, the kubelet kills it ${whenCut(w)}. ` +
          `Raise it to ${need.seconds} if so; the fix keeps an explicit value${chosen > gracePeriodSeconds(given) ? ` (plus the preStop it adds: ${chosen}s)` : ''}.`,
      });
    }
    return issues;
  },
  fix(spec, ctx, w) {
    const need = requiredGrace(w, ctx);
    const chosen = chosenGrace(w.givenPodSpec ?? spec, spec, ctx.config);
    const target = chosen === undefined ? need.seconds : Math.min(chosen, need.seconds);
    // Never lower: a longer grace period is the user's choice and harmless.
    if (gracePeriodSeconds(spec) < target) spec.terminationGracePeriodSeconds = target;
  },
};

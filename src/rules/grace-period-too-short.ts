import { DEFAULT_GRACE_SECONDS, gracePeriodSeconds, requiredGrace } from '../engine/shutdown.js';
import type { Rule } from '../engine/types.js';

export const gracePeriodTooShort: Rule = {
  id: 'grace-period-too-short',
  summary: 'terminationGracePeriodSeconds does not cover the preStop hooks, the drain and the proxy shutdown.',
  defaultAction: 'warn',
  check(w, ctx) {
    const current = gracePeriodSeconds(w.podSpec);
    const need = requiredGrace(w, ctx.config);
    if (current >= need.seconds) return [];
    const defaulted =
      current === DEFAULT_GRACE_SECONDS ? ` (${DEFAULT_GRACE_SECONDS}s is also what the API server sets when it is absent)` : '';
    return [
      {
        container: need.container,
        path: `${w.pointer}/terminationGracePeriodSeconds`,
        message:
          `terminationGracePeriodSeconds ${current}s is shorter than the ${need.seconds}s shutdown needs. ` +
          `The kubelet kills '${need.container}' (${need.detail}) before it is done, cutting off in-flight work ` +
          `whenever a pod stops (rollouts, scale-down, node drains). Fix: set it to ${need.seconds}${defaulted}.`,
      },
    ];
  },
  fix(spec, ctx, w) {
    const need = requiredGrace(w, ctx.config).seconds;
    // Never lower: a longer grace period is the user's choice and harmless.
    if (gracePeriodSeconds(spec) < need) spec.terminationGracePeriodSeconds = need;
  },
};

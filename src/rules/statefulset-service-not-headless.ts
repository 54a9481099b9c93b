import type { Rule } from '../engine/types.js';
import { isObject } from '../engine/workload.js';

/** Why a Service is not headless, or undefined when it is (clusterIP None). */
function notHeadless(service: unknown): string | undefined {
  const spec = isObject(service) && isObject(service.spec) ? service.spec : {};
  if (spec.type === 'ExternalName') return 'it is an ExternalName Service';
  if (spec.clusterIP === 'None') return undefined;
  return typeof spec.clusterIP === 'string' && spec.clusterIP
    ? `it has clusterIP ${spec.clusterIP}`
    : 'it has no clusterIP: None, so it gets a cluster IP';
}

export const statefulsetServiceNotHeadless: Rule = {
  id: 'statefulset-service-not-headless',
  summary: "A StatefulSet's serviceName names a Service that is not headless, so its pods get no stable DNS names.",
  defaultAction: 'deny',
  check(w, ctx) {
    if (w.kind !== 'StatefulSet') return [];
    // serviceName is optional (marked so in Kubernetes 1.34, never required by validation): without it the pods
    // get no subdomain, and there is no governing Service to check.
    const spec = w.object.spec as { serviceName?: string | null };
    const name = spec.serviceName;
    if (!name) return [];
    const path = '/spec/serviceName';
    const lookup = ctx.cluster.getService(w.metadata.namespace ?? '', name);
    if (!lookup.found) {
      return [
        {
          path,
          warnOnly: true,
          message:
            `Service '${name}' (serviceName) could not be checked: ${lookup.reason}. It must exist and be headless ` +
            '(clusterIP: None) for pods to get stable DNS names such as <pod>.' + name + '.',
        },
      ];
    }
    const why = notHeadless(lookup.value);
    if (!why) return [];
    return [
      {
        path,
        message:
          `serviceName '${name}' is not a headless Service: ${why}. Pod DNS names like ${w.metadata.name ?? '<name>'}-0.${name} ` +
          'do not resolve, so members that find each other by name cannot start or join. A clusterIP cannot be changed ' +
          'in place: create a headless Service (clusterIP: None) under this name and keep a separate Service for clients.',
      },
    ];
  },
};

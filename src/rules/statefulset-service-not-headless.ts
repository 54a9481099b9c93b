import { desiredReplicas } from '../engine/replicas.js';
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

/**
 * Cluster DNS publishes `<hostname>.<subdomain>.<namespace>.svc` records for a StatefulSet's pods only through a
 * headless governing Service (the DNS spec: A records per endpoint exist for headless Services only). A Service
 * with a cluster IP still answers `<service>.<namespace>.svc` with that IP, so its own clients keep working; what
 * breaks is every lookup of a pod's own name. That matters where pods find each other by name, which is why a
 * StatefulSet runs several of them; one replica is a warning.
 */
export const statefulsetServiceNotHeadless: Rule = {
  id: 'statefulset-service-not-headless',
  summary:
    "A StatefulSet's serviceName names a Service that is not headless: its pods get no per-pod DNS names (deny with several replicas).",
  defaultAction: 'deny',
  check(w, ctx) {
    if (w.kind !== 'StatefulSet') return [];
    // serviceName is optional (marked so in Kubernetes 1.34, never required by validation): without it the pods
    // get no subdomain, and there is no governing Service to check.
    const spec = w.object.spec as { serviceName?: string | null };
    const name = spec.serviceName;
    if (!name) return [];
    const path = '/spec/serviceName';
    const namespace = w.metadata.namespace ?? '';
    const lookup = ctx.cluster.getService(namespace, name);
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
    const replicas = desiredReplicas(w) ?? 1;
    const podName = `${w.metadata.name ?? '<name>'}-0.${name}.${namespace || '<namespace>'}.svc`;
    const breaks =
      replicas > 1
        ? `Its ${replicas} pods get no per-pod DNS records (${podName} ...), so members that find each other by ` +
          'those names (replication, clustering, peer discovery) fail to resolve them. '
        : `Its pod gets no per-pod DNS record (${podName}): only software that resolves pod names (replication, ` +
          'clustering, or more replicas later) is affected. ';
    return [
      {
        path,
        // With one replica nothing resolves a peer's name unless the software does so on its own: warn only.
        ...(replicas > 1 ? {} : { warnOnly: true }),
        message:
          `serviceName '${name}' is not a headless Service: ${why}. ${breaks}Clients of the ClusterIP Service itself ` +
          'are unaffected. A clusterIP cannot be changed in place: create a headless Service (clusterIP: None) under ' +
          'this name and keep a separate Service for clients.',
      },
    ];
  },
};

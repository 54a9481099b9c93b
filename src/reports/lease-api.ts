import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { describeApiError } from '../cluster/api-errors.js';
import type { LeaseApi, LeaseRecord } from './leader.js';

/** A time as client-node gives it (a Date, or the string it did not convert), as a Date; undefined if unreadable. */
function asDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const asRecord = (lease: V1Lease, name: string, namespace: string): LeaseRecord => {
  const spec = lease.spec ?? {};
  return {
    metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
    spec: {
      holderIdentity: spec.holderIdentity,
      leaseDurationSeconds: spec.leaseDurationSeconds,
      leaseTransitions: spec.leaseTransitions,
      acquireTime: asDate(spec.acquireTime),
      renewTime: asDate(spec.renewTime),
    },
  };
};

/** A spec to send: times as MicroTime, which the API server wants with six fractional digits (a Date gives three). */
function wireSpec(spec: LeaseRecord['spec']): V1LeaseSpec {
  const micro = (d: Date | undefined) => (d ? new V1MicroTime(d.getTime()) : undefined);
  return { ...spec, acquireTime: micro(spec.acquireTime), renewTime: micro(spec.renewTime) };
}

/** The report scan's Lease through the API server; errors name the verb and the Lease. */
export function kubernetesLeaseApi(kubeConfig: KubeConfig, name: string, namespace: string): LeaseApi {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  const fail = (verb: string, err: unknown): never => {
    const hint = err instanceof ApiException && err.code === 403 ? ` (RBAC: needs ${verb} on leases.coordination.k8s.io in namespace '${namespace}')` : '';
    throw new Error(`cannot ${verb} lease ${namespace}/${name}: ${describeApiError(err).replace(/ \(RBAC: needs [^)]*\)$/, '')}${hint}`);
  };
  return {
    async read() {
      try {
        return asRecord(await api.readNamespacedLease({ name, namespace }), name, namespace);
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        return fail('get', err);
      }
    },
    async create(lease) {
      try {
        return asRecord(await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: wireSpec(lease.spec) } }), name, namespace);
      } catch (err) {
        return fail('create', err);
      }
    },
    async replace(lease) {
      try {
        const body: V1Lease = { metadata: { name, namespace, resourceVersion: lease.metadata.resourceVersion }, spec: wireSpec(lease.spec) };
        return asRecord(await api.replaceNamespacedLease({ name, namespace, body }), name, namespace);
      } catch (err) {
        return fail('update', err);
      }
    },
  };
}

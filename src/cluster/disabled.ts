import type { V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import { notFound, type ClusterView, type ClusterVersions, type Lookup } from './view.js';

/**
 * The webhook's view when the cluster view is off: nothing of the cluster is known (every lookup says so, and
 * rules fall back to their documented defaults), and versions come from policy.kubernetesVersion.
 */
export class DisabledClusterView implements ClusterView {
  constructor(private readonly kubernetesVersion: string) {}

  getPersistentVolumeClaim(_namespace: string, name: string): Lookup<V1PersistentVolumeClaim> {
    return notFound(`PersistentVolumeClaim '${name}' is unknown: the cluster view is off`);
  }

  getService(_namespace: string, name: string): Lookup<V1Service> {
    return notFound(`Service '${name}' is unknown: the cluster view is off`);
  }

  listServices(): Lookup<V1Service[]> {
    return notFound('the cluster view is off, so no Service is known');
  }

  versions(): ClusterVersions {
    return { minKubelet: this.kubernetesVersion, source: 'config kubernetesVersion' };
  }
}

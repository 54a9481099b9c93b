import type { V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import type { KubeObject } from '../engine/types.js';
import { isObject } from '../engine/workload.js';
import { found, notFound, type ClusterView, type ClusterVersions, type Lookup } from './view.js';

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * The view the CLI builds from every manifest it was given. Objects without a namespace are taken to be in
 * `defaultNamespace` (as `kubectl apply` would put them). What was not given is unknown, never absent.
 */
export class OfflineClusterView implements ClusterView {
  private readonly pvcs = new Map<string, V1PersistentVolumeClaim>();
  private readonly services = new Map<string, V1Service>();
  private readonly servicesByNamespace = new Map<string, V1Service[]>();

  constructor(
    objects: readonly KubeObject[],
    private readonly kubernetesVersion: string,
    private readonly defaultNamespace = 'default',
  ) {
    for (const obj of objects) {
      const meta = isObject(obj.metadata) ? obj.metadata : {};
      const name = typeof meta.name === 'string' ? meta.name : undefined;
      if (!name) continue;
      const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : defaultNamespace;
      if (obj.kind === 'PersistentVolumeClaim') this.pvcs.set(key(namespace, name), obj as V1PersistentVolumeClaim);
      if (obj.kind === 'Service') {
        this.services.set(key(namespace, name), obj as V1Service);
        const list = this.servicesByNamespace.get(namespace) ?? [];
        list.push(obj as V1Service);
        this.servicesByNamespace.set(namespace, list);
      }
    }
  }

  private ns(namespace: string): string {
    return namespace || this.defaultNamespace;
  }

  getPersistentVolumeClaim(namespace: string, name: string): Lookup<V1PersistentVolumeClaim> {
    const pvc = this.pvcs.get(key(this.ns(namespace), name));
    return pvc ? found(pvc) : notFound(`PersistentVolumeClaim '${name}' is not among the manifests given`);
  }

  getService(namespace: string, name: string): Lookup<V1Service> {
    const svc = this.services.get(key(this.ns(namespace), name));
    return svc ? found(svc) : notFound(`Service '${name}' is not among the manifests given`);
  }

  listServices(namespace: string): Lookup<V1Service[]> {
    return found(this.servicesByNamespace.get(this.ns(namespace)) ?? []);
  }

  versions(): ClusterVersions {
    return { minKubelet: this.kubernetesVersion, source: 'config kubernetesVersion' };
  }
}

import type { V1Node, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import type { KubeObject } from '../engine/types.js';
import { isObject } from '../engine/workload.js';
import { computeVersions } from './versions.js';
import { found, notFound, type ClusterVersions, type ClusterView, type Lookup } from './view.js';

export interface SnapshotInput {
  services: readonly KubeObject[];
  pvcs: readonly KubeObject[];
  /** Every Node, or undefined when they could not be listed (the versions then come from elsewhere). */
  nodes: readonly KubeObject[] | undefined;
  /** The API server's gitVersion, when read. */
  apiServer: string | undefined;
  /** policy.kubernetesVersion: used only when neither nodes nor the API server tell. */
  fallbackKubernetesVersion: string;
  /** Namespaces whose Services and PVCs were listed; undefined: all of them. */
  namespaces?: ReadonlySet<string>;
}

const DEFAULT_NAMESPACE = 'default';

function metaOf(obj: KubeObject): { name: string; namespace: string } | undefined {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  if (typeof meta.name !== 'string' || !meta.name) return undefined;
  return { name: meta.name, namespace: typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : DEFAULT_NAMESPACE };
}

/**
 * The ClusterView of `audit --cluster`: what the webhook's live view knows (Services, PVCs, kubelet versions of
 * the Nodes, the API server's version), from one listing instead of informers. The versions come from the same
 * computeVersions as the live view's. A name not listed does not exist, except in a namespace that was not
 * listed, where the view cannot tell.
 */
export class SnapshotClusterView implements ClusterView {
  private readonly services = new Map<string, Map<string, V1Service>>();
  private readonly pvcs = new Map<string, Map<string, V1PersistentVolumeClaim>>();
  private readonly versionsValue: ClusterVersions;

  constructor(private readonly input: SnapshotInput) {
    const index = <T>(into: Map<string, Map<string, T>>, objects: readonly KubeObject[]) => {
      for (const obj of objects) {
        const meta = metaOf(obj);
        if (!meta) continue;
        const byName = into.get(meta.namespace) ?? new Map<string, T>();
        byName.set(meta.name, obj as T);
        into.set(meta.namespace, byName);
      }
    };
    index(this.services, input.services);
    index(this.pvcs, input.pvcs);
    let kubelets: Map<string, string> | undefined;
    if (input.nodes) {
      kubelets = new Map();
      for (const node of input.nodes as unknown as V1Node[]) {
        const name = node.metadata?.name;
        if (name) kubelets.set(name, node.status?.nodeInfo?.kubeletVersion ?? '');
      }
    }
    this.versionsValue = computeVersions({ kubelets, apiServer: input.apiServer, fallback: input.fallbackKubernetesVersion });
  }

  private listed(namespace: string): boolean {
    return this.input.namespaces === undefined || this.input.namespaces.has(namespace);
  }

  private lookup<T>(into: Map<string, Map<string, T>>, kind: string, namespace: string, name: string): Lookup<T> {
    const ns = namespace || DEFAULT_NAMESPACE;
    const value = into.get(ns)?.get(name);
    if (value) return found(value);
    if (!this.listed(ns)) return notFound(`cannot tell whether ${kind} '${name}' exists: namespace '${ns}' was not listed`);
    return notFound(`${kind} '${name}' in namespace '${ns}' does not exist (listed from the cluster)`);
  }

  getPersistentVolumeClaim(namespace: string, name: string): Lookup<V1PersistentVolumeClaim> {
    return this.lookup(this.pvcs, 'PersistentVolumeClaim', namespace, name);
  }

  getService(namespace: string, name: string): Lookup<V1Service> {
    return this.lookup(this.services, 'Service', namespace, name);
  }

  listServices(namespace: string): Lookup<V1Service[]> {
    const ns = namespace || DEFAULT_NAMESPACE;
    if (!this.listed(ns)) return notFound(`cannot tell which Services namespace '${ns}' has: it was not listed`);
    return found([...(this.services.get(ns)?.values() ?? [])]);
  }

  versions(): ClusterVersions {
    return this.versionsValue;
  }
}

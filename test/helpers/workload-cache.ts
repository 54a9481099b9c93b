/** The background scan's workload cache in memory, filled by the test as the informers would fill it. */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { WorkloadCache } from '../../src/reports/scheduler.js';
import { slimNamespace, slimWorkload } from '../../src/reports/slim.js';

export class MemoryWorkloadCache implements WorkloadCache {
  readonly objects = new Map<string, KubernetesObject>();
  readonly ns = new Map<string, KubernetesObject>();
  listed = () => true;
  namespaces = () => [...this.ns.values()];
  workloads = (namespace: string) => [...this.objects.values()].filter((o) => o.metadata?.namespace === namespace);
  workloadNamespaces = () => new Set([...this.objects.values()].map((o) => o.metadata?.namespace ?? ''));

  /** Adds or replaces a workload, slimmed as the informer keeps it, at resourceVersion `rv`. */
  put(obj: KubernetesObject & { kind: string; apiVersion: string }, rv = '1'): void {
    const slim = slimWorkload({ ...obj, metadata: { ...obj.metadata, resourceVersion: rv } }, obj.apiVersion, obj.kind);
    this.objects.set(`${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`, slim);
  }

  remove(kind: string, namespace: string, name: string): void {
    this.objects.delete(`${kind}/${namespace}/${name}`);
  }

  /** A namespace, labelled `gracekeeper.io/mode: <mode>` when a mode is given. */
  namespace(name: string, mode?: string): void {
    this.ns.set(name, slimNamespace({ metadata: { name, labels: mode ? { 'gracekeeper.io/mode': mode } : {}, managedFields: [] } } as KubernetesObject));
  }
}

import type { V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';

/** A lookup answer: the object, or why it cannot be given (never a throw, never a wait). */
export type Lookup<T> = { found: true; value: T } | { found: false; reason: string };

export const found = <T>(value: T): Lookup<T> => ({ found: true, value });
export const notFound = <T>(reason: string): Lookup<T> => ({ found: false, reason });

/** Versions that decide which Kubernetes features a fix may use. */
export interface ClusterVersions {
  /** e.g. "1.34"; the lowest kubelet minor across nodes when known, else the assumed version. */
  minKubelet: string;
  /** Where minKubelet came from, for messages: "nodes", "config" ... */
  source: string;
}

/**
 * What rules may know of other objects. Offline it is built from the manifests given to the CLI; live it is
 * an informer cache. Every method answers at once from memory.
 */
export interface ClusterView {
  getPersistentVolumeClaim(namespace: string, name: string): Lookup<V1PersistentVolumeClaim>;
  getService(namespace: string, name: string): Lookup<V1Service>;
  /** Services of a namespace; not found when the view cannot tell (unsynced, offline without them). */
  listServices(namespace: string): Lookup<V1Service[]>;
  versions(): ClusterVersions;
}

export type ClusterViewState = 'disabled' | 'syncing' | 'synced' | 'degraded';

/** A view with a lifecycle (the live, informer-backed one); the offline view needs none. */
export interface ClusterViewSource {
  view: ClusterView;
  /** Starts watching; resolves when first synced or when it gives up waiting (never rejects). */
  start(): Promise<void>;
  stop(): Promise<void>;
  state(): ClusterViewState;
}

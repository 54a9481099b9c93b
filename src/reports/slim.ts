import type { KubernetesObject } from '@kubernetes/client-node';

/*
 * The scan caches every workload of the cluster, so it keeps only what the rules read: metadata (without
 * managedFields and kubectl's last-applied copy) and spec. Pods, ReplicaSets and Jobs that a workload
 * controller owns are reported through that controller, so of them only a stub with the owner is kept.
 */

type Obj = KubernetesObject & Record<string, unknown>;
type Meta = NonNullable<KubernetesObject['metadata']>;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Owner kinds whose Pods / ReplicaSets / Jobs the scan reports through the owner (it watches them all). */
const CONTROLLER_KINDS: Record<string, string> = {
  ReplicaSet: 'apps/v1',
  ReplicationController: 'v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Deployment: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

/** Kinds that may be reported through their controller. */
const OWNED_KINDS = new Set(['Pod', 'ReplicaSet', 'Job']);

/** Marks a stub: an owned object whose spec was dropped. */
export const STUB_ANNOTATION = 'gracekeeper.io/scan-stub';

/** The controller (ownerReferences[].controller) of `obj`, when it is a workload the scan watches. */
export function workloadController(obj: KubernetesObject): { kind: string; name: string } | undefined {
  const refs = obj.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    if (!ref || ref.controller !== true) continue;
    if (CONTROLLER_KINDS[ref.kind] === ref.apiVersion) return { kind: ref.kind, name: ref.name };
  }
  return undefined;
}

function slimMeta(meta: Meta | undefined): Meta {
  const out: Meta = { ...(meta ?? {}) };
  delete out.managedFields;
  if (out.annotations && LAST_APPLIED in out.annotations) {
    const { [LAST_APPLIED]: _dropped, ...rest } = out.annotations;
    out.annotations = rest;
  }
  return out;
}

/**
 * What the cache keeps of a workload of kind `kind` (list items come without apiVersion and kind; they are set
 * here). Never throws: an object of the wrong shape is kept as it is, for the engine to report as unreadable.
 */
export function slimWorkload(obj: KubernetesObject, apiVersion: string, kind: string): KubernetesObject {
  if (typeof obj !== 'object' || obj === null) return obj;
  const source = obj as Obj;
  const metadata = slimMeta(typeof source.metadata === 'object' && source.metadata !== null ? source.metadata : undefined);
  if (OWNED_KINDS.has(kind) && workloadController(source)) {
    const stub: Meta = { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion, ownerReferences: metadata.ownerReferences, annotations: { [STUB_ANNOTATION]: 'true' } };
    return { apiVersion, kind, metadata: stub };
  }
  const { status: _status, metadata: _metadata, ...rest } = source;
  return { ...rest, apiVersion, kind, metadata } as KubernetesObject;
}

/** Namespaces matter for their name, labels and whether they are being deleted. */
export function slimNamespace(ns: KubernetesObject): KubernetesObject {
  const meta = ns?.metadata;
  const out: Meta = { name: meta?.name ?? '' };
  if (meta?.resourceVersion) out.resourceVersion = meta.resourceVersion;
  if (meta?.labels) out.labels = meta.labels;
  if (meta?.deletionTimestamp) out.deletionTimestamp = meta.deletionTimestamp;
  return { apiVersion: 'v1', kind: 'Namespace', metadata: out };
}

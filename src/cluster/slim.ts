import type { KubernetesObject, V1Node, V1NodeSystemInfo, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';

/*
 * The live cache holds every Service, PVC and Node of the cluster, so it keeps only what rules read.
 * resourceVersion stays: the informer resumes its watch from it and skips unchanged updates with it.
 */

type Meta = NonNullable<KubernetesObject['metadata']>;

function slimMeta(meta: Meta | undefined, withLabels: boolean): Meta {
  const out: Meta = { name: meta?.name ?? '' };
  if (meta?.namespace) out.namespace = meta.namespace;
  if (meta?.resourceVersion) out.resourceVersion = meta.resourceVersion;
  if (withLabels && meta?.labels) out.labels = meta.labels;
  return out;
}

export function slimService(svc: V1Service): V1Service {
  const spec = svc.spec;
  const out: V1Service = { apiVersion: 'v1', kind: 'Service', metadata: slimMeta(svc.metadata, true) };
  if (spec) {
    out.spec = {};
    if (spec.clusterIP !== undefined) out.spec.clusterIP = spec.clusterIP;
    if (spec.selector !== undefined) out.spec.selector = spec.selector;
    if (spec.ports !== undefined) out.spec.ports = spec.ports;
  }
  return out;
}

export function slimPersistentVolumeClaim(pvc: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  const out: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: slimMeta(pvc.metadata, false),
  };
  if (pvc.spec?.accessModes !== undefined) out.spec = { accessModes: pvc.spec.accessModes };
  if (pvc.status?.accessModes !== undefined) out.status = { accessModes: pvc.status.accessModes };
  return out;
}

/** Nodes matter only for their kubelet version. */
export function slimNode(node: V1Node): V1Node {
  const out: V1Node = { apiVersion: 'v1', kind: 'Node', metadata: slimMeta(node.metadata, false) };
  const kubeletVersion = node.status?.nodeInfo?.kubeletVersion;
  // nodeInfo's other fields are required by the type; the cache never reads them.
  if (kubeletVersion !== undefined) out.status = { nodeInfo: { kubeletVersion } as V1NodeSystemInfo };
  return out;
}

import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { fieldName } from '../config/policy.js';
import { specificError } from '../config/schema-errors.js';
import { shapes } from './shape.js';
import { WORKLOAD_KINDS, type KubeObject, type Workload, type WorkloadKind } from './types.js';

/** Where each kind keeps its pod spec. */
export const POD_SPEC_POINTER: Record<WorkloadKind, string> = {
  Pod: '/spec',
  Deployment: '/spec/template/spec',
  ReplicaSet: '/spec/template/spec',
  StatefulSet: '/spec/template/spec',
  DaemonSet: '/spec/template/spec',
  ReplicationController: '/spec/template/spec',
  Job: '/spec/template/spec',
  CronJob: '/spec/jobTemplate/spec/template/spec',
};

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return typeof kind === 'string' && (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads the value at a JSON pointer, or undefined. */
export function atPointer(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.includes('~') ? raw.replace(/~1/g, '/').replace(/~0/g, '~') : raw;
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObject(cur) && Object.hasOwn(cur, key)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

/**
 * Turns a Pod or pod controller into a Workload. Returns null for kinds that hold no pod spec
 * (Services, PVCs ...). Throws WORKLOAD_UNREADABLE naming the first field of the wrong shape.
 */
export function toWorkload(obj: KubeObject): Workload | null {
  const kind = obj.kind;
  if (!isWorkloadKind(kind)) return null;
  const shape = kind === 'Pod' ? shapes.Pod : kind === 'CronJob' ? shapes.CronJob : shapes.Controller;
  // The compiled Check is fast; Errors() walks the schema dynamically, so it runs only for a bad object.
  const first = shape.Check(obj) ? undefined : shape.Errors(obj).First();
  if (first) {
    const error = specificError(first);
    const what = error.value === undefined ? 'is required' : error.message.toLowerCase();
    throw new GracekeeperError(ErrorCode.WorkloadUnreadable, `${kind}: ${fieldName(error.path)} ${what}`, error.path || '/');
  }
  const pointer = POD_SPEC_POINTER[kind];
  const templatePointer = pointer.slice(0, -'/spec'.length);
  const metadata = (obj.metadata ?? {}) as V1ObjectMeta;
  const templateMetadata = (kind === 'Pod' ? metadata : (atPointer(obj, `${templatePointer}/metadata`) ?? {})) as V1ObjectMeta;
  return {
    kind,
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : '',
    metadata,
    templateMetadata,
    podSpec: atPointer(obj, pointer) as V1PodSpec,
    pointer,
    object: obj,
    memo: {},
  };
}

/** A Pod no controller owns: it is never rolled out, only deleted (evictions, node drains, by hand). */
export function isBarePod(w: Workload): boolean {
  return w.kind === 'Pod' && !w.metadata.ownerReferences?.length;
}

/** Display name: metadata.name, else generateName + '*' (Pods from a ReplicaSet have only generateName). */
export function workloadName(meta: V1ObjectMeta | undefined): string {
  if (meta?.name) return meta.name;
  if (meta?.generateName) return `${meta.generateName}*`;
  return '(unnamed)';
}

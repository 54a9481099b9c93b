import { isDeepStrictEqual } from 'node:util';
import { posix } from 'node:path';
import type { V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import type { KubeObject } from '../engine/types.js';
import { isObject } from '../engine/workload.js';
import { found, notFound, type ClusterView, type ClusterVersions, type Lookup } from './view.js';

/** An object given to the CLI, with the file it came from (absent for objects without one, e.g. tests). */
export interface SourcedObject {
  object: KubeObject;
  file?: string;
}

interface Entry<T> {
  value: T;
  file: string | undefined;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/** Folders of a path, outermost first: `a/b/c.yaml` -> ['a', 'a/b']. */
function folders(file: string): string[] {
  const parts = posix.normalize(file.replaceAll('\\', '/')).split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** How close an object's file is to the asking workload's: same file beats the deepest shared folder. */
function closeness(from: string | undefined, file: string | undefined): number {
  if (from === undefined || file === undefined) return 0;
  if (from === file) return Number.MAX_SAFE_INTEGER;
  const a = folders(from);
  const b = folders(file);
  let shared = 0;
  while (shared < a.length && shared < b.length && a[shared] === b[shared]) shared++;
  return shared;
}

/**
 * The best match among objects of one name for a workload in file `from`, independent of input order: the
 * closest file wins; equally close definitions that differ are ambiguous (undefined), equal ones are one.
 */
function nearest<T>(entries: readonly Entry<T>[], from: string | undefined): { value: T } | { ambiguous: string[] } {
  let best: Entry<T>[] = [];
  let bestScore = -1;
  for (const e of entries) {
    const score = closeness(from, e.file);
    if (score > bestScore) {
      best = [e];
      bestScore = score;
    } else if (score === bestScore) best.push(e);
  }
  const first = best[0]!;
  if (best.every((e) => isDeepStrictEqual(e.value, first.value))) return { value: first.value };
  return { ambiguous: [...new Set(best.map((e) => e.file ?? '(unnamed input)'))].sort() };
}

/**
 * The view the CLI builds from every manifest it was given. Objects without a namespace are taken to be in
 * `defaultNamespace` (as `kubectl apply` would put them). What was not given is unknown, never absent: a
 * namespace none of whose Services were given has unknown Services. When several inputs define the same object
 * (two environments' folders), the one nearest the asking workload's file is used, whatever the argument order;
 * equally near definitions that differ make the lookup ambiguous (reported, never guessed). Use `forFile` to ask
 * on behalf of a workload; asked directly, every definition is equally near.
 */
export class OfflineClusterView implements ClusterView {
  private readonly pvcs = new Map<string, Entry<V1PersistentVolumeClaim>[]>();
  private readonly services = new Map<string, Entry<V1Service>[]>();
  private readonly serviceNames = new Map<string, Set<string>>();
  private readonly scoped = new Map<string, ClusterView>();

  constructor(
    objects: readonly (KubeObject | SourcedObject)[],
    private readonly kubernetesVersion: string,
    private readonly defaultNamespace = 'default',
    private readonly from?: string,
    shared?: OfflineClusterView,
  ) {
    if (shared) {
      this.pvcs = shared.pvcs;
      this.services = shared.services;
      this.serviceNames = shared.serviceNames;
      return;
    }
    for (const item of objects) {
      const { object: obj, file } = isSourced(item) ? item : { object: item, file: undefined };
      const meta = isObject(obj.metadata) ? obj.metadata : {};
      const name = typeof meta.name === 'string' ? meta.name : undefined;
      if (!name) continue;
      const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : defaultNamespace;
      if (obj.kind === 'PersistentVolumeClaim') push(this.pvcs, key(namespace, name), { value: obj as V1PersistentVolumeClaim, file });
      if (obj.kind === 'Service') {
        push(this.services, key(namespace, name), { value: obj as V1Service, file });
        const names = this.serviceNames.get(namespace) ?? new Set<string>();
        names.add(name);
        this.serviceNames.set(namespace, names);
      }
    }
  }

  /** The same objects, asked on behalf of a workload of `file`: nearer definitions win. */
  forFile(file: string): ClusterView {
    let view = this.scoped.get(file);
    if (!view) {
      view = new OfflineClusterView([], this.kubernetesVersion, this.defaultNamespace, file, this);
      this.scoped.set(file, view);
    }
    return view;
  }

  private ns(namespace: string): string {
    return namespace || this.defaultNamespace;
  }

  private lookup<T>(map: Map<string, Entry<T>[]>, kind: string, namespace: string, name: string): Lookup<T> {
    const entries = map.get(key(this.ns(namespace), name));
    if (!entries) return notFound(`${kind} '${name}' is not among the manifests given`);
    const match = nearest(entries, this.from);
    if ('value' in match) return found(match.value);
    return notFound(`${kind} '${name}' is defined differently in ${match.ambiguous.join(' and ')}, equally near`);
  }

  getPersistentVolumeClaim(namespace: string, name: string): Lookup<V1PersistentVolumeClaim> {
    return this.lookup(this.pvcs, 'PersistentVolumeClaim', namespace, name);
  }

  getService(namespace: string, name: string): Lookup<V1Service> {
    return this.lookup(this.services, 'Service', namespace, name);
  }

  /**
   * Services of a namespace, one per name (the nearest); where equally near definitions of a name differ, each
   * is listed, so what routes traffic never depends on which was given last.
   */
  listServices(namespace: string): Lookup<V1Service[]> {
    const ns = this.ns(namespace);
    const names = this.serviceNames.get(ns);
    if (!names) return notFound(`no Service of namespace '${ns}' is among the manifests given`);
    const list: V1Service[] = [];
    for (const name of [...names].sort()) {
      const entries = this.services.get(key(ns, name))!;
      const match = nearest(entries, this.from);
      if ('value' in match) list.push(match.value);
      else {
        const tied = entries.filter((e) => match.ambiguous.includes(e.file ?? '(unnamed input)'));
        list.push(...tied.sort((a, b) => ((a.file ?? '') < (b.file ?? '') ? -1 : 1)).map((e) => e.value));
      }
    }
    return found(list);
  }

  versions(): ClusterVersions {
    return { minKubelet: this.kubernetesVersion, source: 'config kubernetesVersion' };
  }
}

function isSourced(item: KubeObject | SourcedObject): item is SourcedObject {
  return isObject((item as SourcedObject).object) && !('kind' in item) && !('apiVersion' in item);
}

function push<T>(map: Map<string, Entry<T>[]>, k: string, entry: Entry<T>): void {
  const list = map.get(k) ?? [];
  list.push(entry);
  map.set(k, list);
}

import { createHash } from 'node:crypto';
import { ListWatch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError } from '../cluster/api-errors.js';
import { InformerWatch, clientNodeWatchTransport } from '../cluster/informer-watch.js';
import { apiVersionOf, kubeConfigGet, listError, qualifiedName, type ApiGet, type ListedResource } from '../cluster/list-pages.js';
import { retryDelay, type RetryPolicy } from '../cluster/live-source.js';
import { ResourceSync } from '../cluster/sync-status.js';
import { slimNamespace, slimWorkload } from './slim.js';

const r = (resource: string, group: string, kind: string, namespaced = true): ListedResource => ({ resource, group, version: 'v1', kind, namespaced });

/** The workload kinds the scan watches, controllers first. */
export const SCANNED_RESOURCES: readonly ListedResource[] = [
  r('deployments', 'apps', 'Deployment'),
  r('statefulsets', 'apps', 'StatefulSet'),
  r('daemonsets', 'apps', 'DaemonSet'),
  r('cronjobs', 'batch', 'CronJob'),
  r('replicationcontrollers', '', 'ReplicationController'),
  r('replicasets', 'apps', 'ReplicaSet'),
  r('jobs', 'batch', 'Job'),
  r('pods', '', 'Pod'),
];
export const NAMESPACES = r('namespaces', '', 'Namespace', false);

const PAGE_SIZE = 500;

export interface ScanInformerOptions {
  kubeConfig: KubeConfig;
  /** Each watch is re-opened after this long (as the cluster view's). */
  watchTimeoutSeconds: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  /** An object of a namespace was added, changed or deleted; namespace '' for a Namespace object itself. */
  onChange(kind: string, namespace: string, name: string): void;
  /** Every informer has listed once (called once). */
  onSynced(): void;
}

interface Informed {
  resource: ListedResource;
  informer: ListWatch<KubernetesObject>;
  watch: InformerWatch<KubernetesObject>;
  sync: ResourceSync;
  restartTimer: NodeJS.Timeout | undefined;
}

/** What the scan would see of an object, whatever its resourceVersion. */
export function digestOf(obj: KubernetesObject): string {
  const meta = obj?.metadata ? { ...obj.metadata, resourceVersion: undefined } : undefined;
  return createHash('sha1').update(JSON.stringify({ ...obj, metadata: meta })).digest('base64');
}

const pathOf = (res: ListedResource): string => `${res.group ? `/apis/${res.group}` : '/api'}/${res.version}/${res.resource}`;

/**
 * Informers (list + watch, cluster-wide) on the workload kinds and on Namespaces, for the background scan.
 * Objects are slimmed as they arrive (slim.ts). An informer that fails is restarted with backoff while its
 * cache keeps answering; lookups never wait.
 */
export class ScanInformers {
  private readonly all: Informed[];
  private readonly get: ApiGet;
  private stopped = false;
  private synced = false;

  constructor(private readonly options: ScanInformerOptions) {
    this.get = kubeConfigGet(options.kubeConfig, options.requestTimeoutMs);
    this.all = [...SCANNED_RESOURCES, NAMESPACES].map((res) => this.inform(res));
  }

  start(): void {
    this.options.logger.info({ resources: this.all.map((i) => i.resource.resource) }, 'report scan: listing and watching workloads and namespaces');
    for (const i of this.all) this.launch(i);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const i of this.all) {
      clearTimeout(i.restartTimer);
      i.watch.close();
    }
    await Promise.all(this.all.map((i) => i.informer.stop()));
  }

  listed(): boolean {
    return this.all.every((i) => i.sync.listed);
  }

  /** Resources whose list or watch fails now, with the API server's reason. */
  failing(): string[] {
    return this.all.flatMap((i) => (i.sync.failing ? [`${i.resource.resource}: ${i.sync.failing.message}`] : []));
  }

  namespaces(): readonly KubernetesObject[] {
    return this.informed(NAMESPACES).informer.list();
  }

  /** The cached workloads of one namespace, kind by kind in SCANNED_RESOURCES order. */
  workloads(namespace: string): KubernetesObject[] {
    return this.all.filter((i) => i.resource !== NAMESPACES).flatMap((i) => i.informer.list(namespace));
  }

  /** Namespaces that hold at least one cached workload. */
  workloadNamespaces(): Set<string> {
    const out = new Set<string>();
    for (const i of this.all) {
      if (i.resource === NAMESPACES) continue;
      for (const obj of i.informer.list()) if (obj.metadata?.namespace) out.add(obj.metadata.namespace);
    }
    return out;
  }

  private informed(res: ListedResource): Informed {
    return this.all.find((i) => i.resource === res)!;
  }

  private inform(res: ListedResource): Informed {
    const { options } = this;
    const sync = new ResourceSync(res.kind);
    const apiVersion = apiVersionOf(res);
    const slim = res === NAMESPACES ? slimNamespace : (obj: KubernetesObject) => slimWorkload(obj, apiVersion, res.kind);
    const watch = new InformerWatch<KubernetesObject>({
      transport: clientNodeWatchTransport(options.kubeConfig),
      slim,
      timeoutSeconds: options.watchTimeoutSeconds,
      requestTimeoutMs: options.requestTimeoutMs,
      minWatchMs: 1000,
      onWatchRequested: () => {
        if (sync.listed) return;
        sync.markListed();
        options.logger.info({ resource: res.resource, objects: informer.list().length }, 'report scan listed');
        if (!this.synced && this.listed()) {
          this.synced = true;
          options.onSynced();
        }
      },
      onStreamOpen: () => {
        if (!sync.failing) return;
        sync.markHealthy();
        options.logger.info({ resource: res.resource }, 'report scan watch re-established');
      },
    });
    const informer = new ListWatch<KubernetesObject>(pathOf(res), watch, () => this.listAll(res, slim), false);
    const informed: Informed = { resource: res, informer, watch, sync, restartTimer: undefined };
    // Most updates only touch what the slim copy drops (a Pod's status, a Deployment's replica counts): those are
    // no change for the scan. A digest of the slim copy without its resourceVersion tells them apart.
    const digests = new Map<string, string>();
    const keyOf = (obj: KubernetesObject) => `${obj?.metadata?.namespace ?? ''}/${obj?.metadata?.name ?? ''}`;
    const notify = (obj: KubernetesObject) => options.onChange(res.kind, obj?.metadata?.namespace ?? '', obj?.metadata?.name ?? '');
    informer.on('add', (obj) => {
      digests.set(keyOf(obj), digestOf(obj));
      notify(obj);
    });
    informer.on('update', (obj) => {
      const digest = digestOf(obj);
      if (digests.get(keyOf(obj)) === digest) return;
      digests.set(keyOf(obj), digest);
      notify(obj);
    });
    informer.on('delete', (obj) => {
      digests.delete(keyOf(obj));
      notify(obj);
    });
    informer.on('error', (err: unknown) => this.failed(informed, err));
    return informed;
  }

  /** One cluster-wide list, page by page, slimmed as it comes. */
  private async listAll(res: ListedResource, slim: (o: KubernetesObject) => KubernetesObject): Promise<KubernetesListObject<KubernetesObject>> {
    const items: KubernetesObject[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (continueToken) query.set('continue', continueToken);
      const answer = await this.get(`${pathOf(res)}?${query}`);
      if (answer.status !== 200) throw listError(res, { allNamespaces: true }, answer.status, answer.body);
      const page = JSON.parse(answer.body) as { items?: unknown; metadata?: { resourceVersion?: string; continue?: string } };
      for (const item of Array.isArray(page.items) ? (page.items as KubernetesObject[]) : []) items.push(slim(item));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken && !this.stopped);
    return { metadata: { resourceVersion }, items };
  }

  private launch(i: Informed): void {
    if (this.stopped) return;
    i.informer.start().catch((err: unknown) => this.failed(i, err));
  }

  private failed(i: Informed, err: unknown): void {
    if (this.stopped) return;
    // describeApiError's RBAC hint names the cluster view's resources; say what the scan needs instead.
    const message = describeApiError(err).replace(/ \(RBAC: needs [^)]*\)$/, ` (RBAC: needs list, watch on ${qualifiedName(i.resource)})`);
    i.sync.markFailed(message);
    const attempts = i.sync.failing?.attempts ?? 1;
    if (i.restartTimer !== undefined) return;
    const delayMs = retryDelay(attempts, this.options.retry);
    i.restartTimer = setTimeout(() => {
      i.restartTimer = undefined;
      this.launch(i);
    }, delayMs);
    i.restartTimer.unref();
    const fields = { resource: i.resource.resource, error: message, attempts, retryInMs: delayMs };
    if (attempts === 1) this.options.logger.warn(fields, 'report scan list/watch failed');
    else this.options.logger.debug(fields, 'report scan list/watch failed again');
  }
}

import { createHash } from 'node:crypto';
import { ListWatch } from '@kubernetes/client-node';
import type {
  KubernetesListObject,
  KubernetesObject,
  V1Node,
  V1PersistentVolumeClaim,
  V1Service,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError } from './api-errors.js';
import { InformerWatch, type WatchTransport } from './informer-watch.js';
import { ResourceSync, overallState, type SyncFailure } from './sync-status.js';
import { computeVersions } from './versions.js';
import {
  found,
  notFound,
  type ClusterVersions,
  type ClusterView,
  type ClusterViewSource,
  type ClusterViewState,
  type Lookup,
} from './view.js';

/** One resource the view lists and watches cluster-wide. */
export interface ResourceFeed<T extends KubernetesObject> {
  /** Watch path, e.g. /api/v1/services. */
  path: string;
  /** One page of the cluster-wide list; `continueToken` is the previous page's metadata.continue. */
  listPage(continueToken: string | undefined): Promise<KubernetesListObject<T>>;
  /** What of each object the cache keeps. */
  slim(obj: T): T;
  /** Opens watch streams for this resource. */
  transport: WatchTransport;
}

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

export interface LiveSourceDeps {
  pvcs: ResourceFeed<V1PersistentVolumeClaim>;
  services: ResourceFeed<V1Service>;
  nodes: ResourceFeed<V1Node>;
  /** gitVersion from the API server's /version. */
  apiServerVersion(): Promise<string>;
  fallbackKubernetesVersion: string;
  watchTimeoutSeconds: number;
  requestTimeoutMs: number;
  /** See InformerWatchOptions.minWatchMs. */
  minWatchMs: number;
  syncTimeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  /** Called by stop(): abort list and /version requests still waiting for an answer. */
  abortRequests?: () => void;
}

/** Per-resource detail behind state(), for /readyz bodies, logs and tests. */
export interface ResourceStatus {
  kind: string;
  listed: boolean;
  objects: number;
  failing: SyncFailure | undefined;
}

/** Delay before retry number `attempt` (1-based): doubling from initialMs up to maxMs, with ±20% jitter. */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The resources whose changes the view reports (onChange). */
export type ClusterChangeKind = 'Service' | 'PersistentVolumeClaim' | 'Node';
/** namespace is '' for a Node. */
export type ClusterChangeListener = (kind: ClusterChangeKind, namespace: string, name: string) => void;

/** What the view reads of an object, to tell a change from an update it does not see (a resourceVersion, a status the cache drops). */
const contentOf = (obj: KubernetesObject): string =>
  createHash('sha1')
    .update(JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } }))
    .digest('base64');
const kubeletOf = (node: V1Node): string => node.status?.nodeInfo?.kubeletVersion ?? '';

interface Informed<T extends KubernetesObject> {
  informer: ListWatch<T>;
  watch: InformerWatch<T>;
  sync: ResourceSync;
  restartTimer: NodeJS.Timeout | undefined;
}

const DEFAULT_NAMESPACE = 'default';

function lookupIn<T extends KubernetesObject>(r: Informed<T>, namespace: string, name: string): Lookup<T> {
  const ns = namespace || DEFAULT_NAMESPACE;
  // The informer fills its cache from a whole list at once, so a hit is never from a partial listing.
  const value = r.informer.get(name, ns);
  if (value) return found(value);
  return notFound(r.sync.missReason(`${r.sync.kind} '${name}' in namespace '${ns}'`));
}

/**
 * The informer-backed ClusterView with its lifecycle. Lookups read the informers' caches and never wait;
 * informers that fail are restarted with backoff while the cache keeps answering, marked stale in reasons.
 */
export class LiveClusterViewSource implements ClusterViewSource {
  readonly view: ClusterView;
  private readonly pvcs: Informed<V1PersistentVolumeClaim>;
  private readonly services: Informed<V1Service>;
  private readonly nodes: Informed<V1Node>;
  private readonly all: readonly Informed<KubernetesObject>[];
  private readonly log: Logger;

  private readonly kubelets = new Map<string, string>();
  private apiServer: string | undefined;
  private versionAttempted = false;
  private versionsMemo: ClusterVersions | undefined;
  private versionTimer: NodeJS.Timeout | undefined;

  private starting: Promise<void> | undefined;
  private stopped = false;
  private lastState: ClusterViewState = 'syncing';
  private lastMinKubelet: string | undefined;
  private onFirstSync: (() => void) | undefined;
  private readonly listeners = new Set<ClusterChangeListener>();
  /** What tellChanges keeps of each resource while anyone listens: filled from the cache by the first listener. */
  private readonly seen: Array<{ fill(): void; clear(): void }> = [];

  constructor(private readonly deps: LiveSourceDeps) {
    this.log = deps.logger;
    this.pvcs = this.inform('PersistentVolumeClaim', deps.pvcs, contentOf);
    this.services = this.inform('Service', deps.services, contentOf);
    this.nodes = this.inform('Node', deps.nodes, kubeletOf);
    this.all = [this.pvcs, this.services, this.nodes] as unknown as Informed<KubernetesObject>[];
    this.trackKubelets();

    const { pvcs, services } = this;
    const versions = (): ClusterVersions => this.versions();
    this.view = {
      getPersistentVolumeClaim: (namespace, name) => lookupIn(pvcs, namespace, name),
      getService: (namespace, name) => lookupIn(services, namespace, name),
      listServices: (namespace) => {
        const ns = namespace || DEFAULT_NAMESPACE;
        if (!services.sync.listed) return notFound(services.sync.cannotTell(`which Services namespace '${ns}' has`));
        return found([...services.informer.list(ns)]);
      },
      versions,
    };
  }

  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.versionTimer);
    this.deps.abortRequests?.();
    for (const r of this.all) {
      clearTimeout(r.restartTimer);
      r.watch.close();
    }
    await Promise.all(this.all.map((r) => r.informer.stop()));
    this.onFirstSync?.();
    this.log.info('cluster view stopped');
  }

  /**
   * Calls `listener` after each change to what the view answers: a Service or PVC added, deleted, or changed in
   * what the cache keeps of it; a Node added, deleted, or with another kubelet version. Updates the cache does not
   * see (a status it drops) are no change. The objects of a resource's first list are not told one by one while
   * the view is still syncing (nothing has been answered from it yet); once it serves without them (degraded, or
   * start() gave up waiting), they are. Returns the function that unsubscribes.
   */
  onChange(listener: ClusterChangeListener): () => void {
    if (this.listeners.size === 0) for (const s of this.seen) s.fill();
    this.listeners.add(listener);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) for (const s of this.seen) s.clear();
    };
  }

  state(): ClusterViewState {
    return overallState(this.all.map((r) => r.sync));
  }

  status(): ResourceStatus[] {
    return this.all.map((r) => ({
      kind: r.sync.kind,
      listed: r.sync.listed,
      objects: r.informer.list().length,
      failing: r.sync.failing,
    }));
  }

  versions(): ClusterVersions {
    if (!this.versionsMemo) {
      this.versionsMemo = computeVersions({
        kubelets: this.nodes.sync.listed ? this.kubelets : undefined,
        apiServer: this.apiServer,
        fallback: this.deps.fallbackKubernetesVersion,
      });
      if (this.versionsMemo.minKubelet !== this.lastMinKubelet) {
        this.lastMinKubelet = this.versionsMemo.minKubelet;
        this.log.info({ minKubelet: this.versionsMemo.minKubelet, source: this.versionsMemo.source }, 'cluster versions');
      }
    }
    return this.versionsMemo;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    this.log.info('cluster view starting: listing and watching persistentvolumeclaims, services, nodes');
    const synced = new Promise<void>((resolve) => (this.onFirstSync = resolve));
    for (const r of this.all) this.launch(r);
    void this.readApiServerVersion(1);

    let timer: NodeJS.Timeout | undefined;
    // Not unref'd: whoever awaits start() must get an answer even if nothing else keeps the process alive.
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.deps.syncTimeoutMs);
    });
    const gaveUp = await Promise.race([synced.then(() => false), timedOut]);
    clearTimeout(timer);
    if (gaveUp && !this.stopped) {
      this.log.warn(
        { state: this.state(), resources: this.status(), afterMs: this.deps.syncTimeoutMs },
        'cluster view not synced in time; serving lookups from what it has (unknown where not listed)',
      );
    }
  }

  private inform<T extends KubernetesObject>(kind: ClusterChangeKind, feed: ResourceFeed<T>, read: (obj: T) => string): Informed<T> {
    const sync = new ResourceSync(kind);
    const watch = new InformerWatch<T>({
      transport: feed.transport,
      slim: feed.slim,
      timeoutSeconds: this.deps.watchTimeoutSeconds,
      requestTimeoutMs: this.deps.requestTimeoutMs,
      minWatchMs: this.deps.minWatchMs,
      onWatchRequested: () => {
        if (sync.listed) return;
        sync.markListed();
        this.log.info({ resource: kind, objects: informer.list().length }, 'cluster view listed');
        if (kind === 'Node') this.versionsMemo = undefined;
        this.changed();
      },
      onStreamOpen: () => {
        if (!sync.failing) return;
        sync.markHealthy();
        this.log.info({ resource: kind }, 'cluster view watch re-established');
        this.changed();
      },
    });
    const informer: ListWatch<T> = new ListWatch<T>(feed.path, watch, () => this.listAll(feed), false);
    const informed: Informed<T> = { informer, watch, sync, restartTimer: undefined };
    informer.on('error', (err: unknown) => this.failed(informed, err));
    this.tellChanges(kind, informed, read);
    return informed;
  }

  /**
   * While anyone listens, keeps what the view reads of each object (`read`; from the cache when the first listener
   * comes, a webhook without listeners keeps nothing) and tells listeners when it changes.
   */
  private tellChanges<T extends KubernetesObject>(kind: ClusterChangeKind, r: Informed<T>, read: (obj: T) => string): void {
    const seen = new Map<string, string>();
    const keyOf = (obj: T): string => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    this.seen.push({
      fill: () => {
        for (const obj of r.informer.list()) seen.set(keyOf(obj), read(obj));
      },
      clear: () => seen.clear(),
    });
    const tell = (obj: T): void => {
      if (!r.sync.listed && this.state() === 'syncing') return;
      const namespace = obj.metadata?.namespace ?? '';
      const name = obj.metadata?.name ?? '';
      for (const listener of this.listeners) {
        try {
          listener(kind, namespace, name);
        } catch (err) {
          this.log.warn({ resource: kind, namespace, name, error: (err as Error).message }, 'cluster view change listener failed');
        }
      }
    };
    const upsert = (obj: T): void => {
      if (this.stopped || this.listeners.size === 0) return;
      const key = keyOf(obj);
      const content = read(obj);
      if (seen.get(key) === content) return;
      seen.set(key, content);
      tell(obj);
    };
    r.informer.on('add', upsert);
    r.informer.on('update', upsert);
    r.informer.on('delete', (obj) => {
      if (this.stopped || this.listeners.size === 0) return;
      seen.delete(keyOf(obj));
      tell(obj);
    });
  }

  /** The whole cluster-wide list, page by page, slimmed as it comes so a big cluster's list never sits whole in memory. */
  private async listAll<T extends KubernetesObject>(feed: ResourceFeed<T>): Promise<KubernetesListObject<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await feed.listPage(continueToken);
      for (const item of page.items) items.push(feed.slim(item));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken && !this.stopped);
    return { metadata: { resourceVersion }, items };
  }

  private launch<T extends KubernetesObject>(r: Informed<T>): void {
    if (this.stopped) return;
    r.informer.start().catch((err: unknown) => this.failed(r, err));
  }

  private failed<T extends KubernetesObject>(r: Informed<T>, err: unknown): void {
    if (this.stopped) return;
    const message = describeApiError(err);
    r.sync.markFailed(message);
    const attempts = r.sync.failing?.attempts ?? 1;
    if (r.restartTimer === undefined) {
      const delayMs = retryDelay(attempts, this.deps.retry);
      r.restartTimer = setTimeout(() => {
        r.restartTimer = undefined;
        this.launch(r);
      }, delayMs);
      r.restartTimer.unref();
      const fields = { resource: r.sync.kind, error: message, attempts, retryInMs: delayMs };
      if (attempts === 1) this.log.warn(fields, 'cluster view list/watch failed');
      else this.log.debug(fields, 'cluster view list/watch failed again');
    }
    this.changed();
  }

  private trackKubelets(): void {
    const set = (node: V1Node): void => {
      const name = node.metadata?.name ?? '';
      const version = node.status?.nodeInfo?.kubeletVersion ?? '';
      if (this.kubelets.get(name) === version) return;
      this.kubelets.set(name, version);
      this.versionsMemo = undefined;
    };
    this.nodes.informer.on('add', set);
    this.nodes.informer.on('update', set);
    this.nodes.informer.on('delete', (node) => {
      if (this.kubelets.delete(node.metadata?.name ?? '')) this.versionsMemo = undefined;
    });
  }

  private async readApiServerVersion(attempt: number): Promise<void> {
    if (this.stopped) return;
    try {
      const version = await this.deps.apiServerVersion();
      if (this.stopped) return;
      this.apiServer = version;
      this.versionsMemo = undefined;
      this.log.info({ apiServer: version }, 'API server version');
    } catch (err) {
      if (this.stopped) return;
      const delayMs = retryDelay(attempt, this.deps.retry);
      this.log.warn({ error: describeApiError(err), attempt, retryInMs: delayMs }, 'could not read the API server /version');
      this.versionTimer = setTimeout(() => void this.readApiServerVersion(attempt + 1), delayMs);
      this.versionTimer.unref();
    } finally {
      if (!this.versionAttempted) {
        this.versionAttempted = true;
        this.changed();
      }
    }
  }

  /** After any status change: log state transitions and release start() once everything listed. */
  private changed(): void {
    if (this.stopped) return;
    const state = this.state();
    if (state !== this.lastState) {
      const failing = this.status().filter((s) => s.failing);
      const fields = { from: this.lastState, to: state, failing: failing.map((s) => `${s.kind}: ${s.failing?.message}`) };
      if (state === 'degraded') this.log.warn(fields, 'cluster view degraded');
      else this.log.info(fields, `cluster view ${state}`);
      this.lastState = state;
    }
    if (this.versionAttempted && this.all.every((r) => r.sync.listed)) this.onFirstSync?.();
  }
}

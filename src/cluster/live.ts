import { CoreV1Api, Observable, VersionApi } from '@kubernetes/client-node';
import type { ConfigurationOptions, KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { clientNodeWatchTransport } from './informer-watch.js';
import { LiveClusterViewSource, type RetryPolicy } from './live-source.js';
import { slimNode, slimPersistentVolumeClaim, slimService } from './slim.js';

export { LiveClusterViewSource } from './live-source.js';
export type { ResourceStatus } from './live-source.js';

export interface LiveClusterViewOptions {
  kubeConfig: KubeConfig;
  /** The configured kubernetesVersion: minKubelet while neither nodes nor the API server tell. */
  fallbackKubernetesVersion: string;
  /**
   * Each watch asks the API server to end it after this many seconds and is then re-opened from where it
   * stopped. A watch still open well past it is taken as a hung connection: the view turns degraded.
   * Default 60.
   */
  resyncSeconds?: number;
  /** start() resolves after the first full sync or after this long, whichever is first. Default 10000. */
  syncTimeoutMs?: number;
  /** Longest wait for one list page, /version, or the headers of a watch. Default 10000. */
  requestTimeoutMs?: number;
  /** Backoff between attempts of a failing list/watch or /version. Default 1 s doubling to 30 s. */
  retry?: RetryPolicy;
  logger?: Logger;
}

const PAGE_SIZE = 500;

/**
 * Runs a generated-client call (which has no timeout of its own) with a signal that aborts it after `ms` or
 * on `stopping`, and says so plainly instead of node-fetch's "The user aborted a request."
 */
async function within<T>(
  ms: number,
  stopping: AbortSignal,
  what: string,
  call: (options: ConfigurationOptions) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(ms);
  const signal = AbortSignal.any([timeout, stopping]);
  const options: ConfigurationOptions = {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
  try {
    return await call(options);
  } catch (err) {
    if (timeout.aborted) throw new Error(`${what}: no answer within ${ms} ms`);
    if (stopping.aborted) throw new Error(`${what}: cancelled, the cluster view is stopping`);
    throw err;
  }
}

function componentLogger(logger: Logger | undefined): Logger {
  const base = logger ?? pino({ enabled: false });
  return base.bindings().component ? base : base.child({ component: 'cluster-view' });
}

/**
 * The live ClusterView: client-node informers (list + watch, cluster-wide) on PersistentVolumeClaims,
 * Services and Nodes, and the API server's /version. Needs get/list/watch on those three (docs/rbac.md).
 * Throws (GracekeeperError) only on a kubeconfig without a cluster or a bad resyncSeconds; start() never
 * rejects, lookups never throw or wait.
 */
export function createLiveClusterView(options: LiveClusterViewOptions): LiveClusterViewSource {
  const { kubeConfig } = options;
  if (!kubeConfig.getCurrentCluster()) {
    throw new GracekeeperError(
      ErrorCode.ClusterUnavailable,
      `kubeconfig context '${kubeConfig.getCurrentContext()}' names no cluster; cannot start the live cluster view`,
      'kubeConfig',
    );
  }
  const resyncSeconds = options.resyncSeconds ?? 60;
  if (!Number.isInteger(resyncSeconds) || resyncSeconds < 1) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, `must be a whole number of seconds, at least 1 (got ${resyncSeconds})`, 'resyncSeconds');
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const version = kubeConfig.makeApiClient(VersionApi);
  const stopping = new AbortController();
  const ask = <T>(what: string, call: (o: ConfigurationOptions) => Promise<T>): Promise<T> =>
    within(requestTimeoutMs, stopping.signal, what, call);
  const page = (continueToken: string | undefined) => ({ limit: PAGE_SIZE, _continue: continueToken });

  return new LiveClusterViewSource({
    pvcs: {
      path: '/api/v1/persistentvolumeclaims',
      listPage: (c) => ask('list persistentvolumeclaims', (o) => core.listPersistentVolumeClaimForAllNamespaces(page(c), o)),
      slim: slimPersistentVolumeClaim,
      transport: clientNodeWatchTransport(kubeConfig),
    },
    services: {
      path: '/api/v1/services',
      listPage: (c) => ask('list services', (o) => core.listServiceForAllNamespaces(page(c), o)),
      slim: slimService,
      transport: clientNodeWatchTransport(kubeConfig),
    },
    nodes: {
      path: '/api/v1/nodes',
      listPage: (c) => ask('list nodes', (o) => core.listNode(page(c), o)),
      slim: slimNode,
      transport: clientNodeWatchTransport(kubeConfig),
    },
    apiServerVersion: async () => (await ask('GET /version', (o) => version.getCode({}, o))).gitVersion,
    fallbackKubernetesVersion: options.fallbackKubernetesVersion,
    watchTimeoutSeconds: resyncSeconds,
    requestTimeoutMs,
    minWatchMs: 1000,
    syncTimeoutMs: options.syncTimeoutMs ?? 10_000,
    retry: options.retry ?? { initialMs: 1000, maxMs: 30_000 },
    logger: componentLogger(options.logger),
    abortRequests: () => stopping.abort(),
  });
}

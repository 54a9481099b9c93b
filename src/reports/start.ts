import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { loadWebhookKubeConfig } from '../cluster/kubeconfig.js';
import type { ClusterChangeListener } from '../cluster/live-source.js';
import type { ClusterViewState } from '../cluster/view.js';
import type { ServerConfig } from '../config/server.js';
import { ErrorCode, GracekeeperError } from '../errors.js';
import type { Metrics } from '../server/metrics.js';
import { kubernetesReportApi } from './api.js';
import { REPORT_FORMATS, apiVersionOfFormat } from './format.js';
import { ScanInformers } from './informers.js';
import { LeaderElector } from './leader.js';
import { kubernetesLeaseApi } from './lease-api.js';
import { ReportScheduler, type NamespaceCounts, type ScanSettings } from './scheduler.js';
import { ReportWriter } from './writer.js';

export interface BackgroundReportsOptions {
  config: ServerConfig;
  /** Rules, policy, cluster view and namespace modes in force (read at each scan: reloads apply). */
  settings(): ScanSettings;
  viewState(): ClusterViewState;
  /** Subscribes to the live cluster view's changes (LiveClusterViewSource.onChange); returns the unsubscribe. */
  clusterChanges?(listener: ClusterChangeListener): () => void;
  metrics: Metrics;
  logger: Logger;
}

export interface BackgroundReports {
  start(): void;
  stop(): Promise<void>;
  /** The config was reloaded (policy, modes, exemptions): every namespace is rescanned once things are quiet. */
  settingsChanged(): void;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** As client-go's defaults for controllers: a Lease held 15 s, tried every 2 s (renewed well within). */
const LEASE_DURATION_MS = 15_000;
const LEASE_RETRY_MS = 2_000;

function loadKubeConfig(config: ServerConfig): KubeConfig {
  const kubeConfig = loadWebhookKubeConfig(new KubeConfig(), config.clusterView.kubeconfig);
  if (!kubeConfig.getCurrentCluster()) {
    throw new GracekeeperError(ErrorCode.ClusterUnavailable, `kubeconfig context '${kubeConfig.getCurrentContext()}' names no cluster`, 'clusterView.kubeconfig');
  }
  return kubeConfig;
}

/** Keeps the findings gauge equal to the last scan of each namespace. */
function findingsGauge(metrics: Metrics): (namespace: string, counts: NamespaceCounts | undefined) => void {
  const shown = new Map<string, Array<{ rule: string; action: string }>>();
  return (namespace, counts) => {
    for (const labels of shown.get(namespace) ?? []) metrics.reportFindings.remove({ namespace, ...labels });
    shown.delete(namespace);
    if (!counts) return;
    const now: Array<{ rule: string; action: string }> = [];
    for (const { rule, action, count } of counts.values()) {
      metrics.reportFindings.set({ namespace, rule, action }, count);
      now.push({ rule, action });
    }
    shown.set(namespace, now);
  };
}

/**
 * Feeds the live view's changes to the scheduler: a Service or PVC rescans its namespace (its workloads evaluated
 * again), a Node (the kubelet versions every fix depends on) everything; both after the usual debounce.
 */
export function followClusterView(
  subscribe: (listener: ClusterChangeListener) => () => void,
  scheduler: Pick<ReportScheduler, 'viewChanged' | 'changedEverywhere'>,
): () => void {
  return subscribe((kind, namespace) => {
    if (kind === 'Node') scheduler.changedEverywhere();
    else scheduler.viewChanged(namespace);
  });
}

/** One scan from start to stop: informers, scheduler and writer (made anew each time this replica leads). */
function createScan(options: BackgroundReportsOptions, kubeConfig: KubeConfig, logger: Logger): BackgroundReports {
  const { config, metrics } = options;
  const format = REPORT_FORMATS[config.reports.format];
  const stopping = new AbortController();
  const writer = new ReportWriter(kubernetesReportApi(kubeConfig, format, REQUEST_TIMEOUT_MS, stopping.signal), {
    onWrite(operation, namespace, error) {
      metrics.reportWrites.inc({ operation, result: error ? 'failure' : 'success' });
      if (error) logger.warn({ operation, namespace, error: error.message }, 'report write failed');
      else logger.debug({ operation, namespace }, 'report written');
    },
  });
  let scheduler: ReportScheduler | undefined;
  const informers = new ScanInformers({
    kubeConfig,
    watchTimeoutSeconds: config.clusterView.resyncSeconds || 60,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    retry: { initialMs: 1000, maxMs: 30_000 },
    logger,
    onChange: (kind, namespace, name) => scheduler?.changed(kind, namespace, name),
    onSynced: () => logger.info('report scan: workloads and namespaces listed'),
  });
  scheduler = new ReportScheduler({
    cache: informers,
    writer,
    settings: options.settings,
    viewState: options.viewState,
    format,
    maxResults: config.reports.maxResults,
    resyncMs: config.reports.resyncSeconds * 1000,
    debounceMs: config.reports.debounceSeconds * 1000,
    logger,
    onCounts: findingsGauge(metrics),
    onScan: (scan, _namespaces, _workloads, _written, error) => metrics.reportScans.inc({ scan, result: error ? 'failure' : 'success' }),
  });
  let unfollow: (() => void) | undefined;
  return {
    start() {
      logger.info(
        { format: `${apiVersionOfFormat(format)} ${format.kind}`, resyncSeconds: config.reports.resyncSeconds, debounceSeconds: config.reports.debounceSeconds },
        'background scan starting',
      );
      informers.start();
      if (options.clusterChanges && scheduler) unfollow = followClusterView(options.clusterChanges, scheduler);
      scheduler?.start();
    },
    settingsChanged() {
      scheduler?.changedEverywhere();
    },
    async stop() {
      unfollow?.();
      stopping.abort();
      await scheduler?.stop();
      await informers.stop();
      // Another replica reports from now on: no stale series here.
      metrics.reportFindings.reset();
      logger.info('background scan stopped');
    },
  };
}

/**
 * The background scan (reports.enabled): informers on workloads and Namespaces, the scheduler that evaluates
 * them with the webhook's engine, policy and live cluster view, and the writer that keeps one report per
 * namespace. With a Lease name and POD_NAMESPACE, only the replica holding the Lease scans (the others take over
 * within 15 s of it going away); otherwise every replica scans. Throws GracekeeperError only for a kubeconfig it
 * cannot load; API failures are logged and retried.
 */
export function createBackgroundReports(options: BackgroundReportsOptions): BackgroundReports {
  const { config, metrics } = options;
  const logger = options.logger.child({ component: 'reports' });
  const kubeConfig = loadKubeConfig(config);
  for (const operation of ['create', 'update', 'delete'] as const) {
    for (const result of ['success', 'failure'] as const) metrics.reportWrites.inc({ operation, result }, 0);
  }
  for (const scan of ['full', 'changes'] as const) {
    for (const result of ['success', 'failure'] as const) metrics.reportScans.inc({ scan, result }, 0);
  }
  const namespace = options.settings().modes.ownNamespace;
  const leaseName = config.reports.leaseName;
  if (!namespace || !leaseName) {
    logger.info({ leaseName: leaseName || null, podNamespace: namespace ?? null }, 'no report scan lease: this replica scans');
    return createScan(options, kubeConfig, logger);
  }

  let scan: BackgroundReports | undefined;
  let stopping: Promise<void> = Promise.resolve();
  const elector = new LeaderElector({
    api: kubernetesLeaseApi(kubeConfig, leaseName, namespace),
    name: leaseName,
    namespace,
    identity: `${hostname()}_${randomBytes(4).toString('hex')}`,
    leaseDurationMs: LEASE_DURATION_MS,
    retryMs: LEASE_RETRY_MS,
    logger,
    onStartedLeading() {
      const next = createScan(options, kubeConfig, logger);
      scan = next;
      // A scan of an earlier term must be gone before this one writes.
      void stopping.then(() => {
        if (scan === next) next.start();
      });
    },
    onStoppedLeading() {
      const previous = scan;
      scan = undefined;
      if (previous) stopping = stopping.then(() => previous.stop());
    },
  });
  return {
    start: () => elector.start(),
    settingsChanged: () => scan?.settingsChanged(),
    async stop() {
      await elector.stop();
      await stopping;
      await scan?.stop();
    },
  };
}

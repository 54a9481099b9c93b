import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterViewState } from '../cluster/view.js';
import type { ServerConfig } from '../config/server.js';
import { ErrorCode, GracekeeperError } from '../errors.js';
import type { Metrics } from '../server/metrics.js';
import { kubernetesReportApi } from './api.js';
import { REPORT_FORMATS, apiVersionOfFormat } from './format.js';
import { ScanInformers } from './informers.js';
import { ReportScheduler, type NamespaceCounts, type ScanSettings } from './scheduler.js';
import { ReportWriter } from './writer.js';

export interface BackgroundReportsOptions {
  config: ServerConfig;
  /** Rules, policy, cluster view and namespace modes in force (read at each scan: reloads apply). */
  settings(): ScanSettings;
  viewState(): ClusterViewState;
  metrics: Metrics;
  logger: Logger;
}

export interface BackgroundReports {
  start(): void;
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 30_000;

function loadKubeConfig(config: ServerConfig): KubeConfig {
  const kubeConfig = new KubeConfig();
  const file = config.clusterView.kubeconfig.split(delimiter).find(Boolean);
  try {
    if (file) kubeConfig.loadFromFile(file);
    else kubeConfig.loadFromCluster();
  } catch (e) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, `cannot load kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`, 'clusterView.kubeconfig');
  }
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
 * The background scan (reports.enabled): informers on workloads and Namespaces, the scheduler that evaluates
 * them with the webhook's engine, policy and live cluster view, and the writer that keeps one report per
 * namespace. Throws GracekeeperError only for a kubeconfig it cannot load; API failures are logged and retried.
 */
export function createBackgroundReports(options: BackgroundReportsOptions): BackgroundReports {
  const { config, metrics } = options;
  const logger = options.logger.child({ component: 'reports' });
  const format = REPORT_FORMATS[config.reports.format];
  const kubeConfig = loadKubeConfig(config);
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
  for (const operation of ['create', 'update', 'delete'] as const) {
    for (const result of ['success', 'failure'] as const) metrics.reportWrites.inc({ operation, result }, 0);
  }
  for (const scan of ['full', 'changes'] as const) {
    for (const result of ['success', 'failure'] as const) metrics.reportScans.inc({ scan, result }, 0);
  }
  return {
    start() {
      logger.info(
        { format: `${apiVersionOfFormat(format)} ${format.kind}`, resyncSeconds: config.reports.resyncSeconds, debounceSeconds: config.reports.debounceSeconds },
        'background scan starting',
      );
      informers.start();
      scheduler?.start();
    },
    async stop() {
      stopping.abort();
      await scheduler?.stop();
      await informers.stop();
      logger.info('background scan stopped');
    },
  };
}

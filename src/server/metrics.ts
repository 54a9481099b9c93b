import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterViewState } from '../cluster/view.js';
import type { Finding } from '../engine/types.js';

const VIEW_STATES: readonly ClusterViewState[] = ['disabled', 'syncing', 'synced', 'degraded'];

export type ReloadResult = 'success' | 'failure';

/** Every metric the webhook exports, on its own registry (never prom-client's global one). */
export interface Metrics {
  registry: Registry;
  requests: Counter<'endpoint' | 'mode' | 'result'>;
  duration: Histogram<'endpoint' | 'mode'>;
  findings: Counter<'rule' | 'action'>;
  patches: Counter;
  configReloads: Counter<'result'>;
  certificateReloads: Counter<'result'>;
  /** The background scan (reports.enabled): current findings, and report writes. */
  reportFindings: Gauge<'namespace' | 'rule' | 'action'>;
  reportWrites: Counter<'operation' | 'result'>;
  reportScans: Counter<'scan' | 'result'>;
}

export interface MetricsOptions {
  /** Read at scrape time. */
  clusterViewState: () => ClusterViewState;
  /** Process metrics (CPU, memory, event loop); off in tests that build many registries. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    requests: new Counter({
      name: 'gracekeeper_admission_requests_total',
      help: 'Admission reviews answered, by endpoint (mutate, validate), mode (enforce, audit, off; unknown for bad requests) and result (allowed, patched, denied, would_deny, would_patch, invalid, error).',
      labelNames: ['endpoint', 'mode', 'result'],
      registers,
    }),
    duration: new Histogram({
      name: 'gracekeeper_admission_duration_seconds',
      help: 'Time from request body received to response ready, by endpoint and mode.',
      labelNames: ['endpoint', 'mode'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    findings: new Counter({
      name: 'gracekeeper_findings_total',
      help: 'Findings reported by /validate, by rule and action (deny counts in audit mode too: what would have been denied).',
      labelNames: ['rule', 'action'],
      registers,
    }),
    patches: new Counter({
      name: 'gracekeeper_patches_total',
      help: 'Pods patched by /mutate in enforce mode.',
      registers,
    }),
    configReloads: new Counter({
      name: 'gracekeeper_config_reloads_total',
      help: 'Config file reloads, by result; a failed reload keeps the previous config.',
      labelNames: ['result'],
      registers,
    }),
    certificateReloads: new Counter({
      name: 'gracekeeper_certificate_reloads_total',
      help: 'Serving certificate reloads, by result; a failed reload keeps the previous certificate.',
      labelNames: ['result'],
      registers,
    }),
    reportFindings: new Gauge({
      name: 'gracekeeper_report_findings',
      help: 'Findings of the background scan now, by namespace, rule and action (deny, warn; error for workloads the rules cannot read, rule workload-unreadable). Only with reports.enabled; a namespace that opts out loses its series.',
      labelNames: ['namespace', 'rule', 'action'],
      registers,
    }),
    reportWrites: new Counter({
      name: 'gracekeeper_report_writes_total',
      help: 'Reports written by the background scan, by operation (create, update, delete) and result (success, failure); unchanged reports are not written.',
      labelNames: ['operation', 'result'],
      registers,
    }),
    reportScans: new Counter({
      name: 'gracekeeper_report_scans_total',
      help: 'Background scans, by scan (full: every namespace, at each resync; changes: the namespaces that changed) and result (success, failure: the API server refused or was away; retried).',
      labelNames: ['scan', 'result'],
      registers,
    }),
  };
  new Gauge({
    name: 'gracekeeper_cluster_view_state',
    help: 'State of the live cluster view: 1 for the current state (disabled, syncing, synced, degraded), 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const current = options.clusterViewState();
      for (const state of VIEW_STATES) this.set({ state }, state === current ? 1 : 0);
    },
  });
  // Zero series exist from the start, so dashboards and alerts see "no failures" rather than "no data".
  for (const result of ['success', 'failure'] as const) {
    metrics.configReloads.inc({ result }, 0);
    metrics.certificateReloads.inc({ result }, 0);
  }
  return metrics;
}

export function countFindings(metrics: Metrics, findings: readonly Finding[]): void {
  for (const f of findings) metrics.findings.inc({ rule: f.rule, action: f.action });
}

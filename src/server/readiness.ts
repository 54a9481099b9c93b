import type { ClusterViewState } from '../cluster/view.js';

export interface ReadinessSources {
  certificateLoaded(): boolean;
  clusterViewState(): ClusterViewState;
  /** 'ok', or why the last config reload was refused (the previous config is still in force). */
  configStatus(): string;
}

export interface ReadinessReport {
  ready: boolean;
  /** Why not ready, empty when ready. */
  reasons: string[];
  checks: { certificate: 'loaded' | 'missing'; config: string; clusterView: ClusterViewState; shuttingDown: boolean };
}

/**
 * Ready: a certificate is loaded, the cluster view is not still making its first sync, and no shutdown has
 * begun. A `degraded` view stays ready: lookups answer "unknown" (rules warn instead of deny), so the webhook
 * still answers correctly, and taking every replica out of the Service over an API server hiccup would turn a
 * partial outage into a total one under failurePolicy Fail. It is reported here and in metrics instead.
 */
export class Readiness {
  private shuttingDown = false;

  constructor(private readonly sources: ReadinessSources) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  report(): ReadinessReport {
    const certificate = this.sources.certificateLoaded() ? 'loaded' : 'missing';
    const clusterView = this.sources.clusterViewState();
    const reasons: string[] = [];
    if (this.shuttingDown) reasons.push('shutting down');
    if (certificate === 'missing') reasons.push('no serving certificate loaded');
    if (clusterView === 'syncing') reasons.push('cluster view still syncing');
    return {
      ready: reasons.length === 0,
      reasons,
      checks: { certificate, config: this.sources.configStatus(), clusterView, shuttingDown: this.shuttingDown },
    };
  }
}

import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ModeSettings } from '../admission/mode.js';
import { retryDelay } from '../cluster/live-source.js';
import type { ClusterView, ClusterViewState } from '../cluster/view.js';
import type { Rule, RuleContext } from '../engine/types.js';
import { UNREADABLE_POLICY, buildReport, type ReportObject, type ScannedWorkload } from './builder.js';
import type { ReportFormat } from './format.js';
import { namespaceMode } from './namespaces.js';
import { reportedItself, scanWorkload } from './scan.js';
import type { ReportWriter, SyncResult } from './writer.js';

/** What the scheduler reads of the informers (informers.ts; a map in unit tests). */
export interface WorkloadCache {
  listed(): boolean;
  namespaces(): readonly KubernetesObject[];
  workloads(namespace: string): readonly KubernetesObject[];
  workloadNamespaces(): Set<string>;
}

export interface ScanSettings {
  rules: readonly Rule[];
  context: RuleContext;
  modes: ModeSettings;
}

/** Current findings of one namespace, by rule and action (undefined: none, the namespace is not scanned). */
export type NamespaceCounts = Map<string, { rule: string; action: string; count: number }>;

export interface SchedulerOptions {
  cache: WorkloadCache;
  writer: Pick<ReportWriter, 'sync' | 'refresh'>;
  /** Read at each scan: a config reload applies at the next one. */
  settings(): ScanSettings;
  /** The live cluster view's state: the first scan waits until it is no longer syncing. */
  viewState(): ClusterViewState;
  format: ReportFormat;
  maxResults: number;
  resyncMs: number;
  debounceMs: number;
  logger: Logger;
  onCounts?(namespace: string, counts: NamespaceCounts | undefined): void;
  onScan?(kind: 'full' | 'changes', namespaces: number, workloads: number, written: SyncResult | undefined, error?: Error): void;
  /** Give the event loop back after this much evaluation (admission requests share it). Default 20 ms. */
  sliceMs?: number;
  /** A failed scan is retried after this long, doubling (±20%) on each failure in a row up to resyncMs. Default 2 s. */
  retryBaseMs?: number;
}

interface Memo {
  resourceVersion: string;
  scanned: ScannedWorkload | null;
}

/** A change is scanned at the latest this many debounce intervals after it, however busy its namespace. */
const MAX_WAIT = 4;
const RETRY_BASE_MS = 2_000;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Drives the background scan: a full scan once the informers and the cluster view have synced and then every
 * `resyncMs` (every workload re-evaluated, so any change to the cluster view or the policy shows up within one
 * resync; every report compared, orphans removed); and, once a namespace, its workloads or what the view answers
 * there (viewChanged: its Services, PVCs; changedEverywhere: Nodes, a full scan) have been quiet for
 * `debounceMs` (at the latest MAX_WAIT times that after the first change), a scan of the namespaces that changed (unchanged workloads answered from a memo keyed by
 * resourceVersion). One scan runs at a time; evaluation yields to the event loop every `sliceMs`. A scan that
 * fails or has a write refused (the API server away, refusing, or not ready yet: a new CRD's storage answers 429
 * for a while; a 409 from another writer) is retried with backoff, from `retryBaseMs` doubling up to `resyncMs`;
 * what it was to do (a full scan, or the namespaces of a changes scan) waits for the retry, together with what
 * comes due meanwhile.
 */
export class ReportScheduler {
  private readonly dirty = new Set<string>();
  /** Dirty namespaces whose workloads must be evaluated again, not answered from the memo (the view changed). */
  private readonly reevaluate = new Set<string>();
  /** A full scan once things are quiet (something every namespace reads changed). */
  private everywhere = false;
  private fullWanted = true;
  private running: Promise<void> | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private firstPending: number | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readyTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Scans failed in a row (0 after a success): the next retry waits longer each time. */
  private failures = 0;
  private memo = new Map<string, Memo>();
  private memoContext: RuleContext | undefined;
  private started = false;
  private stopped = false;
  private readonly counted = new Set<string>();

  constructor(private readonly options: SchedulerOptions) {}

  /** Begins scanning as soon as everything has synced. */
  start(): void {
    this.started = true;
    this.whenReady();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.resyncTimer);
    clearTimeout(this.readyTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** A workload or Namespace changed: rescan its namespace once things are quiet. */
  changed(kind: string, namespace: string, name: string): void {
    if (this.stopped) return;
    this.dirty.add(kind === 'Namespace' ? name : namespace);
    this.soon();
  }

  /**
   * What the cluster view answers in a namespace changed (a Service, a PVC): re-evaluate its workloads, unchanged
   * ones too, once things are quiet.
   */
  viewChanged(namespace: string): void {
    if (this.stopped) return;
    this.dirty.add(namespace);
    this.reevaluate.add(namespace);
    this.soon();
  }

  /** Something every namespace reads changed (a Node's kubelet version): a full scan once things are quiet. */
  changedEverywhere(): void {
    if (this.stopped) return;
    this.everywhere = true;
    this.soon();
  }

  /** Schedules the scan of what changed; nothing before the first (full) scan, which takes it all. */
  private soon(): void {
    if (!this.started || !this.ready()) return;
    // Quiet for debounceMs, but no later than MAX_WAIT debounces after the first change not yet scanned, so a
    // namespace that never stops changing (a rollout, a busy CronJob) is still rescanned.
    const now = Date.now();
    this.firstPending ??= now;
    const due = Math.min(now + this.options.debounceMs, this.firstPending + MAX_WAIT * this.options.debounceMs);
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.kick();
    }, Math.max(0, due - now));
    this.debounceTimer.unref();
  }

  /** Resolves when the scans asked for so far are done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private ready(): boolean {
    return this.options.cache.listed() && this.options.viewState() !== 'syncing';
  }

  private whenReady(): void {
    if (this.stopped) return;
    if (this.ready()) {
      this.kick();
      return;
    }
    this.readyTimer = setTimeout(() => this.whenReady(), 500);
    this.readyTimer.unref();
  }

  private kick(): void {
    // While a retry is pending, work that comes due (a resync, a debounced change) waits for it: no busy loop.
    if (this.stopped || this.running || this.retryTimer) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      // A resync that came due during the scan, or changes whose debounce ran out meanwhile.
      if (!this.stopped && (this.fullWanted || ((this.dirty.size > 0 || this.everywhere) && this.debounceTimer === undefined))) this.kick();
    });
  }

  private scheduleResync(): void {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => {
      this.fullWanted = true;
      this.kick();
    }, this.options.resyncMs);
    this.resyncTimer.unref();
  }

  private async loop(): Promise<void> {
    // This scan takes every change so far.
    this.firstPending = undefined;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    const full = this.fullWanted || this.everywhere;
    const namespaces = full ? undefined : new Set(this.dirty);
    const reevaluate = new Set(this.reevaluate);
    this.fullWanted = false;
    this.everywhere = false;
    this.dirty.clear();
    this.reevaluate.clear();
    if (full) this.scheduleResync();
    const kind = full ? 'full' : 'changes';
    let written: SyncResult | undefined;
    let counts = { namespaces: 0, workloads: 0 };
    let error: Error;
    try {
      if (full) await this.options.writer.refresh();
      const { desired, workloads } = await this.scan(namespaces, reevaluate);
      counts = { namespaces: desired.size, workloads };
      if (this.stopped) return;
      written = await this.options.writer.sync(desired, full);
      const level = written.created + written.updated + written.deleted + written.failed > 0 ? 'info' : 'debug';
      this.options.logger[level]({ scan: kind, ...counts, ...written }, 'reports scanned');
      if (written.failed === 0) {
        this.failures = 0;
        this.options.onScan?.(kind, counts.namespaces, counts.workloads, written);
        return;
      }
      // Writes the API server refused or never answered (each logged as 'report write failed'; a 409 makes the
      // writer re-read first): the scan did not do its job, retry it as a failed one.
      error = new Error(`${written.failed} report write${written.failed === 1 ? '' : 's'} failed`);
    } catch (err) {
      error = err as Error;
    }
    if (this.stopped) return; // requests aborted by shutdown
    // The API server is away, refuses (RBAC, no CRD) or is not ready yet: nothing of this scan is lost, and it is
    // tried again after a backoff (at once would hammer an API server that is already failing).
    if (full) this.fullWanted = true;
    else for (const namespace of namespaces ?? []) this.dirty.add(namespace);
    for (const namespace of reevaluate) this.reevaluate.add(namespace);
    const retryInMs = this.retryLater();
    this.options.logger.warn({ error: error.message, scan: kind, failures: this.failures, retryInMs }, `report scan failed; retrying in ${(retryInMs / 1000).toFixed(1)} s`);
    this.options.onScan?.(kind, counts.namespaces, counts.workloads, written, error);
  }

  /** Counts a failure and schedules the retry; returns its delay. */
  private retryLater(): number {
    this.failures++;
    const { resyncMs } = this.options;
    const delayMs = Math.min(resyncMs, retryDelay(this.failures, { initialMs: this.options.retryBaseMs ?? RETRY_BASE_MS, maxMs: resyncMs }));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delayMs);
    this.retryTimer.unref();
    return delayMs;
  }

  /** Builds the wanted report (or null: none) of each namespace; all of them when `only` is undefined. */
  private async scan(only: Set<string> | undefined, reevaluate: ReadonlySet<string>): Promise<{ desired: Map<string, ReportObject | null>; workloads: number }> {
    const { cache, format, maxResults } = this.options;
    const settings = this.options.settings();
    if (!only || settings.context !== this.memoContext) {
      // A full resync re-evaluates everything (the cluster view may have changed); so does a new config.
      this.memo = new Map();
      this.memoContext = settings.context;
    }
    // The cached workloads here outlive what the live view holds (its Services change under them). A view object
    // of its own per scan keeps any cache keyed by object identity (the engine's traffic cache was one, keyed by
    // pod spec and view) from answering one scan with another's Services.
    const context: RuleContext = { ...settings.context, cluster: scanView(settings.context.cluster) };
    const labels = new Map<string, Record<string, string>>();
    // A namespace being deleted takes its report with it: no more writes there (creates would be refused).
    for (const ns of cache.namespaces()) if (ns.metadata?.name && !ns.metadata.deletionTimestamp) labels.set(ns.metadata.name, ns.metadata.labels ?? {});
    const targets = only ?? new Set([...labels.keys(), ...cache.workloadNamespaces(), ...this.counted]);

    const desired = new Map<string, ReportObject | null>();
    const seen = new Map<string, Memo>();
    const sliceMs = this.options.sliceMs ?? 20;
    let sliceStart = Date.now();
    let total = 0;
    for (const namespace of [...targets].sort()) {
      const mode = labels.has(namespace) ? namespaceMode(namespace, labels.get(namespace), settings.modes) : 'off';
      const objects = mode === 'off' ? [] : cache.workloads(namespace).filter(reportedItself);
      const scanned: ScannedWorkload[] = [];
      for (const obj of objects) {
        if (Date.now() - sliceStart >= sliceMs) {
          await yieldToEventLoop();
          if (this.stopped) return { desired, workloads: total };
          sliceStart = Date.now();
        }
        const key = `${obj.kind}/${namespace}/${obj.metadata?.name ?? ''}`;
        const version = obj.metadata?.resourceVersion ?? '';
        const memo = reevaluate.has(namespace) ? undefined : this.memo.get(key);
        const result = memo && version && memo.resourceVersion === version ? memo.scanned : scanWorkload(obj, namespace, settings.rules, context);
        seen.set(key, { resourceVersion: version, scanned: result });
        if (result) scanned.push(result);
      }
      total += scanned.length;
      if (mode === 'off' || scanned.length === 0) {
        desired.set(namespace, null);
        this.count(namespace, undefined);
        continue;
      }
      const report = buildReport(namespace, scanned, { format, mode, maxResults });
      desired.set(namespace, report);
      this.count(namespace, countFindings(scanned));
    }
    // Keep the memo of namespaces not scanned this time; replace the rest.
    for (const key of this.memo.keys()) if (targets.has(key.split('/')[1] ?? '')) this.memo.delete(key);
    for (const [key, m] of seen) this.memo.set(key, m);
    return { desired, workloads: total };
  }

  private count(namespace: string, counts: NamespaceCounts | undefined): void {
    if (counts) this.counted.add(namespace);
    else if (!this.counted.delete(namespace)) return;
    this.options.onCounts?.(namespace, counts);
  }
}

/** A new object answering as `view` does. */
function scanView(view: ClusterView): ClusterView {
  return {
    getPersistentVolumeClaim: (namespace, name) => view.getPersistentVolumeClaim(namespace, name),
    getService: (namespace, name) => view.getService(namespace, name),
    listServices: (namespace) => view.listServices(namespace),
    versions: () => view.versions(),
  };
}

/** Findings by rule and action; unreadable workloads count as rule workload-unreadable, action error. */
export function countFindings(scanned: readonly ScannedWorkload[]): NamespaceCounts {
  const counts: NamespaceCounts = new Map();
  const add = (rule: string, action: string) => {
    const key = `${rule}\u0000${action}`;
    const c = counts.get(key);
    if (c) c.count++;
    else counts.set(key, { rule, action, count: 1 });
  };
  for (const w of scanned) {
    if ('unreadable' in w.outcome) add(UNREADABLE_POLICY, 'error');
    else for (const f of w.outcome.findings) add(f.rule, f.action);
  }
  return counts;
}

import type { ReportObject } from './builder.js';
import { sameContent, withTimestamps, type StoredReport } from './content.js';
import { REPORT_NAME } from './format.js';

/** An API answer other than success, with its HTTP status (404, 409, 403 ...). */
export class ReportApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ReportApiError';
  }
}

/** The calls the writer makes: the API server in production (api.ts), a map in unit tests. */
export interface ReportApi {
  /** Every report the webhook wrote (its labels), in all namespaces. */
  list(): Promise<StoredReport[]>;
  create(report: ReportObject): Promise<StoredReport>;
  /** Replace; `report.metadata.resourceVersion` makes it conditional (409 when someone wrote in between). */
  replace(report: ReportObject): Promise<StoredReport>;
  delete(namespace: string, name: string): Promise<void>;
}

export type WriteOperation = 'create' | 'update' | 'delete';

export interface WriteEvents {
  /** After each call to the API; error set when it failed. */
  onWrite?(operation: WriteOperation, namespace: string, error?: Error): void;
}

export interface SyncResult {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  failed: number;
}

const namespaceOf = (r: StoredReport): string => r.metadata?.namespace ?? '';

/**
 * Keeps one report per namespace equal to what the scan wants, writing only differences: it remembers each
 * report as last read or written, and compares content (sameContent) before any write. The memory is refreshed
 * from a list at start and on every full resync, and after a write the API server refused (409: another replica
 * or a user wrote in between; 404: gone), so it never drifts for long.
 */
export class ReportWriter {
  private readonly known = new Map<string, StoredReport>();
  private stale = true;

  constructor(
    private readonly api: ReportApi,
    private readonly events: WriteEvents = {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Re-read every report of ours from the API server. */
  async refresh(): Promise<void> {
    const listed = await this.api.list();
    this.known.clear();
    for (const r of listed) if (r.metadata?.name === REPORT_NAME) this.known.set(namespaceOf(r), r);
    this.stale = false;
  }

  /** Namespaces that have a report of ours, as last known. */
  namespaces(): string[] {
    return [...this.known.keys()];
  }

  /**
   * Writes `desired` (namespace -> report, or null for "no report"). With `complete`, `desired` is the whole
   * truth: reports of namespaces it does not name are deleted (opted out, or nothing left to scan).
   */
  async sync(desired: ReadonlyMap<string, ReportObject | null>, complete: boolean): Promise<SyncResult> {
    if (this.stale) await this.refresh();
    const result: SyncResult = { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 };
    const targets = new Map(desired);
    if (complete) for (const ns of this.known.keys()) if (!targets.has(ns)) targets.set(ns, null);
    for (const [namespace, next] of targets) {
      // Comparing a big report serialises two of them: give the event loop back between namespaces.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const current = this.known.get(namespace);
      if (next === null) {
        if (!current) continue;
        await this.write('delete', namespace, result, async () => {
          await this.api.delete(namespace, REPORT_NAME);
          this.known.delete(namespace);
        });
        continue;
      }
      if (current && sameContent(current, next)) {
        result.unchanged++;
        continue;
      }
      const stamped = withTimestamps(next, current, this.now());
      if (current) {
        const body: ReportObject = { ...stamped, metadata: { ...stamped.metadata, resourceVersion: current.metadata?.resourceVersion } };
        await this.write('update', namespace, result, async () => {
          this.known.set(namespace, await this.api.replace(body));
        });
      } else {
        await this.write('create', namespace, result, async () => {
          this.known.set(namespace, await this.api.create(stamped));
        });
      }
    }
    return result;
  }

  private async write(operation: WriteOperation, namespace: string, result: SyncResult, call: () => Promise<void>): Promise<void> {
    try {
      await call();
      result[operation === 'create' ? 'created' : operation === 'update' ? 'updated' : 'deleted']++;
      this.events.onWrite?.(operation, namespace);
    } catch (err) {
      if (operation === 'delete' && err instanceof ReportApiError && err.status === 404) {
        // Already gone (the namespace was deleted with it): that is what we wanted.
        this.known.delete(namespace);
        result.deleted++;
        this.events.onWrite?.(operation, namespace);
        return;
      }
      result.failed++;
      // What we remember may be wrong now (someone else wrote, or it is gone): read everything again next time.
      if (err instanceof ReportApiError && (err.status === 409 || err.status === 404)) this.stale = true;
      this.events.onWrite?.(operation, namespace, err as Error);
    }
  }
}

import type { ClusterViewState } from './view.js';

/** What went wrong with one resource's list or watch, since when. */
export interface SyncFailure {
  message: string;
  since: Date;
  /** Failed attempts in a row. */
  attempts: number;
}

/**
 * Sync state of one informer: whether its cache has been filled by a list at least once, and whether the
 * API server is failing it now. A cache that listed once keeps answering while it fails, as stale.
 */
export class ResourceSync {
  private listedOnce = false;
  private failure: SyncFailure | undefined;

  constructor(
    /** Kind as users read it: "Service", "PersistentVolumeClaim", "Node". */
    readonly kind: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get listed(): boolean {
    return this.listedOnce;
  }

  get failing(): SyncFailure | undefined {
    return this.failure;
  }

  /** The cache now holds a full list (the informer is about to watch from it). */
  markListed(): void {
    this.listedOnce = true;
  }

  /** A watch stream is open: the API server answers again. */
  markHealthy(): void {
    this.failure = undefined;
  }

  markFailed(message: string): void {
    this.failure = this.failure
      ? { message, since: this.failure.since, attempts: this.failure.attempts + 1 }
      : { message, since: this.now(), attempts: 1 };
  }

  /** Why a question cannot be answered before the first list, e.g. "which Services namespace 'x' has". */
  cannotTell(question: string): string {
    const f = this.failure;
    return f
      ? `cannot tell ${question}: the ${this.kind} cache could not be loaded (API server failing since ${f.since.toISOString()}: ${f.message})`
      : `cannot tell ${question}: the ${this.kind} cache has not synced yet`;
  }

  /**
   * Why a name is not in the cache. "cannot tell" when the cache never listed; otherwise the object is
   * absent from what was listed, and the reason says whether that listing may be stale.
   */
  missReason(what: string): string {
    const f = this.failure;
    if (!this.listedOnce) return this.cannotTell(`whether ${what} exists`);
    return f
      ? `${what} is not in the ${this.kind} cache, which may be stale (API server failing since ${f.since.toISOString()}: ${f.message})`
      : `${what} does not exist (the ${this.kind} cache is in sync)`;
  }
}

/** One failing informer makes the view degraded; until every one has listed it is syncing. */
export function overallState(resources: readonly ResourceSync[]): ClusterViewState {
  if (resources.some((r) => r.failing)) return 'degraded';
  if (resources.some((r) => !r.listed)) return 'syncing';
  return 'synced';
}

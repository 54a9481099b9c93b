import { KubeConfig, Watch } from '@kubernetes/client-node';

type WatchArgs = Parameters<Watch['watch']>;
type WatchCallback = WatchArgs[2];
type WatchDone = WatchArgs[3];

/** What opens watch streams: client-node's Watch in production, a fake in unit tests. */
export interface WatchTransport {
  watch(...args: WatchArgs): Promise<AbortController>;
  /** Drops the connection of the latest watch, even one still waiting for response headers. */
  cut(): void;
}

/**
 * client-node's Watch gives no handle on its request until the response headers arrive, so a hung API
 * server would hold it forever. Each watch gets a fresh agent from applyToFetchOptions: keep the latest and
 * destroy it to cut the connection.
 */
export function clientNodeWatchTransport(kubeConfig: KubeConfig): WatchTransport {
  let agent: unknown;
  const config = new Proxy(kubeConfig, {
    get(target, prop) {
      if (prop === 'applyToFetchOptions') {
        return async (opts: Parameters<KubeConfig['applyToFetchOptions']>[0]) => {
          const init = await target.applyToFetchOptions(opts);
          agent = init.agent;
          return init;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const watch = new Watch(config);
  return {
    watch: (...args) => watch.watch(...args),
    cut: () => {
      const a = agent as { destroy?: () => void } | undefined;
      if (typeof a?.destroy === 'function') a.destroy();
    },
  };
}

export interface InformerWatchOptions<T> {
  transport: WatchTransport;
  /** Applied to every object an event carries, before the informer caches it. */
  slim: (obj: T) => T;
  /** Asked of the API server per watch; it ends the stream then and the informer re-watches. */
  timeoutSeconds: number;
  /** Longest wait for the response headers of a watch. */
  requestTimeoutMs: number;
  /**
   * A watch that ends cleanly sooner than this after it was requested is passed on only once this much time
   * has gone by, so an API server that closes watches at once is not asked again in a tight loop.
   */
  minWatchMs: number;
  /** The informer is about to watch: its cache holds a complete list. */
  onWatchRequested(): void;
  /** The API server accepted a watch (HTTP 200). */
  onStreamOpen(): void;
}

const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * The Watch a client-node ListWatch (informer) uses, with what the plain Watch lacks: objects slimmed
 * before they are cached, bookmarks, a server-side timeout, and a watchdog that fails a watch whose headers
 * do not come or whose stream outlives its timeout (a hung API server), so the informer reports an error
 * instead of waiting forever.
 */
export class InformerWatch<T> extends Watch {
  private closed = false;
  private readonly open = new Set<() => void>();
  private readonly deferred = new Set<NodeJS.Timeout>();

  constructor(private readonly options: InformerWatchOptions<T>) {
    // ListWatch wants a Watch; the transport makes the requests, so this config is never used.
    super(new KubeConfig());
  }

  override async watch(path: string, query: WatchArgs[1], callback: WatchCallback, done: WatchDone): Promise<AbortController> {
    if (this.closed) return new AbortController();
    const opts = this.options;
    opts.onWatchRequested();

    const requestedAt = Date.now();
    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const end = (cut: boolean): boolean => {
      if (finished) return false;
      finished = true;
      for (const t of timers) clearTimeout(t);
      this.open.delete(close);
      if (cut) opts.transport.cut();
      return true;
    };
    const finish = (err: unknown): void => {
      if (!end(false)) return;
      const wait = err ? 0 : requestedAt + opts.minWatchMs - Date.now();
      if (wait <= 0) {
        done(err);
        return;
      }
      const timer = setTimeout(() => {
        this.deferred.delete(timer);
        done(err);
      }, wait);
      timer.unref();
      this.deferred.add(timer);
    };
    const expire = (why: string): void => {
      if (end(true)) done(new Error(why));
    };
    const close = (): void => {
      end(true);
    };
    this.open.add(close);

    // The API server ends the stream after timeoutSeconds; allow for the headers and some slack on top.
    const timeoutMs = opts.timeoutSeconds * 1000;
    const streamLimitMs = opts.requestTimeoutMs + timeoutMs + Math.max(opts.requestTimeoutMs, timeoutMs / 2);
    const headersTimer = setTimeout(() => expire(`watch ${path}: no answer within ${opts.requestTimeoutMs} ms`), opts.requestTimeoutMs);
    const streamTimer = setTimeout(
      () => expire(`watch ${path}: stream still open ${streamLimitMs} ms after it was opened, past its ${opts.timeoutSeconds} s timeout`),
      streamLimitMs,
    );
    timers.push(headersTimer, streamTimer);
    for (const t of timers) t.unref();

    const params = { ...query, allowWatchBookmarks: true, timeoutSeconds: opts.timeoutSeconds };
    let controller: AbortController;
    try {
      controller = await opts.transport.watch(
        path,
        params,
        (phase, obj, raw) => {
          if (finished) return;
          callback(phase, OBJECT_EVENTS.has(phase) ? opts.slim(obj as T) : obj, raw);
        },
        (err) => finish(err ?? null),
      );
    } catch (err) {
      finish(err);
      return new AbortController();
    }
    clearTimeout(headersTimer);
    if (finished) {
      controller.abort();
    } else {
      opts.onStreamOpen();
    }
    return controller;
  }

  /** Stops the current watch without reporting it, and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const stop of [...this.open]) stop();
    for (const timer of this.deferred) clearTimeout(timer);
    this.deferred.clear();
  }
}

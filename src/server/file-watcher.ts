import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export interface FileWatcherOptions {
  paths: readonly string[];
  /** Poll interval: the fallback when directory events are missed (network file systems, some mounts). */
  intervalMs: number;
  /** Contents of every path, in order, whenever any of them differs from the last contents seen. */
  onChange(contents: Buffer[]): void;
  /** A path could not be read; reported once per distinct message until the files are readable again. */
  onReadError(error: Error): void;
  /** Contents the caller already loaded, so they are not reported as a change. */
  initial?: readonly Buffer[];
  debounceMs?: number;
}

/**
 * Re-reads files when their directory changes or every interval, and reports only real byte changes.
 * Watching the directory rather than the file follows Kubernetes volume updates: ConfigMap and Secret mounts
 * swap a `..data` symlink, which replaces the file instead of writing to it.
 */
export class FileWatcher {
  private last: readonly Buffer[] | undefined;
  private lastError: string | undefined;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly options: FileWatcherOptions) {
    this.last = options.initial;
  }

  start(): void {
    for (const dir of new Set(this.options.paths.map((p) => dirname(p)))) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.schedule());
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        // The interval still polls.
      }
    }
    this.timer = setInterval(() => this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    clearInterval(this.timer);
    clearTimeout(this.pending);
  }

  /** Reads the files now; true when a change was reported. */
  check(): boolean {
    let contents: Buffer[];
    try {
      contents = this.options.paths.map((p) => readFileSync(p));
    } catch (e) {
      const error = e as Error;
      if (error.message !== this.lastError) {
        this.lastError = error.message;
        this.options.onReadError(error);
      }
      return false;
    }
    this.lastError = undefined;
    const same = this.last !== undefined && this.last.length === contents.length && this.last.every((b, i) => b.equals(contents[i]!));
    if (same) return false;
    this.last = contents;
    this.options.onChange(contents);
    return true;
  }

  /** Several events arrive for one symlink swap; read once they settle. */
  private schedule(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.check(), this.options.debounceMs ?? 100);
    this.pending.unref();
  }
}

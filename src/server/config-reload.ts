import type { ServerConfig } from '../config/server.js';
import { FileWatcher } from './file-watcher.js';

export interface ConfigReloaderOptions {
  path: string;
  intervalMs: number;
  /** Bytes of the file the running config was built from. */
  initial: Buffer;
  /** Reads and validates the file with every override applied; throws a GracekeeperError naming the field. */
  load(): ServerConfig;
  /** Puts a valid config in force. */
  apply(config: ServerConfig): void;
  onReload(result: 'success' | 'failure', error?: Error): void;
}

/**
 * Reloads the config file when it changes (the chart mounts a ConfigMap: a symlink swap in its directory).
 * A file that does not validate is refused and the config in force stays; requests never see a half-applied
 * config because the new one is swapped in as a whole between requests.
 */
export function configReloader(options: ConfigReloaderOptions): FileWatcher {
  return new FileWatcher({
    paths: [options.path],
    intervalMs: options.intervalMs,
    initial: [options.initial],
    onChange() {
      let config: ServerConfig;
      try {
        config = options.load();
      } catch (e) {
        options.onReload('failure', e as Error);
        return;
      }
      options.apply(config);
      options.onReload('success');
    },
    onReadError(error) {
      options.onReload('failure', error);
    },
  });
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Readiness } from './readiness.js';

export interface DrainOptions {
  readiness: Readiness;
  /** Keep serving this long after not-ready, while endpoints and the API server stop sending to this Pod. */
  delayMs: number;
  /** Close listeners (fastify close: stop accepting, close idle keep-alive, finish in-flight) and the rest. */
  close: Array<() => Promise<unknown>>;
  logger: Logger;
}

/**
 * The drain the graceful-shutdown rules ask of every app, applied to ourselves: not ready at once, keep
 * answering in-flight and arriving requests for the delay (Endpoints take seconds to drop a terminating Pod,
 * and the API server keeps using open connections), then close everything. The caller bounds the total time.
 */
export async function drainAndClose(options: DrainOptions): Promise<void> {
  const { readiness, delayMs, logger } = options;
  readiness.markShuttingDown();
  logger.info({ delayMs }, 'shutting down: not ready, still serving during the delay');
  if (delayMs > 0) await sleep(delayMs);
  logger.info('closing listeners');
  const results = await Promise.allSettled(options.close.map((close) => close()));
  for (const r of results) if (r.status === 'rejected') logger.error({ err: r.reason }, 'error while closing');
  logger.info('closed');
}

import { destination as pinoDestination, pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/server.js';

/**
 * Keys that could carry object contents, env values or secrets if someone ever logs them by mistake. Review
 * log lines carry identifiers only; this is the second line of defence.
 */
export const REDACTED_KEYS: ReadonlySet<string> = new Set(['object', 'oldObject', 'env', 'value', 'password', 'token', 'secret', 'authorization', 'cookie']);
export const CENSOR = '[redacted]';
/** Nesting levels searched for those keys, the logged object's own keys first: enough for `req.headers.authorization`. */
const REDACT_LEVELS = 4;

/** A copy to censor; an error stays an error (same class, message and stack) for pino's and fastify's serialisers. */
function shallowCopy(value: object): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>;
  if (!(value instanceof Error)) return { ...value };
  const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(value)) copy[key] = (value as unknown as Record<string, unknown>)[key];
  return copy;
}

/**
 * `value` with every REDACTED_KEYS entry in its first `depth` levels replaced by CENSOR; `value` itself (no copy)
 * when it holds none.
 */
function censored(value: object, depth: number): object {
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    let next = child;
    if (REDACTED_KEYS.has(key)) next = CENSOR;
    else if (depth > 1 && typeof child === 'object' && child !== null) next = censored(child, depth - 1);
    if (next === child) continue;
    out ??= shallowCopy(value);
    out[key] = next;
  }
  return out ?? value;
}

/**
 * The censoring applied to each logged object (pino's `formatters.log`) and to child bindings. A walk of the few
 * keys a log call carries: pino's path-based `redact` cost ~11 µs per line, about two thirds of writing one.
 */
export function censorLogObject<T>(obj: T): T {
  return typeof obj === 'object' && obj !== null ? (censored(obj, REDACT_LEVELS) as T) : obj;
}

/**
 * JSON lines on stdout (or `destination`, for tests). Written synchronously: lines stay in order and none is
 * lost when the process exits right after a shutdown (one short line per review costs microseconds).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'gracekeeper' }, formatters: { log: censorLogObject } };
  const logger = pino(options, destination ?? pinoDestination({ dest: 1, sync: true }));
  // pino applies no formatter to a child's bindings; children inherit this method, so theirs are censored too.
  type Child = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const child = logger.child as unknown as Child;
  (logger as unknown as { child: Child }).child = function censoredChild(bindings, childOptions) {
    return child.call(this, censorLogObject(bindings), childOptions);
  };
  return logger;
}

export type { Logger };

import { destination as pinoDestination, pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/server.js';

/**
 * Paths that could carry object contents, env values or secrets if someone ever logs them by mistake. Review
 * log lines carry identifiers only; this is the second line of defence.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'object',
  'oldObject',
  '*.object',
  '*.oldObject',
  'env',
  '*.env',
  'value',
  '*.value',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

/**
 * JSON lines on stdout (or `destination`, for tests). Written synchronously: lines stay in order and none is
 * lost when the process exits right after a shutdown (one short line per review costs microseconds).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'gracekeeper' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return pino(options, destination ?? pinoDestination({ dest: 1, sync: true }));
}

export type { Logger };

/** Throughput: autocannon with keep-alive connections, each sending its next request as soon as it has an answer. */
import autocannon from 'autocannon';

export interface ClosedLoopOptions {
  port: number;
  path: string;
  body: Buffer;
  /** Every good answer contains this (the review uid). */
  expect: string;
  connections: number;
  /** Run for this long, or (when given) until this many requests have been answered. */
  durationSeconds: number;
  amount?: number;
  timeoutSeconds: number;
}

export interface ClosedLoopResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Connection errors, timeouts, non-2xx answers and answers without the uid. */
  errors: number;
  p50: number;
  p99: number;
}

export async function closedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const result = await autocannon({
    url: `https://127.0.0.1:${o.port}${o.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: o.body,
    connections: o.connections,
    duration: o.durationSeconds,
    ...(o.amount ? { amount: o.amount } : {}),
    timeout: o.timeoutSeconds,
    verifyBody: (body) => body.includes(o.expect),
  });
  const requests = result.requests.total;
  return {
    requests,
    seconds: result.duration,
    requestsPerSecond: requests / result.duration,
    // autocannon counts timeouts among its errors.
    errors: result.errors + result.non2xx + result.mismatches,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

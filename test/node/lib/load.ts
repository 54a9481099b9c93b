/**
 * Load generators for the rollout scenarios. Both send GET / at a fixed rate (open loop: a slow answer
 * does not slow the sender down, as real users do not wait for each other), bounded in count and time:
 * they stop by themselves after `maxRequests` or `maxMs`, whichever comes first, and on stop().
 * Targets are only the node's 198.18.0.0/15 addresses.
 *
 * - ServiceLoad: through the Service's ClusterIP (kube-proxy's iptables rules), one new connection per
 *   request, like a client without keep-alive (hey --disable-keepalive).
 * - IngressLoad (ingress.ts): routes to Pod IPs itself, as an ingress controller does.
 */
import { request } from 'node:http';
import type { Agent } from 'node:http';

export interface LoadCounts {
  sent: number;
  ok: number;
  failed: number;
  /** Failure reasons and how often each was seen (e.g. "500 database: EOF", "ECONNREFUSED"). */
  reasons: Record<string, number>;
  /** When each failure happened (ms since the epoch, when the request was sent) and why; the first 500. */
  failures: { at: number; reason: string }[];
}

export interface LoadOptions {
  ratePerSecond: number;
  maxRequests: number;
  maxMs: number;
  timeoutMs?: number;
  /** At most this many requests in flight; a tick that finds the limit reached counts as a failure. */
  maxInFlight?: number;
}

const TEST_RANGE = /^198\.(18|19)\./;

export function assertTestAddress(host: string): void {
  if (!TEST_RANGE.test(host)) throw new Error(`load target ${host} is outside 198.18.0.0/15`);
}

/** One GET; resolves to undefined on 200, else a reason. */
export function get(host: string, port: number, agent: Agent | false, timeoutMs: number): Promise<string | undefined> {
  assertTestAddress(host);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: string | undefined): void => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = request({ host, port, path: '/', agent, timeout: timeoutMs, headers: agent === false ? { connection: 'close' } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done(res.statusCode === 200 ? undefined : `${res.statusCode} ${body.trim().replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR').slice(0, 60)}`));
      res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    req.end();
  });
}

/** The fixed-rate loop both generators share: `send` picks the target and performs one request. */
export class RateLoop {
  readonly counts: LoadCounts = { sent: 0, ok: 0, failed: 0, reasons: {}, failures: [] };
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly started = Date.now();
  private stopped = false;

  constructor(
    private readonly opts: LoadOptions,
    private readonly send: () => Promise<string | undefined>,
  ) {}

  start(): void {
    const interval = 1000 / this.opts.ratePerSecond;
    this.timer = setInterval(() => this.tick(), interval);
  }

  fail(reason: string, at = Date.now()): void {
    if (this.counts.failures.length < 500) this.counts.failures.push({ at, reason });
    this.counts.failed++;
    this.counts.reasons[reason] = (this.counts.reasons[reason] ?? 0) + 1;
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.counts.sent >= this.opts.maxRequests || Date.now() - this.started > this.opts.maxMs) {
      void this.stop();
      return;
    }
    this.counts.sent++;
    if (this.inFlight >= (this.opts.maxInFlight ?? 100)) {
      this.fail('client: too many requests in flight');
      return;
    }
    this.inFlight++;
    const at = Date.now();
    const p = this.send()
      .then(
        (reason) => (reason === undefined ? void this.counts.ok++ : this.fail(reason, at)),
        (err: Error) => this.fail(err.message, at),
      )
      .finally(() => {
        this.inFlight--;
        this.pending.delete(p);
      });
    this.pending.add(p);
  }

  /** Stop sending and wait for the requests in flight. */
  async stop(): Promise<LoadCounts> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.pending]);
    return this.counts;
  }
}

/** Steady load through a Service's ClusterIP. */
export function serviceLoad(clusterIp: string, port: number, opts: LoadOptions): RateLoop {
  assertTestAddress(clusterIp);
  const loop = new RateLoop(opts, () => get(clusterIp, port, false, opts.timeoutMs ?? 5000));
  loop.start();
  return loop;
}

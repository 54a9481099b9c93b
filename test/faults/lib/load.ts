/**
 * A steady HTTPS load on loopback that checks every answer, for the fault scripts. Each worker sends one
 * review at a time (closed loop), or paces itself to a share of `ratePerSecond`. Every request carries its
 * own uid; an answer counts as completed only when it is a 200 AdmissionReview echoing that uid and equal to
 * the expected answer. Failures are classified so a script can tell a refused connection (the listener is
 * gone: the API server would try another endpoint) from a request that was accepted and then lost.
 */
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { sleep } from '../../cluster/processes.js';
import { checkAnswer, type ReviewCase } from './reviews.js';

/** `refused`: the connection never got a TLS session (nothing listening, or reset before the handshake). */
export type Outcome = 'completed' | 'wrong' | 'status' | 'refused' | 'reset' | 'timeout' | 'other';

export interface LoadOptions {
  /** https://127.0.0.1:<port> */
  baseUrl: string;
  ca: string | string[];
  cases: readonly ReviewCase[];
  concurrency: number;
  /** Total requests per second across workers; absent: as fast as answers come (closed loop). */
  ratePerSecond?: number;
  /** Workers with an odd index open a new TLS connection per request (a new handshake each time). */
  freshConnections?: boolean;
  requestTimeoutMs?: number;
}

export interface Sample {
  at: number;
  ms: number;
  outcome: Outcome;
  detail?: string;
  /** SHA-256 fingerprint of the certificate the server presented on this request's connection. */
  certificate?: string;
  /** True when this request opened its connection (a handshake), false on a reused keep-alive connection. */
  handshake?: boolean;
}

export interface LoadCounts {
  /** Requests the server took: everything except refused connections. */
  accepted: number;
  completed: number;
  /** Accepted but not completed with a correct answer. */
  failed: number;
  refused: number;
  byOutcome: Record<Outcome, number>;
  latencyMs: { p50: number; p99: number; max: number };
  /** First few failure details, for the report. */
  failures: string[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export class Load {
  readonly samples: Sample[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private sequence = 0;
  private readonly keepAlive: Agent;

  constructor(private readonly options: LoadOptions) {
    this.keepAlive = new Agent({ keepAlive: true, maxSockets: options.concurrency, ca: options.ca });
  }

  start(): void {
    this.running = true;
    const perWorkerGapMs = this.options.ratePerSecond ? (1000 * this.options.concurrency) / this.options.ratePerSecond : 0;
    for (let i = 0; i < this.options.concurrency; i++) {
      const fresh = !!this.options.freshConnections && i % 2 === 1;
      this.workers.push(this.worker(fresh, perWorkerGapMs));
    }
  }

  async stop(): Promise<LoadCounts> {
    this.running = false;
    await Promise.all(this.workers);
    this.keepAlive.destroy();
    return this.counts();
  }

  /** Counts over samples taken since `from` (epoch ms), or all. */
  counts(from = 0, to = Infinity): LoadCounts {
    const byOutcome: Record<Outcome, number> = { completed: 0, wrong: 0, status: 0, refused: 0, reset: 0, timeout: 0, other: 0 };
    const latencies: number[] = [];
    const failures: string[] = [];
    for (const s of this.samples) {
      if (s.at < from || s.at >= to) continue;
      byOutcome[s.outcome]++;
      if (s.outcome === 'completed') latencies.push(s.ms);
      else if (s.outcome !== 'refused' && failures.length < 5) failures.push(`${s.outcome}: ${s.detail ?? ''}`);
    }
    latencies.sort((a, b) => a - b);
    const total = Object.values(byOutcome).reduce((a, b) => a + b, 0);
    return {
      accepted: total - byOutcome.refused,
      completed: byOutcome.completed,
      failed: total - byOutcome.refused - byOutcome.completed,
      refused: byOutcome.refused,
      byOutcome,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
      failures,
    };
  }

  private async worker(fresh: boolean, gapMs: number): Promise<void> {
    while (this.running) {
      const started = Date.now();
      const reviewCase = this.options.cases[this.sequence % this.options.cases.length]!;
      this.samples.push(await this.send(reviewCase, `fault-${process.pid}-${++this.sequence}`, fresh));
      if (gapMs > 0) await sleep(Math.max(0, gapMs - (Date.now() - started)));
    }
  }

  private send(reviewCase: ReviewCase, uid: string, fresh: boolean): Promise<Sample> {
    const body = reviewCase.body(uid);
    const started = performance.now();
    const at = Date.now();
    return new Promise((resolve) => {
      let certificate: string | undefined;
      let handshake = false;
      // The server accepted this request's connection once a TLS session exists on it. A connection reset before
      // that never reached the webhook (e.g. it sat in the kernel's accept queue when the listener closed).
      let established = false;
      const done = (outcome: Outcome, detail?: string) =>
        resolve({ at, ms: performance.now() - started, outcome, ...(detail ? { detail } : {}), ...(certificate ? { certificate, handshake } : {}) });
      const req = request(
        `${this.options.baseUrl}${reviewCase.path}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          ...(fresh ? { agent: false, ca: this.options.ca } : { agent: this.keepAlive }),
          timeout: this.options.requestTimeoutMs ?? 5000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => done('reset', e.message));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) return done('status', `${res.statusCode} ${text.slice(0, 120)}`);
            const problem = checkAnswer(reviewCase, uid, text);
            return problem ? done('wrong', problem) : done('completed');
          });
        },
      );
      req.on('socket', (socket) => {
        const tls = socket as TLSSocket;
        const record = () => {
          established = true;
          certificate = tls.getPeerCertificate()?.fingerprint256;
        };
        if (tls.encrypted && !tls.connecting) record();
        else {
          handshake = true;
          tls.once('secureConnect', record);
        }
      });
      req.on('timeout', () => {
        req.destroy(new Error('timeout'));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED' || !established) return done('refused', `${e.code ?? e.message} before the TLS handshake`);
        if (e.message === 'timeout') return done('timeout', `no answer within ${this.options.requestTimeoutMs ?? 5000} ms`);
        if (e.code === 'ECONNRESET' || e.code === 'EPIPE' || /socket hang up/.test(e.message)) return done('reset', e.code ?? e.message);
        return done('other', `${e.code ?? ''} ${e.message}`);
      });
      req.end(body);
    });
  }
}

export function formatCounts(c: LoadCounts): string {
  const outcomes = Object.entries(c.byOutcome)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  return `accepted=${c.accepted} completed=${c.completed} failed=${c.failed} refused=${c.refused} (${outcomes}) latency p50=${c.latencyMs.p50.toFixed(1)}ms p99=${c.latencyMs.p99.toFixed(1)}ms max=${c.latencyMs.max.toFixed(1)}ms`;
}

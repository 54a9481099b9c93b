/**
 * Fixed-rate ("open-loop") load: request i is due at start + i/rate whatever happened to the earlier ones, and
 * its latency is measured from that due time, so time spent queued (in the client, the socket or the server)
 * counts, instead of being hidden by a client that waits for answers before sending more.
 */
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { summarise, type LatencySummary } from './percentiles.js';

export interface OpenLoopOptions {
  port: number;
  path: string;
  body: Buffer;
  /** Every good answer contains this (the review uid). */
  expect: string;
  caPem: string;
  ratePerSecond: number;
  durationSeconds: number;
  /** Keep-alive connections, opened before the clock starts. */
  connections: number;
  timeoutMs: number;
}

export interface OpenLoopResult extends LatencySummary {
  rate: number;
  sent: number;
  completed: number;
  errors: number;
  /** First few error descriptions, for the log. */
  errorSamples: string[];
}

const headers = (body: Buffer) => ({ 'content-type': 'application/json', 'content-length': String(body.length) });

function send(agent: Agent, o: OpenLoopOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: o.port, path: o.path, method: 'POST', agent, headers: headers(o.body), timeout: o.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) resolve(`HTTP ${res.statusCode}`);
        else if (!Buffer.concat(chunks).includes(o.expect)) resolve('answer without the request uid');
        else resolve(undefined);
      });
      res.on('error', (e) => resolve(e.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', (e) => resolve(e.message));
    req.end(o.body);
  });
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections, ca: o.caPem });
  try {
    // Open every connection (TLS handshakes) before the clock starts.
    await Promise.all(Array.from({ length: o.connections }, () => send(agent, o)));

    const total = Math.max(1, Math.round(o.ratePerSecond * o.durationSeconds));
    const interval = 1000 / o.ratePerSecond;
    const latencies = new Float64Array(total);
    const errorSamples: string[] = [];
    let errors = 0;
    let completed = 0;
    const pending: Promise<void>[] = [];
    const start = performance.now() + 5;

    await new Promise<void>((done) => {
      let next = 0;
      const tick = () => {
        const now = performance.now();
        for (; next < total && start + next * interval <= now; next++) {
          const index = next;
          const due = start + index * interval;
          pending.push(
            send(agent, o).then((error) => {
              latencies[index] = performance.now() - due;
              completed++;
              if (error) {
                errors++;
                if (errorSamples.length < 5) errorSamples.push(error);
              }
            }),
          );
        }
        if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
        else done();
      };
      setTimeout(tick, 5);
    });
    await Promise.all(pending);
    return { rate: o.ratePerSecond, sent: total, completed, errors, errorSamples, ...summarise(latencies) };
  } finally {
    agent.destroy();
  }
}

/**
 * One benchmark run: certificates, the shipped config, the webhook and the baseline side by side, the corpus
 * through both with closed-loop (throughput) and open-loop (latency) load, a scaling line and start-up times.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RULE_IDS } from '../src/rules/index.js';
import { makeTempDir, removeTempDir } from '../test/cluster/processes.js';
import { makeCertificates, type BenchCertificates } from './certificates.js';
import { closedLoop, type ClosedLoopResult } from './closed-loop.js';
import { SCALING_CONTAINERS, mainCorpus, podWithContainers, type Payload } from './corpus.js';
import { describeMachine, type Machine } from './machine.js';
import { openLoop, type OpenLoopResult } from './open-loop.js';
import { cpuMicros, peakRssMb, resetPeakRss } from './proc-stats.js';
import { startBaseline, startWebhook, type NodeEntry, type RunningServer } from './servers.js';
import { shippedConfig } from './shipped-config.js';

/** The paths the chart's webhook configurations call for a namespace in enforce mode. */
export const ENDPOINTS = ['/mutate/enforce', '/validate/enforce'] as const;

export interface Plan {
  /** Keep-alive connections of both drivers. */
  connections: number;
  warmupSeconds: number;
  closedSeconds: number;
  /** When set, closed-loop runs stop after this many requests instead (smoke runs). */
  closedAmount?: number;
  openSeconds: number;
  /** Open-loop rate per payload id. */
  rates: Record<string, number>;
  scalingRate: number;
  scalingSeconds: number;
  /** Closed-loop run per scaling cell that CPU per request is measured over (many more requests than the open loop). */
  scalingClosedSeconds: number;
  scalingContainers: readonly number[];
  /** Start-to-ready samples per server. */
  startups: number;
  timeoutSeconds: number;
}

export const FULL_PLAN: Plan = {
  connections: 8,
  warmupSeconds: 1,
  closedSeconds: 3,
  openSeconds: 6,
  rates: { 'small-pod': 1000, 'typical-pod': 1000, 'large-pod': 100, 'deployment-update': 1000 },
  // Low enough that the 100-container Pod (~14 ms of CPU on /mutate) does not saturate the server.
  scalingRate: 40,
  scalingSeconds: 3,
  scalingClosedSeconds: 2,
  scalingContainers: SCALING_CONTAINERS,
  startups: 3,
  timeoutSeconds: 10,
};

/** A few hundred requests in all: checks the machinery, measures nothing. */
export const SMOKE_PLAN: Plan = {
  connections: 2,
  warmupSeconds: 0,
  closedSeconds: 1,
  closedAmount: 20,
  openSeconds: 0.1,
  rates: { 'small-pod': 200, 'typical-pod': 200, 'large-pod': 100, 'deployment-update': 200 },
  scalingRate: 100,
  scalingSeconds: 0.05,
  scalingClosedSeconds: 1,
  scalingContainers: SCALING_CONTAINERS,
  startups: 1,
  timeoutSeconds: 10,
};

export interface BenchOptions {
  plan: Plan;
  webhook: NodeEntry;
  baseline: NodeEntry;
  /** charts/gracekeeper/values.yaml: the config as shipped. */
  valuesFile: string;
  /** Only these payload ids, and the scaling line only if `scaling` is listed (default: everything). */
  payloads?: string[];
  /** Write the webhook's V8 CPU profile here (node --cpu-prof). */
  profileDir?: string;
  progress?: (line: string) => void;
}

/**
 * `rules-off` is the webhook with every rule turned off in its config: the same TLS, fastify, JSON parsing, review
 * decoding, log line and metrics, and an engine with nothing to run. Between it and the baseline is the server's own
 * cost; between it and `webhook`, the engine's.
 */
export type ServerKind = 'baseline' | 'webhook' | 'rules-off';

export interface Row {
  payload: string;
  description: string;
  bytes: number;
  containers: number;
  server: ServerKind;
  path: string;
  /** What the server answered to one request, e.g. `allowed, patch of 5 ops`. */
  answer: string;
  closed: ClosedLoopResult;
  open: OpenLoopResult;
  /** Server CPU (user + system) per request during the open-loop run. */
  cpuMicrosPerRequest: number;
  /** Peak RSS of the server during this row's runs. */
  peakRssMb: number;
  /** Webhook requests/s over the baseline's for the same payload. */
  throughputRatio?: number;
}

export interface ScalingPoint {
  containers: number;
  bytes: number;
  server: ServerKind;
  path: string;
  /** Latency at plan.scalingRate. */
  open: OpenLoopResult;
  /** Server CPU per request over a closed-loop run. */
  cpuMicrosPerRequest: number;
}

export interface Startup {
  server: ServerKind;
  samplesMs: number[];
  medianMs: number;
}

export interface BenchReport {
  machine: Machine;
  /** Load averages when the run ended. */
  loadAverageAfter: [number, number, number];
  plan: Plan;
  rows: Row[];
  scaling: ScalingPoint[];
  startup: Startup[];
  /** VmHWM over each server's whole life. */
  lifetimePeakRssMb: Record<ServerKind, number>;
  /** How the webhook was started: node, its flags and the entry file. */
  webhookCommand: string;
  seconds: number;
}

/** One POST, parsed: what the answer says, in a few words. */
function describeAnswer(port: number, path: string, body: Buffer, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}: ${text.slice(0, 80)}`);
          try {
            const r = (JSON.parse(text) as { response: { allowed: boolean; patch?: string; warnings?: string[] } }).response;
            const parts = [r.allowed ? 'allowed' : 'denied'];
            if (r.patch) parts.push(`patch of ${(JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as unknown[]).length} ops`);
            if (r.warnings?.length) parts.push(`${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}`);
            resolve(parts.join(', '));
          } catch (e) {
            resolve(`unreadable answer: ${(e as Error).message}`);
          }
        });
      },
    );
    req.on('error', (e) => resolve(`request failed: ${e.message}`));
    req.end(body);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const { plan } = options;
  const say = options.progress ?? (() => {});
  const began = performance.now();
  const machine = describeMachine();
  const dir = makeTempDir('gracekeeper-bench');
  const servers: RunningServer[] = [];
  try {
    const certificates = await makeCertificates(dir);
    const configFile = join(dir, 'config.yaml');
    const config = shippedConfig(options.valuesFile);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const rulesOffConfigFile = join(dir, 'config-rules-off.yaml');
    const everyRuleOff = Object.fromEntries(RULE_IDS.map((id) => [id, 'off']));
    writeFileSync(rulesOffConfigFile, JSON.stringify({ ...config, policy: { ...(config.policy as object), rules: everyRuleOff } }, null, 2));
    const webhookLaunch = { ...options.webhook, configFile, certificates, logDir: dir };
    const baselineLaunch = { ...options.baseline, certificates, logDir: dir };

    const startup: Startup[] = [];
    const launch = async (kind: ServerKind): Promise<RunningServer> => {
      const samples: number[] = [];
      for (let i = 1; i < plan.startups; i++) {
        const s = kind === 'webhook' ? await startWebhook(webhookLaunch, `webhook-start-${i}`) : await startBaseline(baselineLaunch, `baseline-start-${i}`);
        samples.push(s.startToReadyMs);
        await s.stop();
      }
      const kept = kind === 'webhook' ? await startWebhook({ ...webhookLaunch, ...(options.profileDir ? { profileDir: options.profileDir } : {}) }) : await startBaseline(baselineLaunch);
      servers.push(kept);
      samples.push(kept.startToReadyMs);
      startup.push({ server: kind, samplesMs: samples, medianMs: median(samples) });
      say(`${kind}: ready in ${samples.map((s) => s.toFixed(0)).join(', ')} ms (pid ${kept.pid}, port ${kept.port})`);
      return kept;
    };
    const baseline = await launch('baseline');
    const webhook = await launch('webhook');
    const rulesOff = await startWebhook({ ...webhookLaunch, configFile: rulesOffConfigFile }, 'rules-off');
    servers.push(rulesOff);
    say(`rules-off: ready in ${rulesOff.startToReadyMs.toFixed(0)} ms (pid ${rulesOff.pid}, port ${rulesOff.port})`);

    const payloads = mainCorpus().filter((p) => !options.payloads || options.payloads.includes(p.id));
    const rows: Row[] = [];
    for (const payload of payloads) {
      const base = await measureRow(baseline, 'baseline', ENDPOINTS[1], payload, plan, certificates);
      rows.push(base);
      say(summaryLine(base));
      for (const [server, kind] of [[webhook, 'webhook'], [rulesOff, 'rules-off']] as const) {
        for (const path of ENDPOINTS) {
          const row = await measureRow(server, kind, path, payload, plan, certificates);
          row.throughputRatio = row.closed.requestsPerSecond / base.closed.requestsPerSecond;
          rows.push(row);
          say(summaryLine(row));
        }
      }
    }

    const scaling: ScalingPoint[] = [];
    for (const count of !options.payloads || options.payloads.includes('scaling') ? plan.scalingContainers : []) {
      const payload = podWithContainers(count);
      for (const [server, kind, path] of [[baseline, 'baseline', ENDPOINTS[1]], [webhook, 'webhook', ENDPOINTS[0]], [webhook, 'webhook', ENDPOINTS[1]]] as const) {
        const point = await measureScaling(server, kind, path, payload, plan, certificates);
        scaling.push(point);
        say(`scaling ${count} containers ${kind} ${path}: p50 ${point.open.p50.toFixed(2)} ms, p99 ${point.open.p99.toFixed(2)} ms, ${point.cpuMicrosPerRequest.toFixed(0)} µs CPU/req`);
      }
    }

    const lifetimePeakRssMb = { baseline: peakRssMb(baseline.pid), webhook: peakRssMb(webhook.pid), 'rules-off': peakRssMb(rulesOff.pid) };
    const webhookCommand = ['node', ...options.webhook.nodeArgs, relative(process.cwd(), options.webhook.entry)].join(' ');
    return { machine, loadAverageAfter: describeMachine().loadAverage, plan, rows, scaling, startup, lifetimePeakRssMb, webhookCommand, seconds: (performance.now() - began) / 1000 };
  } finally {
    for (const s of servers) await s.stop();
    removeTempDir(dir);
  }
}

async function measureRow(server: RunningServer, kind: ServerKind, path: string, payload: Payload, plan: Plan, certificates: BenchCertificates): Promise<Row> {
  const answer = kind === 'baseline' ? 'allowed (fixed answer)' : await describeAnswer(server.port, path, payload.body, certificates.caPem);
  const target = { port: server.port, path, body: payload.body, expect: payload.uid, connections: plan.connections };
  resetPeakRss(server.pid);
  if (plan.warmupSeconds > 0) await closedLoop({ ...target, durationSeconds: plan.warmupSeconds, timeoutSeconds: plan.timeoutSeconds });
  const closed = await closedLoop({ ...target, durationSeconds: plan.closedSeconds, ...(plan.closedAmount ? { amount: plan.closedAmount } : {}), timeoutSeconds: plan.timeoutSeconds });
  const { open, cpuMicrosPerRequest } = await measuredOpenLoop(server, target, plan.rates[payload.id] ?? 1000, plan.openSeconds, plan, certificates);
  return {
    payload: payload.id,
    description: payload.description,
    bytes: payload.body.length,
    containers: payload.containers,
    server: kind,
    path,
    answer,
    closed,
    open,
    cpuMicrosPerRequest,
    peakRssMb: peakRssMb(server.pid),
  };
}

async function measureScaling(server: RunningServer, kind: ServerKind, path: string, payload: Payload, plan: Plan, certificates: BenchCertificates): Promise<ScalingPoint> {
  const target = { port: server.port, path, body: payload.body, expect: payload.uid, connections: plan.connections };
  if (plan.warmupSeconds > 0) await closedLoop({ ...target, durationSeconds: Math.min(plan.warmupSeconds, 0.5), timeoutSeconds: plan.timeoutSeconds });
  const cpuBefore = cpuMicros(server.pid);
  const closed = await closedLoop({
    ...target,
    durationSeconds: plan.scalingClosedSeconds,
    ...(plan.closedAmount ? { amount: plan.closedAmount } : {}),
    timeoutSeconds: plan.timeoutSeconds,
  });
  const cpuMicrosPerRequest = (cpuMicros(server.pid) - cpuBefore) / closed.requests;
  const { open } = await measuredOpenLoop(server, target, plan.scalingRate, plan.scalingSeconds, plan, certificates);
  return { containers: payload.containers, bytes: payload.body.length, server: kind, path, open: { ...open, errors: open.errors + closed.errors }, cpuMicrosPerRequest };
}

async function measuredOpenLoop(
  server: RunningServer,
  target: { port: number; path: string; body: Buffer; expect: string; connections: number },
  rate: number,
  seconds: number,
  plan: Plan,
  certificates: BenchCertificates,
): Promise<{ open: OpenLoopResult; cpuMicrosPerRequest: number }> {
  const cpuBefore = cpuMicros(server.pid);
  const open = await openLoop({ ...target, caPem: certificates.caPem, ratePerSecond: rate, durationSeconds: seconds, timeoutMs: plan.timeoutSeconds * 1000 });
  // openLoop also sends one request per connection to open it before the clock starts.
  const cpuMicrosPerRequest = (cpuMicros(server.pid) - cpuBefore) / (open.completed + target.connections);
  return { open, cpuMicrosPerRequest };
}

function summaryLine(r: Row): string {
  const ratio = r.throughputRatio === undefined ? '' : ` (${r.throughputRatio.toFixed(2)}x baseline)`;
  return (
    `${r.payload} ${r.server} ${r.path}: ${r.answer}; ${r.closed.requestsPerSecond.toFixed(0)} req/s${ratio}; ` +
    `at ${r.open.rate}/s p50 ${r.open.p50.toFixed(2)} p99 ${r.open.p99.toFixed(2)} p99.9 ${r.open.p999.toFixed(2)} ms; ` +
    `${r.cpuMicrosPerRequest.toFixed(0)} µs CPU/req; peak RSS ${r.peakRssMb.toFixed(1)} MB; errors ${r.closed.errors + r.open.errors}`
  );
}

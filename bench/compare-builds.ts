/**
 * Before/after of a change: two builds of the webhook (each a folder with the output of `npm run build`, e.g. a
 * `git archive` of the old commit built next to the new one) measured in turns, so machine noise hits both alike.
 *   node bench/out/bench/compare-builds.js <before/dist> <after/dist>
 * Prints two Markdown tables: engine CPU per review in-process (best of 5 rounds), and per server process
 * (median of 3 starts) start to ready, RSS, and req/s and CPU per request under closed-loop load on the typical Pod.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeCertificates } from './certificates.js';
import { repoRoot } from './cli.js';
import { closedLoop } from './closed-loop.js';
import { productionNodeFlags } from '../test/cluster/node-flags.js';
import { mainCorpus } from './corpus.js';
import { cpuMicros, peakRssMb } from './proc-stats.js';
import { startWebhook } from './servers.js';
import { shippedConfig } from './shipped-config.js';

type Review = (endpoint: string, text: string) => unknown;

/** handleReview of one build, with that build's default config and rules. */
async function reviewer(dist: string): Promise<Review> {
  const load = (path: string) => import(pathToFileURL(join(dist, path)).href);
  const [{ handleReview }, { buildServerConfig }, { RULES, RULE_IDS }, { OfflineClusterView }] = await Promise.all([
    load('admission/handle.js'),
    load('config/server.js'),
    load('rules/index.js'),
    load('cluster/offline.js'),
  ]);
  const config = buildServerConfig({}, [], RULE_IDS);
  const settings = {
    modes: { defaultMode: 'enforce', exemptNamespaces: [], ownNamespace: undefined },
    engine: { rules: RULES, context: { config: config.policy, cluster: new OfflineClusterView([], config.policy.kubernetesVersion) } },
  };
  return (endpoint, text) => handleReview(endpoint, 'enforce', JSON.parse(text), settings);
}

function cpuPerCall(f: () => unknown, n: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

async function engineTable(dists: [string, string]): Promise<string[]> {
  const builds = await Promise.all(dists.map(reviewer));
  const lines = ['| Payload | Endpoint | before µs | after µs | after/before |', '|---|---|--:|--:|--:|'];
  for (const p of mainCorpus()) {
    for (const endpoint of ['mutate', 'validate']) {
      const text = p.body.toString('utf8');
      const n = Math.max(100, Math.round(2e6 / p.body.length));
      for (const b of builds) cpuPerCall(() => b(endpoint, text), n); // warm-up
      const best = [Infinity, Infinity];
      for (let round = 0; round < 5; round++) builds.forEach((b, i) => (best[i] = Math.min(best[i]!, cpuPerCall(() => b(endpoint, text), n))));
      lines.push(`| ${p.id} | /${endpoint} | ${best[0]!.toFixed(0)} | ${best[1]!.toFixed(0)} | ${(best[1]! / best[0]!).toFixed(2)} |`);
    }
  }
  return lines;
}

interface ServerSample {
  readyMs: number;
  readyRssMb: number;
  peakRssMb: number;
  load: Record<string, { rps: number; cpu: number }>;
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function serverTable(dists: [string, string]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gracekeeper-compare-'));
  const certificates = await makeCertificates(dir);
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, JSON.stringify(shippedConfig(join(repoRoot(), 'charts', 'gracekeeper', 'values.yaml'))));
  const typical = mainCorpus().find((p) => p.id === 'typical-pod')!;
  const paths = ['/mutate/enforce', '/validate/enforce'];
  const samples: ServerSample[][] = [[], []];
  for (let round = 0; round < 3; round++) {
    for (const i of round % 2 ? [1, 0] : [0, 1]) {
      const s = await startWebhook({ nodeArgs: productionNodeFlags(repoRoot()), entry: join(dists[i]!, 'main.js'), configFile, certificates, logDir: dir }, `build-${i}-${round}`);
      const sample: ServerSample = { readyMs: s.startToReadyMs, readyRssMb: rssMb(s.pid), peakRssMb: 0, load: {} };
      for (const path of paths) {
        const target = { port: s.port, path, body: typical.body, expect: typical.uid, connections: 8, timeoutSeconds: 10 };
        await closedLoop({ ...target, durationSeconds: 1 });
        const before = cpuMicros(s.pid);
        const run = await closedLoop({ ...target, durationSeconds: 3 });
        sample.load[path] = { rps: run.requestsPerSecond, cpu: (cpuMicros(s.pid) - before) / run.requests };
      }
      sample.peakRssMb = peakRssMb(s.pid);
      samples[i]!.push(sample);
      await s.stop();
    }
  }
  const row = (label: string, pick: (s: ServerSample) => number, digits = 0) =>
    `| ${label} | ${median(samples[0]!.map(pick)).toFixed(digits)} | ${median(samples[1]!.map(pick)).toFixed(digits)} |`;
  return [
    '| Median of 3 starts | before | after |',
    '|---|--:|--:|',
    row('start to ready, ms', (s) => s.readyMs),
    row('RSS when ready, MB', (s) => s.readyRssMb, 1),
    row('peak RSS after the load below, MB', (s) => s.peakRssMb, 1),
    ...paths.flatMap((p) => [
      row(`typical Pod ${p}: req/s (closed loop, 8 connections)`, (s) => s.load[p]!.rps),
      row(`typical Pod ${p}: server CPU µs/request`, (s) => s.load[p]!.cpu),
    ]),
  ];
}

const [before, after] = process.argv.slice(2).map((d) => resolve(d));
if (!before || !after) {
  process.stderr.write('usage: compare-builds <before/dist> <after/dist>\n');
  process.exit(2);
}
const dists: [string, string] = [before, after];
process.stdout.write(`${[...(await engineTable(dists)), '', ...(await serverTable(dists))].join('\n')}\n`);

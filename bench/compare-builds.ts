/**
 * Before/after of a change: two builds of the webhook (each a folder with the output of `npm run build`, e.g. a
 * `git archive` of the old commit built next to the new one) measured in turns, so machine noise hits both alike.
 *   node bench/out/bench/compare-builds.js <before/dist> <after/dist>
 * Prints two Markdown tables: engine CPU per review in-process (each build in its own process, bench/engine-cost.ts),
 * and per server process
 * (median of 3 starts) start to ready, RSS, and req/s and CPU per request under closed-loop load on the typical Pod.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCertificates } from './certificates.js';
import { repoRoot } from './cli.js';
import { closedLoop } from './closed-loop.js';
import { type EngineCost } from './engine-cost.js';
import { productionNodeFlags } from '../test/cluster/node-flags.js';
import { mainCorpus } from './corpus.js';
import { cpuMicros, peakRssMb } from './proc-stats.js';
import { startWebhook } from './servers.js';
import { shippedConfig } from './shipped-config.js';

/** One build's engine cost in a child process of its own (bench/engine-cost.ts). */
function engineCostOf(dist: string): EngineCost[] {
  const script = fileURLToPath(new URL('./engine-cost.js', import.meta.url));
  return JSON.parse(execFileSync(process.execPath, [script, dist], { encoding: 'utf8' })) as EngineCost[];
}

/**
 * Engine CPU per review, before and after: each build in its own process, in turns, 3 times; the best per row.
 * `parse` is JSON.parse of the body alone; the engine's own part (handleReview) is the review minus it.
 */
function engineTable(dists: [string, string]): string[] {
  const best: Map<string, EngineCost>[] = [new Map(), new Map()];
  for (let round = 0; round < 3; round++) {
    for (const i of round % 2 ? [1, 0] : [0, 1]) {
      for (const row of engineCostOf(dists[i]!)) {
        const kept = best[i]!.get(row.payload);
        best[i]!.set(row.payload, {
          payload: row.payload,
          parse: Math.min(kept?.parse ?? Infinity, row.parse),
          mutate: Math.min(kept?.mutate ?? Infinity, row.mutate),
          validate: Math.min(kept?.validate ?? Infinity, row.validate),
        });
      }
    }
  }
  const lines = [
    '| Payload | Endpoint | before µs (parse + review) | after µs (parse + review) | after/before | before µs, review alone | after µs, review alone |',
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const [payload, b] of best[0]!) {
    const a = best[1]!.get(payload)!;
    for (const endpoint of ['mutate', 'validate'] as const) {
      lines.push(
        `| ${payload} | /${endpoint} | ${b[endpoint].toFixed(0)} | ${a[endpoint].toFixed(0)} | ${(a[endpoint] / b[endpoint]).toFixed(2)} | ` +
          `${(b[endpoint] - b.parse).toFixed(0)} | ${(a[endpoint] - a.parse).toFixed(0)} |`,
      );
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
process.stdout.write(`${[...engineTable(dists), '', ...(await serverTable(dists))].join('\n')}\n`);

/**
 * Benchmark (not a test): `gracekeeper audit --cluster` and the webhook's background scan (src/reports) on a
 * cluster of 5,000 workloads created through the API of the end-to-end harness's real control plane (etcd,
 * kube-apiserver and kube-controller-manager v1.37.2 on loopback: test/cluster/controlPlane.ts).
 *
 *   npm run build && npm run bench:cluster-scan                 # 5,000 workloads; writes its section of bench/RESULTS.md
 *   npm run bench:cluster-scan -- --workloads 200 --namespaces 4 --runs 1 --rescans 1 --no-write   # a quick try
 *   GRACEKEEPER_WEBHOOK_MAIN=/elsewhere/dist/main.js npm run bench:cluster-scan -- --build-label abc1234
 *                                  # another build: its main.js and cli/main.js
 *
 * Measures (1) `node dist/cli/main.js audit --cluster -A --output json` as a child process, `--runs` times: wall
 * time, CPU time and peak RSS (GNU time's rusage, else /proc polled); (2) the built webhook (`node <the image's node
 * flags> dist/main.js`, test/cluster/webhook.ts) with the chart's config and reports enabled: time from start to
 * every namespace's report written, then `--rescans` full rescans of the unchanged cluster (wall and CPU time of
 * each from /proc samples), and its peak RSS against the chart's memory limit.
 *
 * Starts and stops its own control plane; every process it starts is stopped by pid on every exit path
 * (test/cluster/processes.ts). Loopback only. Waits while /tmp/gk-quiet exists (someone is running CPU benchmarks)
 * and holds /tmp/gk-helper-heavy while it runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiException, ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { kubeConfigGet, type ApiGet } from '../src/cluster/list-pages.js';
import { renderChart } from '../test/chart/lib/helm.js';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../test/cluster/controlPlane.js';
import { ManagedProcess, makeTempDir, removeTempDir, sleep, waitFor } from '../test/cluster/processes.js';
import { productionNodeFlags } from '../test/cluster/node-flags.js';
import { MODE_LABEL } from '../test/cluster/suite.js';
import { WEBHOOK_MAIN, startWebhook, type RunningWebhook } from '../test/cluster/webhook.js';
import { describePlan, planWorkloads, type PlannedWorkload } from './cluster-workloads.js';
import { describeMachine, type Machine } from './machine.js';
import { cpuMicros, peakRssMb } from './proc-stats.js';

const QUIET_FLAG = '/tmp/gk-quiet';
const HEAVY_FLAG = '/tmp/gk-helper-heavy';
const SECTION_START = '<!-- cluster-scan:start -->';
const SECTION_END = '<!-- cluster-scan:end -->';
const GNU_TIME = '/usr/bin/time';
/** The CLI of the same build as the webhook (GRACEKEEPER_WEBHOOK_MAIN=<dir>/main.js measures another build). */
const CLI_MAIN = join(dirname(WEBHOOK_MAIN), 'cli', 'main.js');

const { values: opts } = parseArgs({
  options: {
    workloads: { type: 'string', default: '5000' },
    namespaces: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    rescans: { type: 'string', default: '3' },
    'resync-seconds': { type: 'string', default: '30' },
    parallel: { type: 'string', default: '12' },
    /** What the results name as the build measured (default: `git describe --always --dirty` of the checkout). */
    'build-label': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const int = (name: keyof typeof opts, min: number, max: number): number => {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, not '${String(opts[name])}'`);
  return v;
};
const WORKLOADS = int('workloads', 1, 20_000);
const NAMESPACES = int('namespaces', 1, 500);
const RUNS = int('runs', 1, 10);
const RESCANS = int('rescans', 1, 10);
const RESYNC_SECONDS = int('resync-seconds', 10, 600);
const PARALLEL = int('parallel', 1, 64);

const log = (msg: string): void => {
  process.stderr.write(`[cluster-scan ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
const seconds = (ms: number): string => (ms / 1000).toFixed(1);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' / ');

// ---- the heavy flag: removed on every way out ------------------------------------------------------------
let holdingHeavy = false;
function releaseHeavy(): void {
  if (holdingHeavy) rmSync(HEAVY_FLAG, { force: true });
  holdingHeavy = false;
}
process.on('exit', releaseHeavy);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  // Once: test/cluster/processes.ts stops the processes on the same signal and re-raises it when it is the only
  // listener left; before it is installed, re-raise here so the signal still ends the run.
  process.once(sig, () => {
    releaseHeavy();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  });
}

async function waitForQuiet(): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  while (existsSync(QUIET_FLAG)) {
    if (Date.now() > deadline) throw new Error(`${QUIET_FLAG} still exists after 30 minutes: not starting the heavy part`);
    log(`${QUIET_FLAG} exists (CPU benchmarks running): waiting`);
    await sleep(10_000);
  }
  writeFileSync(HEAVY_FLAG, `${process.pid} bench/cluster-scan.ts\n`);
  holdingHeavy = true;
}

// ---- API helpers ----------------------------------------------------------------------------------------------

/** Objects of a list path (e.g. /api/v1/pods), counted from one item and the API's remainingItemCount. */
async function count(get: ApiGet, path: string): Promise<number> {
  for (let pageSize = 1; ; pageSize = 500) {
    let total = 0;
    let cont: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const query = new URLSearchParams({ limit: String(pageSize), ...(cont ? { continue: cont } : {}) });
      const answer = await get(`${path}?${query}`);
      if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
      const list = JSON.parse(answer.body) as { items: unknown[]; metadata?: { continue?: string; remainingItemCount?: number } };
      total += list.items.length;
      if (pageSize === 1 && list.metadata?.continue && list.metadata.remainingItemCount !== undefined) return total + list.metadata.remainingItemCount;
      if (!list.metadata?.continue) return total;
      if (pageSize === 1) break; // no remainingItemCount: count in full pages
      cont = list.metadata.continue;
    }
    if (pageSize === 500) throw new Error(`GET ${path}: more than 1000 pages`);
  }
}

/** Creates every object, `PARALLEL` at a time; a 409 (left from an earlier try) counts as created, 429/5xx are retried. */
async function createAll(objects: readonly KubernetesObject[], api: KubernetesObjectApi, deadline: number): Promise<void> {
  let next = 0;
  let done = 0;
  let lastReport = Date.now();
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const obj = objects[next++]!;
      for (let attempt = 1; ; attempt++) {
        if (Date.now() > deadline) throw new Error(`creating the objects took too long (${done} of ${objects.length} created)`);
        try {
          await api.create(obj);
          break;
        } catch (err) {
          const code = err instanceof ApiException ? err.code : 0;
          if (code === 409) break;
          if (attempt >= 5 || !(code === 429 || code >= 500 || code === 0)) {
            throw new Error(`create ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
          }
          await sleep(500 * attempt);
        }
      }
      done++;
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        log(`created ${done} of ${objects.length}`);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

// ---- the CLI run ---------------------------------------------------------------------------------------------

interface CliRun {
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  exitCode: number | null;
  /** How CPU and peak RSS were read. */
  source: 'GNU time' | '/proc polled every 20 ms';
  summary: { findings: number; deny: number; warn: number; workloads: number; workloadsWithFindings: number; errors: number };
  /** Workloads with a finding of each rule. */
  workloadsByRule: Record<string, number>;
  stderr: string;
}

async function runCli(kubeconfigPath: string, dir: string, n: number): Promise<CliRun> {
  const [out, err, timeFile] = [join(dir, `cli-${n}.json`), join(dir, `cli-${n}.stderr`), join(dir, `cli-${n}.time`)];
  const cliArgs = [CLI_MAIN, 'audit', '--cluster', '--kubeconfig', kubeconfigPath, '-A', '--output', 'json'];
  // sh execs node in its own place, so the pid (and GNU time's rusage) is node's; the redirections keep stdout
  // (the JSON report) apart from stderr.
  const shell = ['sh', '-c', 'exec "$0" "$@" >"$GK_OUT" 2>"$GK_ERR"', process.execPath, ...cliArgs];
  const gnuTime = existsSync(GNU_TIME);
  const [command, ...args] = gnuTime ? [GNU_TIME, '-f', '%e %U %S %M', '-o', timeFile, ...shell] : shell;
  const started = performance.now();
  const proc = new ManagedProcess(`gracekeeper-audit-${n}`, command!, args, {
    logPath: join(dir, `cli-${n}.log`),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GK_OUT: out, GK_ERR: err },
  });
  let polled = { cpuMs: 0, peakRssMb: 0 };
  const poll = setInterval(() => {
    try {
      // Under GNU time the pid is time's own; its child is node.
      if (!gnuTime && proc.pid !== undefined) polled = { cpuMs: cpuMicros(proc.pid) / 1000, peakRssMb: peakRssMb(proc.pid) };
    } catch {
      /* exited between two polls */
    }
  }, 20);
  const timeout = setTimeout(() => void proc.stop(1000), 10 * 60_000);
  const exit = await proc.exited;
  const wallMs = performance.now() - started;
  clearInterval(poll);
  clearTimeout(timeout);
  let cpuMs = polled.cpuMs;
  let peak = polled.peakRssMb;
  if (gnuTime) {
    const line = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1) ?? '';
    const [, user, sys, maxKb] = line.split(' ').map(Number);
    if (![user, sys, maxKb].every((v) => Number.isFinite(v))) throw new Error(`GNU time wrote '${line}' (log: ${proc.logTail(5)})`);
    cpuMs = (user! + sys!) * 1000;
    peak = maxKb! / 1024;
  }
  const stderr = readFileSync(err, 'utf8');
  let report: { summary: CliRun['summary']; findings: Array<{ rule: string; kind: string; namespace: string; name: string }> };
  try {
    report = JSON.parse(readFileSync(out, 'utf8')) as typeof report;
  } catch {
    throw new Error(`audit --cluster (exit ${exit.code}) printed no JSON report; stderr: ${stderr.slice(0, 500)} ${proc.logTail(5)}`);
  }
  const byRule = new Map<string, Set<string>>();
  for (const f of report.findings) {
    const set = byRule.get(f.rule) ?? new Set<string>();
    set.add(`${f.kind}/${f.namespace}/${f.name}`);
    byRule.set(f.rule, set);
  }
  rmSync(out, { force: true });
  return {
    wallMs,
    cpuMs,
    peakRssMb: peak,
    exitCode: exit.code,
    source: gnuTime ? 'GNU time' : '/proc polled every 20 ms',
    summary: report.summary,
    workloadsByRule: Object.fromEntries([...byRule].map(([rule, set]) => [rule, set.size]).sort()),
    stderr,
  };
}

// ---- the background scan -----------------------------------------------------------------------------------------

interface Sample {
  at: number;
  cpuMicros: number;
}

interface Rescan {
  wallMs: number;
  cpuMs: number;
}

interface ScanResult {
  startToReadyMs: number;
  startToReportsMs: number;
  /** CPU of the webhook from start until the first scan was seen done. */
  cpuToReportsMs: number;
  reportsWritten: number;
  firstScan: { namespaces?: number; workloads?: number; created?: number };
  peakRssAfterFirstScanMb: number;
  rescans: Rescan[];
  rescanWrites: number;
  peakRssMb: number;
  rssEndMb: number;
  reports: { count: number; fail: number; warn: number; pass: number; results: number };
}

function metric(body: string, name: string, labels: string[]): number {
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((kv) => l.includes(kv)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const fullScans = async (webhook: RunningWebhook): Promise<number> =>
  metric((await webhook.health('/metrics')).body, 'gracekeeper_report_scans_total', ['scan="full"', 'result="success"']);

const reportWrites = async (webhook: RunningWebhook): Promise<number> => {
  const body = (await webhook.health('/metrics')).body;
  return ['create', 'update', 'delete'].reduce((n, op) => n + metric(body, 'gracekeeper_report_writes_total', [`operation="${op}"`, 'result="success"']), 0);
};

/** The webhook's JSON log lines with this message. */
function logLines(webhook: RunningWebhook, msg: string): Array<Record<string, unknown>> {
  const path = webhook.process?.logPath;
  if (!path) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return entry.msg === msg ? [entry] : [];
      } catch {
        return [];
      }
    });
}

/**
 * The busy stretch of the process that ends at or just before `at`: consecutive 50 ms samples with at least 20 ms of
 * CPU (gaps of up to 3 quiet samples bridged, for the report list and writes that wait on the API server).
 */
function busySpan(samples: readonly Sample[], at: number): Rescan | undefined {
  const busy = (i: number): boolean => i > 0 && samples[i]!.cpuMicros - samples[i - 1]!.cpuMicros >= 20_000;
  let end = samples.findLastIndex((s, i) => s.at <= at && busy(i));
  if (end < 0) return undefined;
  // The scan may have ended a little after the metric was read.
  while (end + 1 < samples.length && busy(end + 1)) end++;
  let start = end;
  for (let i = end - 1, quiet = 0; i > 0 && quiet <= 3; i--) {
    if (busy(i)) {
      start = i;
      quiet = 0;
    } else quiet++;
  }
  const from = samples[start - 1]!;
  const to = samples[end]!;
  return { wallMs: to.at - from.at, cpuMs: (to.cpuMicros - from.cpuMicros) / 1000 };
}

async function measureBackgroundScan(cp: ControlPlane, config: Record<string, unknown>, namespaces: number): Promise<{ result: ScanResult; webhook: RunningWebhook }> {
  const started = performance.now();
  const startedEpoch = Date.now();
  const webhook = await startWebhook({ clusterView: cp, config, readyTimeoutMs: 300_000 });
  const startToReadyMs = performance.now() - started;
  const pid = webhook.process?.pid;
  if (pid === undefined) throw new Error('the webhook has no pid');
  log(`webhook ready after ${seconds(startToReadyMs)} s; waiting for its first full scan`);
  await waitFor(
    `the first full scan writing ${namespaces} reports`,
    async () => ((await fullScans(webhook)) >= 1 && (await reportWrites(webhook)) >= namespaces ? true : undefined),
    { timeoutMs: 10 * 60_000, intervalMs: 100, watch: webhook.process ? [webhook.process] : [] },
  );
  const first = logLines(webhook, 'reports scanned').find((l) => l.scan === 'full');
  if (!first || typeof first.time !== 'number') throw new Error(`no 'reports scanned' log line of the first full scan:\n${webhook.logTail(20)}`);
  const startToReportsMs = first.time - startedEpoch;
  const peakRssAfterFirstScanMb = peakRssMb(pid);
  const cpuToReportsMs = cpuMicros(pid) / 1000;
  const writesAfterFirst = await reportWrites(webhook);
  log(`first full scan done: ${seconds(startToReportsMs)} s from start, peak RSS ${peakRssAfterFirstScanMb.toFixed(1)} MB`);

  // Rescans of the unchanged cluster, every resyncSeconds: CPU sampled every 50 ms, the scan count polled.
  const samples: Sample[] = [];
  const rescans: Rescan[] = [];
  const sampler = setInterval(() => samples.push({ at: performance.now(), cpuMicros: cpuMicros(pid) }), 50);
  try {
    for (let k = 1; k <= RESCANS; k++) {
      const seen = await waitFor(
        `full rescan ${k}`,
        async () => ((await fullScans(webhook)) >= 1 + k ? performance.now() : undefined),
        { timeoutMs: (RESYNC_SECONDS + 300) * 1000, intervalMs: 250, watch: webhook.process ? [webhook.process] : [] },
      );
      await sleep(300); // samples past the end of the scan
      const span = busySpan(samples, seen);
      if (!span) throw new Error(`rescan ${k}: no busy stretch of the webhook before ${seen.toFixed(0)} ms`);
      rescans.push(span);
      log(`rescan ${k}: ${span.wallMs.toFixed(0)} ms wall, ${span.cpuMs.toFixed(0)} ms CPU`);
    }
  } finally {
    clearInterval(sampler);
  }
  const rescanWrites = (await reportWrites(webhook)) - writesAfterFirst;

  const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const listed = (await custom.listClusterCustomObject({ group: 'openreports.io', version: 'v1alpha1', plural: 'reports' })) as {
    items: Array<{ summary?: { pass?: number; fail?: number; warn?: number }; results?: unknown[] }>;
  };
  const reports = { count: listed.items.length, fail: 0, warn: 0, pass: 0, results: 0 };
  for (const r of listed.items) {
    reports.fail += r.summary?.fail ?? 0;
    reports.warn += r.summary?.warn ?? 0;
    reports.pass += r.summary?.pass ?? 0;
    reports.results += r.results?.length ?? 0;
  }
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  return {
    webhook,
    result: {
      startToReadyMs,
      startToReportsMs,
      cpuToReportsMs,
      reportsWritten: writesAfterFirst,
      firstScan: { namespaces: num(first.namespaces), workloads: num(first.workloads), created: num(first.created) },
      peakRssAfterFirstScanMb,
      rescans,
      rescanWrites,
      peakRssMb: peakRssMb(pid),
      rssEndMb: Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
      reports,
    },
  };
}

// ---- the report ------------------------------------------------------------------------------------------------------

interface Outcome {
  build: string;
  machine: Machine;
  loadBefore: string;
  loadAfter: string;
  plan: ReturnType<typeof describePlan>;
  counts: Record<string, number>;
  createMs: number;
  settleMs: number;
  objectsCreated: number;
  cli: CliRun[];
  scan: ScanResult;
  memoryLimit: string;
  nodeFlags: string;
  durationMs: number;
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

function markdown(o: Outcome): string {
  const m = o.machine;
  const c = o.counts;
  const cli0 = o.cli[0]!;
  const rules = [...new Set([...Object.keys(o.plan.broken.byRule), ...Object.keys(cli0.workloadsByRule)])].sort();
  const limitMb = /^(\d+)Mi$/.exec(o.memoryLimit) ? Number(/^(\d+)Mi$/.exec(o.memoryLimit)![1]) * 1.048576 : undefined;
  const lines = [
    SECTION_START,
    `## Cluster audit at ${fmt(WORKLOADS)} workloads`,
    '',
    'Written by `bench/cluster-scan.ts` (keep it between its markers; `npm run bench` keeps this section):',
    '',
    '```sh',
    'npm run build && npm run bench:cluster-scan   # needs the control plane: bash scripts/e2e-build.sh; helm: bash scripts/helm-build.sh',
    '```',
    '',
    `Run of ${m.date} (${fmt(o.durationMs / 60_000, 1)} min), build ${o.build}. Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB, ${m.platform}, Node ${m.node}.`,
    `Load average (1 / 5 / 15 min): ${o.loadBefore} before creating the objects, ${o.loadAfter} at the end. Machine shared with other work.`,
    '',
    `**The cluster.** etcd, kube-apiserver and kube-controller-manager v1.37.2 of the end-to-end harness (test/cluster/controlPlane.ts) on`,
    `loopback, no scheduler or kubelet (Pods stay Pending). ${fmt(NAMESPACES)} namespaces labelled \`${MODE_LABEL}=enforce\`, each with the same mix,`,
    `created through the API ${PARALLEL} requests at a time: ${Object.entries(o.plan.byKind).map(([k, n]) => `${fmt(n)} ${k}s`).join(', ')}`,
    `(${fmt(o.plan.objects.Service ?? 0)} Services, ${fmt(o.plan.objects.PersistentVolumeClaim ?? 0)} PVCs with them; ${fmt(o.objectsCreated)} objects in ${seconds(o.createMs)} s).`,
    `The controllers made ${fmt(c.replicasets ?? 0)} ReplicaSets and ${fmt(c.pods ?? 0)} Pods (${o.settleMs < 1000 ? 'all there when the last object was created' : `all there ${seconds(o.settleMs)} s after the last create`}), the StatefulSets ${fmt((c.pvcs ?? 0) - (o.plan.objects.PersistentVolumeClaim ?? 0))} PVCs of their`,
    `claim templates. ${fmt(o.plan.broken.deny + o.plan.broken.warn)} workloads are built to break one rule each (${fmt(o.plan.broken.deny)} deny, ${fmt(o.plan.broken.warn)} warn), the rest to pass.`,
    'Harness options of this run only: a Service range of /16 (the harness has a /24: 254 ClusterIPs) and kube-controller-manager at',
    '200 requests/s (client-go\'s default 20/s would take many minutes to make the ReplicaSets and Pods).',
    '',
    `### \`gracekeeper audit --cluster -A --output json\``,
    '',
    `\`node dist/cli/main.js audit --cluster --kubeconfig <admin> -A --output json\` as a child process (the CLI runs with no node flags: its`,
    `bin is \`#!/usr/bin/env node\`), output to a file. Wall time from spawn to exit; CPU (user + system) and peak RSS from ${cli0.source}.`,
    '',
    '| Run | Wall s | CPU s | Peak RSS MB | Exit | Workloads audited | With findings | Findings (deny / warn) |',
    '|--:|--:|--:|--:|--:|--:|--:|---|',
    ...o.cli.map(
      (r, i) =>
        `| ${i + 1} | ${seconds(r.wallMs)} | ${seconds(r.cpuMs)} | ${r.peakRssMb.toFixed(1)} | ${r.exitCode} | ${fmt(r.summary.workloads)} | ${fmt(r.summary.workloadsWithFindings)} | ${fmt(r.summary.findings)} (${fmt(r.summary.deny)} / ${fmt(r.summary.warn)}) |`,
    ),
    `| median | ${seconds(median(o.cli.map((r) => r.wallMs)))} | ${seconds(median(o.cli.map((r) => r.cpuMs)))} | ${median(o.cli.map((r) => r.peakRssMb)).toFixed(1)} | | | | |`,
    '',
    `It lists ${fmt(Object.values(o.plan.byKind).reduce((a, b) => a + b, 0))} workloads, ${fmt(c.replicasets ?? 0)} ReplicaSets, ${fmt(c.pods ?? 0)} Pods, ${fmt(c.services ?? 0)} Services and ${fmt(c.pvcs ?? 0)} PVCs in pages of 500; the Pods and`,
    'ReplicaSets of the controllers are reported through them, not audited again.',
    '',
    '### Background scan (`reports.enabled`)',
    '',
    `The built webhook as the image runs it (\`node ${o.nodeFlags} dist/main.js\`, test/cluster/webhook.ts) with the config the chart's`,
    `ConfigMap renders for \`reports.enabled=true\`, \`reports.resyncSeconds=${RESYNC_SECONDS}\` (chart default 300, shortened to time rescans), admin credentials and`,
    'no Lease (no POD_NAMESPACE: this replica scans), started after the workloads existed. Its live cluster view and the scan\'s',
    'informers list everything, the first full scan evaluates every workload and creates one openreports.io Report per namespace.',
    '',
    '| | Measured |',
    '|---|--:|',
    `| start to ready (\`/readyz\`) | ${seconds(o.scan.startToReadyMs)} s |`,
    `| start to every report written (the first full scan's log line) | ${seconds(o.scan.startToReportsMs)} s |`,
    `| CPU from start to then (listing and watching included) | ${seconds(o.scan.cpuToReportsMs)} s |`,
    `| reports created by the first scan | ${fmt(o.scan.reportsWritten)} (${fmt(o.scan.firstScan.workloads ?? 0)} workloads evaluated) |`,
    `| peak RSS after the first scan | ${o.scan.peakRssAfterFirstScanMb.toFixed(1)} MB |`,
    ...o.scan.rescans.map((r, i) => `| full rescan ${i + 1} of the unchanged cluster: wall / CPU | ${seconds(r.wallMs)} s / ${seconds(r.cpuMs)} s |`),
    `| reports written by the ${o.scan.rescans.length} rescans (unchanged content is not rewritten) | ${fmt(o.scan.rescanWrites)} |`,
    `| peak RSS over the whole run (VmHWM) | ${o.scan.peakRssMb.toFixed(1)} MB |`,
    `| RSS at the end, idle | ${o.scan.rssEndMb.toFixed(1)} MB |`,
    `| chart memory limit (\`resources.limits.memory\`) | ${o.memoryLimit}${limitMb ? ` (${limitMb.toFixed(1)} MB): peak at ${fmt((o.scan.peakRssMb / limitMb) * 100)}%` : ''} |`,
    '',
    `Reports in the cluster at the end: ${fmt(o.scan.reports.count)}, with ${fmt(o.scan.reports.fail)} fail, ${fmt(o.scan.reports.warn)} warn and ${fmt(o.scan.reports.pass)} pass in their summaries.`,
    'Rescan wall and CPU time: the webhook\'s busy stretch (50 ms samples of /proc/<pid>/stat with at least 20 ms CPU) that ends',
    'with the scan counter `gracekeeper_report_scans_total{scan="full"}` going up; it includes listing the reports.',
    '',
    '### What the scans found',
    '',
    '| Rule | Workloads built to break it | Workloads with a finding of it (audit --cluster) |',
    '|---|--:|--:|',
    ...rules.map((r) => `| \`${r}\` | ${fmt(o.plan.broken.byRule[r] ?? 0)} | ${fmt(cli0.workloadsByRule[r] ?? 0)} |`),
    '',
    SECTION_END,
  ];
  return lines.join('\n');
}

function writeSection(text: string): string {
  const file = join(REPO_ROOT, 'bench', 'RESULTS.md');
  const existing = readFileSync(file, 'utf8');
  const start = existing.indexOf(SECTION_START);
  const end = existing.indexOf(SECTION_END);
  const next =
    start >= 0 && end > start
      ? `${existing.slice(0, start)}${text}${existing.slice(end + SECTION_END.length)}`
      : `${existing.replace(/\n*$/, '\n')}\n${text}\n`;
  writeFileSync(file, next);
  return file;
}

// ---- main ------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} does not exist: run \`npm run build\` first`);
  const began = Date.now();
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${String(i).padStart(2, '0')}`);
  const planned: PlannedWorkload[] = planWorkloads(WORKLOADS, namespaces);
  const plan = describePlan(planned);
  log(`plan: ${JSON.stringify(plan.byKind)}, objects ${JSON.stringify(plan.objects)}, built to break: ${plan.broken.deny} deny, ${plan.broken.warn} warn`);

  // The chart with reports on: its CRD, its config file, its memory limit.
  const chart = renderChart({
    releaseName: 'gk',
    namespace: 'gracekeeper-system',
    set: { 'reports.enabled': true, 'reports.installCRD': true, 'reports.resyncSeconds': RESYNC_SECONDS },
  });
  const crd = chart.find((d) => d.kind === 'CustomResourceDefinition');
  const configMap = chart.find((d) => d.kind === 'ConfigMap') as unknown as { data: Record<string, string> } | undefined;
  const deploymentDoc = chart.find((d) => d.kind === 'Deployment') as unknown as {
    spec: { template: { spec: { containers: Array<{ resources?: { limits?: { memory?: string } } }> } } };
  };
  if (!crd || !configMap?.data['config.yaml']) throw new Error('the chart rendered no Report CRD or no config.yaml');
  const webhookConfig = parse(configMap.data['config.yaml']) as Record<string, unknown>;
  const memoryLimit = deploymentDoc?.spec.template.spec.containers[0]?.resources?.limits?.memory ?? 'none';

  await waitForQuiet();
  const loadBefore = load();
  log(`starting the control plane (load ${loadBefore})`);
  // Room for thousands of ClusterIPs (the harness's /24 has 254), and a controller manager that is not held to
  // client-go's 20 requests/s while it makes thousands of ReplicaSets and Pods.
  const range = '--service-cluster-ip-range=10.96.0.0/16';
  const cp = await startControlPlane({
    apiServerArgs: [range],
    controllerManagerArgs: [range, '--kube-api-qps=200', '--kube-api-burst=400'],
    log,
  });
  // Registered with the harness: removed on a signal too, and by the next run after a SIGKILL.
  const work = makeTempDir('gracekeeper-cluster-scan');
  let webhook: RunningWebhook | undefined;
  try {
    const ext = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd as never });
    await waitFor(
      'the Report CRD to be established',
      async () => ((await ext.readCustomResourceDefinition({ name: crd.metadata.name })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined),
      { timeoutMs: 60_000 },
    );
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    for (const name of namespaces) await core.createNamespace({ body: { metadata: { name, labels: { [MODE_LABEL]: 'enforce' } } } });

    const objects = planned.flatMap((w) => w.objects);
    const createStart = performance.now();
    await createAll(objects, KubernetesObjectApi.makeApiClient(cp.kubeConfig), Date.now() + 30 * 60_000);
    const createMs = performance.now() - createStart;
    log(`created ${objects.length} objects in ${seconds(createMs)} s`);

    // The controllers' ReplicaSets and Pods, as a cluster that already runs has them.
    const get = kubeConfigGet(cp.kubeConfig, 60_000);
    const deployments = plan.byKind.Deployment ?? 0;
    const settleStart = performance.now();
    let last = '';
    await waitFor(
      `${deployments} ReplicaSets and ${plan.pods} Pods`,
      async () => {
        const [rs, pods] = [await count(get, '/apis/apps/v1/replicasets'), await count(get, '/api/v1/pods')];
        const now = `${rs} ReplicaSets, ${pods} Pods`;
        if (now !== last) log(`controllers: ${now}`);
        last = now;
        return rs >= deployments && pods >= plan.pods ? true : undefined;
      },
      { timeoutMs: 30 * 60_000, intervalMs: 10_000, watch: [...cp.processes] },
    );
    const settleMs = performance.now() - settleStart;
    const counts: Record<string, number> = {};
    for (const [key, path] of [
      ['replicasets', '/apis/apps/v1/replicasets'],
      ['pods', '/api/v1/pods'],
      ['services', '/api/v1/services'],
      ['pvcs', '/api/v1/persistentvolumeclaims'],
      ['jobs', '/apis/batch/v1/jobs'],
    ] as const) {
      counts[key] = await count(get, path);
    }
    log(`cluster: ${JSON.stringify(counts)}`);

    const cli: CliRun[] = [];
    for (let n = 1; n <= RUNS; n++) {
      const r = await runCli(cp.kubeconfigPath, work, n);
      log(`audit --cluster run ${n}: ${seconds(r.wallMs)} s wall, ${seconds(r.cpuMs)} s CPU, peak ${r.peakRssMb.toFixed(1)} MB, exit ${r.exitCode}, ${JSON.stringify(r.summary)}`);
      if (r.stderr.trim()) log(`its stderr: ${r.stderr.trim().slice(0, 300)}`);
      if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`audit --cluster failed (exit ${r.exitCode}): ${r.stderr.slice(0, 500)}`);
      cli.push(r);
    }

    // A new CRD's storage answers 429 "storage is (re)initializing" for a while; a scan that meets it waits for the
    // next resync. Start the webhook once reports can be listed, as in a cluster where the CRD was installed earlier.
    await waitFor(
      'reports to be listable',
      async () => ((await get('/apis/openreports.io/v1alpha1/reports?limit=1')).status === 200 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const measured = await measureBackgroundScan(cp, webhookConfig, namespaces.length);
    webhook = measured.webhook;
    const outcome: Outcome = {
      build: opts['build-label'] ?? execFileSync('git', ['describe', '--always', '--dirty'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(),
      machine: describeMachine(),
      loadBefore,
      loadAfter: load(),
      plan,
      counts,
      createMs,
      settleMs,
      objectsCreated: objects.length,
      cli,
      scan: measured.result,
      memoryLimit,
      nodeFlags: productionNodeFlags(REPO_ROOT).join(' '),
      durationMs: Date.now() - began,
    };
    const text = markdown(outcome);
    mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
    const json = join(REPO_ROOT, 'bench', 'out', 'cluster-scan.json');
    writeFileSync(json, `${JSON.stringify(outcome, null, 2)}\n`);
    process.stdout.write(`${text}\n`);
    if (!opts['no-write']) log(`written to ${writeSection(text)} and ${json}`);
    else log(`--no-write: bench/RESULTS.md unchanged; ${json}`);
  } finally {
    await webhook?.stop();
    await cp.stop();
    removeTempDir(work);
    releaseHeavy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`cluster-scan: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
    // The exit hooks of test/cluster/processes.ts stop whatever is still running.
    process.exit(1);
  },
);

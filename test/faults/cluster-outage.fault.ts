/**
 * Cluster view outage. Lookups must never block a review: while the API server is unreachable or hung, the
 * webhook keeps answering within 100 ms from its cache or with "cannot tell" warnings (never a denial for
 * missing information), stays ready, and reports the state in /readyz and gracekeeper_cluster_view_state;
 * when the API server answers again the view recovers to synced.
 *
 *   1. unreachable from the start: --kubeconfig points at a closed loopback port (runs anywhere);
 *   2. a real kube-apiserver (test/cluster harness; skipped with a note when its binaries are not built):
 *      hung at start (SIGSTOP before the webhook starts, SIGCONT later), hung mid-run under load, then
 *      stopped mid-run under load and started again on the same port and etcd.
 *
 *   npm run build && node --import @tapjs/typescript/import test/faults/cluster-outage.fault.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBinDir, startControlPlane, type ControlPlane } from '../cluster/controlPlane.js';
import { ManagedProcess, freePort, makeTempDir, sleep, waitFor } from '../cluster/processes.js';
import { startWebhook, type RunningWebhook } from '../cluster/webhook.js';
import { metricValue, runFault, type FaultReport } from './lib/fault.js';
import { Load, formatCounts } from './lib/load.js';
import { fixtureReview, learnExpected, reviewCase, type ReviewCase } from './lib/reviews.js';

const LATENCY_BOUND_MS = 100;
const RATE = 40;
const RESYNC_S = 5;

/** A Deployment whose rules need the PVC cache (rwo-volume-shared-by-replicas) and the Service cache. */
function lookupReview(): Record<string, unknown> {
  const review = fixtureReview('deployment-create-proxy') as { request: { object: { spec: { template: { spec: Record<string, unknown[]> } } } } };
  const pod = review.request.object.spec.template.spec;
  pod.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'shop-data' } }];
  (pod.containers![0] as Record<string, unknown>).volumeMounts = [{ name: 'data', mountPath: '/data' }];
  return review as unknown as Record<string, unknown>;
}

async function viewState(webhook: RunningWebhook): Promise<string | undefined> {
  const metrics = (await webhook.health('/metrics')).body;
  for (const state of ['disabled', 'syncing', 'synced', 'degraded']) {
    if (metricValue(metrics, 'gracekeeper_cluster_view_state', { state }) === 1) return state;
  }
  return undefined;
}

async function waitForState(webhook: RunningWebhook, state: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(`cluster view ${state}`, async () => ((await viewState(webhook)) === state ? true : undefined), { timeoutMs, intervalMs: 200 });
  return Date.now() - started;
}

async function readyz(webhook: RunningWebhook): Promise<{ status: number; clusterView?: string }> {
  const r = await webhook.health('/readyz');
  return { status: r.status, clusterView: (JSON.parse(r.body) as { checks?: { clusterView?: string } }).checks?.clusterView };
}

function signalGroup(p: ManagedProcess, signal: NodeJS.Signals): void {
  if (p.running) process.kill(-p.pid!, signal);
}

async function unreachableFromStart(report: FaultReport): Promise<void> {
  const dir = makeTempDir('gracekeeper-outage');
  const port = await freePort(); // nothing listens here
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'gone', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'c', context: { cluster: 'gone', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  const webhook = await startWebhook({ clusterView: { kubeconfigPath: kubeconfig } as ControlPlane, config: { clusterView: { resyncSeconds: RESYNC_S } } });
  try {
    const state = await waitForState(webhook, 'degraded', 20_000).then(() => 'degraded', () => 'not degraded');
    const ready = await readyz(webhook);
    report.figure('unreachable: /readyz', ready);
    report.check('unreachable at start: reported degraded, still ready', state === 'degraded' && ready.status === 200 && ready.clusterView === 'degraded', `metric ${state}, /readyz ${ready.status} ${ready.clusterView}`);

    const cases = [reviewCase('validate deployment with a PVC', '/validate', lookupReview()), reviewCase('mutate pod', '/mutate', fixtureReview('pod-create-proxy'))];
    await learnExpected(webhook.baseUrl, webhook.ca.certPem, cases);
    const warned = /cannot tell|has not synced|could not be loaded/.test(cases[0]!.expected ?? '');
    report.check('unreachable at start: lookups answer "cannot tell" as a warning', warned, warned ? 'warning present' : `answer: ${cases[0]!.expected?.slice(0, 300)}`);

    const load = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases, concurrency: 2, ratePerSecond: RATE });
    load.start();
    await sleep(1000); // warm-up: the first requests pay for JIT compilation
    const from = Date.now();
    await sleep(5000);
    await load.stop();
    const counts = load.counts(from);
    report.figure('unreachable: load after a 1 s warm-up', formatCounts(counts));
    report.check('unreachable at start: every request answered the same, none failed', counts.failed === 0 && counts.completed > 0, `${counts.failed} failed of ${counts.accepted}`);
    report.check(`unreachable at start: answered within ${LATENCY_BOUND_MS} ms`, counts.latencyMs.p99 < LATENCY_BOUND_MS, `p99 ${counts.latencyMs.p99.toFixed(1)} ms, max ${counts.latencyMs.max.toFixed(1)} ms`);
  } finally {
    await webhook.stop();
  }
}

async function realApiServer(report: FaultReport, cp: ControlPlane): Promise<void> {
  const apiserver = cp.processes.find((p) => p.name === 'kube-apiserver')!;

  // Hung at start: the webhook boots while the API server accepts connections but never answers.
  signalGroup(apiserver, 'SIGSTOP');
  let webhook: RunningWebhook;
  try {
    webhook = await startWebhook({ clusterView: cp, config: { clusterView: { resyncSeconds: RESYNC_S } }, readyTimeoutMs: 40_000 });
  } catch (e) {
    signalGroup(apiserver, 'SIGCONT');
    throw e;
  }
  try {
    const atStart = await viewState(webhook);
    const ready = await readyz(webhook);
    report.figure('hung at start: state when ready', atStart);
    report.check('hung at start: ready and answering', ready.status === 200, `/readyz ${ready.status}, clusterView ${ready.clusterView}`);
    const startCase = reviewCase('validate deployment with a PVC', '/validate', lookupReview());
    await learnExpected(webhook.baseUrl, webhook.ca.certPem, [startCase]);
    report.check('hung at start: answered with a lookup warning', /cannot tell|not synced|could not be loaded|stale/.test(startCase.expected ?? ''), startCase.expected?.slice(0, 200) ?? '');
    signalGroup(apiserver, 'SIGCONT');
    const recoverMs = await waitForState(webhook, 'synced', 60_000).catch(() => undefined);
    report.figure('hung at start: synced after SIGCONT ms', recoverMs ?? null);
    report.check('hung at start: recovers when the API server answers', recoverMs !== undefined, `synced after ${recoverMs ?? 'never (60 s)'} ms`);

    // Mid-run: steady load; hang the API server, then let it go.
    const validate = reviewCase('validate deployment with a PVC', '/validate', lookupReview());
    await learnExpected(webhook.baseUrl, webhook.ca.certPem, [validate]);
    const allowed = JSON.parse(validate.expected!).response.allowed as boolean;
    validate.accept = (r) => (r.allowed === allowed ? undefined : `allowed ${r.allowed} while synced it was ${allowed}: ${r.status?.message ?? ''}`);
    const cases: ReviewCase[] = [validate];
    const load = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases, concurrency: 2, ratePerSecond: RATE });
    load.start();
    await sleep(2000);
    const hungAt = Date.now();
    signalGroup(apiserver, 'SIGSTOP');
    const degradedMs = await waitForState(webhook, 'degraded', 60_000).catch(() => undefined);
    const duringReady = await readyz(webhook);
    await sleep(3000);
    const released = Date.now();
    signalGroup(apiserver, 'SIGCONT');
    const syncedMs = await waitForState(webhook, 'synced', 90_000).catch(() => undefined);
    await sleep(2000);
    const counts = await load.stop();
    const during = load.counts(hungAt, released);

    report.figure('mid-run: degraded after ms', degradedMs ?? null);
    report.figure('mid-run: synced again after ms', syncedMs ?? null);
    report.figure('mid-run: load while hung', formatCounts(during));
    report.figure('mid-run: load overall', formatCounts(counts));
    if (counts.failures.length > 0) report.figure('mid-run: first failures', counts.failures);
    report.check('mid-run: hang detected and reported (metric, /readyz)', degradedMs !== undefined && duringReady.clusterView === 'degraded' && duringReady.status === 200, `degraded after ${degradedMs ?? 'never'} ms; /readyz ${duringReady.status} ${duringReady.clusterView}`);
    report.check('mid-run: recovers when the API server answers', syncedMs !== undefined, `synced after ${syncedMs ?? 'never'} ms`);
    report.check('mid-run: no request failed', counts.failed === 0 && counts.completed > 0, `${counts.failed} failed of ${counts.accepted}`);
    report.check(`mid-run: answered within ${LATENCY_BOUND_MS} ms while hung`, during.completed > 0 && during.latencyMs.p99 < LATENCY_BOUND_MS, `${during.completed} answers, p99 ${during.latencyMs.p99.toFixed(1)} ms, max ${during.latencyMs.max.toFixed(1)} ms`);

    await apiServerDown(report, cp, apiserver, webhook, validate);
  } finally {
    signalGroup(apiserver, 'SIGCONT');
    await webhook.stop();
  }
}

/** The kube-apiserver process ends (connections refused), then a new one starts on the same port and etcd. */
async function apiServerDown(report: FaultReport, cp: ControlPlane, apiserver: ManagedProcess, webhook: RunningWebhook, validate: ReviewCase): Promise<void> {
  const load = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases: [validate], concurrency: 2, ratePerSecond: RATE });
  load.start();
  await sleep(1000);
  const downAt = Date.now();
  await apiserver.stop(10_000);
  let restarted: ManagedProcess | undefined;
  try {
    const degradedMs = await waitForState(webhook, 'degraded', 60_000).catch(() => undefined);
    const duringReady = await readyz(webhook);
    await sleep(3000);
    const [command, ...args] = apiserver.child.spawnargs;
    restarted = new ManagedProcess('kube-apiserver', command!, args, { logPath: `${apiserver.logPath}.restarted` });
    await waitFor('the restarted API server', async () => ((await cp.get('/readyz')).status === 200 ? true : undefined), { timeoutMs: 60_000, watch: [restarted] });
    const upAt = Date.now();
    const syncedMs = await waitForState(webhook, 'synced', 90_000).catch(() => undefined);
    await sleep(1000);
    await load.stop();
    const counts = load.counts();
    const during = load.counts(downAt, upAt);
    report.figure('down: degraded after ms', degradedMs ?? null);
    report.figure('down: API server down for ms', upAt - downAt);
    report.figure('down: synced after the restart ms', syncedMs ?? null);
    report.figure('down: load while down', formatCounts(during));
    if (counts.failures.length > 0) report.figure('down: first failures', counts.failures);
    report.check('down: reported (metric, /readyz) and still ready', degradedMs !== undefined && duringReady.status === 200 && duringReady.clusterView === 'degraded', `degraded after ${degradedMs ?? 'never'} ms; /readyz ${duringReady.status} ${duringReady.clusterView}`);
    report.check('down: recovers after the restart', syncedMs !== undefined, `synced ${syncedMs ?? 'never (90 s)'} ms after the API server was ready again`);
    report.check('down: no request failed', counts.failed === 0 && during.completed > 0, `${counts.failed} failed of ${counts.accepted}; ${during.completed} answered while down`);
    report.check(`down: answered within ${LATENCY_BOUND_MS} ms while down`, during.latencyMs.p99 < LATENCY_BOUND_MS, `p99 ${during.latencyMs.p99.toFixed(1)} ms, max ${during.latencyMs.max.toFixed(1)} ms`);
  } finally {
    await load.stop();
    await restarted?.stop(10_000);
  }
}

runFault('cluster-view-outage', 300_000, async (report) => {
  await unreachableFromStart(report);
  let binDir: string | undefined;
  try {
    binDir = resolveBinDir();
  } catch (e) {
    report.figure('real API server part', `not run: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!binDir) return;
  const cp = await startControlPlane({ binDir, controllerManager: false });
  try {
    await realApiServer(report, cp);
  } finally {
    await cp.stop();
  }
});

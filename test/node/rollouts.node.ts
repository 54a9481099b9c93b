/**
 * Issue 11: the seeds' rollouts on a real node (kubelet, containerd, kube-proxy, scheduler at the
 * control plane's version), counting the requests each loses, without Gracekeeper (namespace not opted
 * in) and with it (enforce). Assertions are counts: with Gracekeeper no request fails in any rollout;
 * without it some do (scenarios 1 and 2). The table goes to bench/ROLLOUTS.md.
 *
 * GRACEKEEPER_NODE_ROLLOUTS (default 3) sets the rollouts per case.
 */
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { AppsV1Api, BatchV1Api, CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { REPO_ROOT } from '../cluster/controlPlane.js';
import { startNode } from '../cluster/node.js';
import type { RealNode } from '../cluster/node.js';
import { ManagedProcess, sleep, waitFor } from '../cluster/processes.js';
import { SERVED_LABELS, createNamespace, denied, webhookConfig } from '../cluster/suite.js';
import type { Suite } from '../cluster/suite.js';
import { registerWebhooks, startWebhook } from '../cluster/webhook.js';
import type { Registration, RunningWebhook } from '../cluster/webhook.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';
import { measureRollout, waitRolledOut } from './lib/rollout.js';
import { addCounts, renderTable, writeReport } from './lib/report.js';
import type { Row } from './lib/report.js';
import { DB_HOST, DB_PORT, databaseWithoutEnv, jobWithProxy, seed000, seed002, seed003, service } from './lib/seeds.js';
import type { LoadOptions } from './lib/load.js';

t.setTimeout(Math.max(CLUSTER_FILE_TIMEOUT_MS, 45 * 60_000));

const ROLLOUTS = Number(process.env.GRACEKEEPER_NODE_ROLLOUTS ?? 3);
/** GRACEKEEPER_NODE_ONLY=1,4 runs only those scenarios (while working on them; CI runs all). */
const ONLY = process.env.GRACEKEEPER_NODE_ONLY?.split(',');
/** GRACEKEEPER_NODE_CASES=native runs only the rollout cases whose strategy contains it ('-': the unprotected ones). */
const CASES = process.env.GRACEKEEPER_NODE_CASES;
const scenario = (n: number, name: string, fn: (t: Test) => Promise<void>): void => {
  if (!ONLY || ONLY.includes(String(n))) t.test(`scenario ${n}: ${name}`, fn);
};
const LOAD: LoadOptions = { ratePerSecond: 40, maxRequests: 40 * 240, maxMs: 240_000, timeoutMs: 5000 };
/** Timings set explicitly (the app drains in milliseconds; 10 s keeps each old Pod's shutdown short). */
const TIMINGS = { appPreStopSeconds: 5, drainSeconds: 10, proxyShutdownSeconds: 5 };
const OBSERVE_MS = 30_000;
const started = Date.now();

const rows: Row[] = [];
const others: string[] = [];
const facts: string[] = [];

let node: RealNode;
let webhook: RunningWebhook | undefined;
let registration: Registration | undefined;
let suite: Suite;

let webhookKey = '';

/** Run the webhook with this policy (and a live view of the cluster, or none) and point the configurations at it. */
async function useWebhook(policy: Record<string, unknown>, clusterView: boolean): Promise<void> {
  const key = JSON.stringify([policy, clusterView]);
  if (key === webhookKey) return;
  webhookKey = key;
  const previous = webhook;
  webhook = await startWebhook({ ...(clusterView ? { clusterView: node.cp } : {}), config: webhookConfig({ timings: TIMINGS, ...policy }) });
  registration = await registerWebhooks(node.cp, webhook, { replace: registration !== undefined });
  await previous?.stop();
  suite = { ...suite, webhook, registration };
  await waitForWebhook();
}

/**
 * The API server calls the webhook just started (the previous one is stopped): a dry-run Pod comes back
 * mutated. The Pod uses the -alpine app image, which every policy here can fix (with kubelets
 * taken as 1.28 an image without a shell gets no drain delay, and the webhook leaves such a Pod alone).
 */
async function waitForWebhook(): Promise<void> {
  const namespace = 'gracekeeper-probe';
  if (!(await suite.core.readNamespace({ name: namespace }).then(() => true, () => false))) await createNamespace(suite, namespace, 'enforce');
  const pod: V1Pod = {
    metadata: { name: 'probe', labels: { ...SERVED_LABELS } }, // createNamespace's Service routes to it
    spec: { containers: [{ name: 'app', image: node.images.appAlpine, ports: [{ containerPort: 8080 }] }] },
  };
  await waitFor(
    'the webhook just started to be called (dry-run Pod mutated)',
    async () => {
      const mutated = await suite.core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' });
      const app = mutated.spec?.containers[0];
      return app?.readinessProbe || app?.lifecycle?.preStop ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, watch: webhook?.process ? [webhook.process] : [] },
  );
}

async function podsOf(namespace: string, app: string): Promise<V1Pod[]> {
  return (await suite.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** A fresh namespace with the Deployment and its Service, rolled out; returns the ClusterIP. */
async function deploy(namespace: string, mode: 'enforce' | undefined, d: V1Deployment): Promise<string> {
  await createNamespace(suite, namespace, mode);
  const name = d.metadata!.name!;
  // The Service first, as users apply it: the webhook adds drain delays and probes where a Service routes traffic.
  const svc = await suite.core.createNamespacedService({ namespace, body: service(name) });
  await suite.apps.createNamespacedDeployment({ namespace, body: d });
  await waitRolledOut(node.cp.kubeConfig, namespace, name);
  return svc.spec!.clusterIP!;
}

/** `rollouts` measured rollout restarts of one case; one row per client. */
async function runCase(
  tt: Test,
  c: { scenario: string; strategy: string; gk: 'with' | 'without'; namespace: string; deployment: V1Deployment; check?: (pod: V1Pod) => void },
): Promise<Row[]> {
  if (CASES && !c.strategy.includes(CASES)) return [];
  const name = c.deployment.metadata!.name!;
  const clusterIp = await deploy(c.namespace, c.gk === 'with' ? 'enforce' : undefined, c.deployment);
  const [pod] = await podsOf(c.namespace, name);
  c.check?.(pod!);
  // Settle: a Pod without a readiness probe counts as ready before its app listens (seed 002); those
  // failures belong to the first deploy, not to a rollout.
  await sleep(3000);
  const mk = (client: Row['client']): Row => ({ scenario: c.scenario, strategy: c.strategy, gracekeeper: c.gk, client, rollouts: 0, sent: 0, failed: 0, durations: [], reasons: {} });
  const svcRow = mk('ClusterIP');
  const ingRow = mk('ingress-like');
  for (let i = 1; i <= ROLLOUTS; i++) {
    const m = await measureRollout(node.cp.kubeConfig, c.namespace, name, clusterIp, LOAD);
    for (const [row, counts] of [[svcRow, m.service], [ingRow, m.ingress]] as const) {
      row.rollouts++;
      row.durations.push(m.durationS);
      addCounts(row, counts);
    }
    tt.comment(`${c.scenario} ${c.strategy} ${c.gk}: rollout ${i} (restart at ${new Date(m.t0).toISOString()}): ${m.durationS.toFixed(1)} s; ClusterIP ${m.service.failed}/${m.service.sent} failed, ingress-like ${m.ingress.failed}/${m.ingress.sent} failed ${JSON.stringify({ ...m.service.reasons, ...m.ingress.reasons })}`);
    const when = (f: { at: number; reason: string }[]): string =>
      f.slice(0, 12).map((x) => `+${((x.at - m.t0) / 1000).toFixed(2)}s ${x.reason}`).join(', ');
    if (m.service.failed) tt.comment(`  ClusterIP failures: ${when(m.service.failures)}`);
    if (m.ingress.failed) tt.comment(`  ingress-like failures: ${when(m.ingress.failures)}`);
    if (c.gk === 'with' && m.service.failed + m.ingress.failed > 0) {
      // For diagnosis: the EndpointSlices around the failures (ready and serving-terminating endpoints).
      const all = [...m.service.failures, ...m.ingress.failures].map((f) => f.at);
      const [from, to] = [Math.min(...all) - 3000, Math.max(...all) + 1000];
      const seen = m.slices.filter((e) => e.at >= from && e.at <= to);
      tt.comment(`  EndpointSlices then: ${seen.map((e) => `+${((e.at - m.t0) / 1000).toFixed(2)}s ${e.slices} slices, ${e.ready} ready, ${e.servingTerminating} serving-terminating`).join('; ')}`);
    }
    if (c.gk === 'with') {
      tt.equal(m.service.failed, 0, `rollout ${i}: no request through the ClusterIP failed (${m.service.sent} sent)`);
      tt.equal(m.ingress.failed, 0, `rollout ${i}: no request through the ingress-like client failed (${m.ingress.sent} sent)`);
    }
    tt.ok(m.service.sent > 0 && m.ingress.sent > 0, `rollout ${i}: both clients sent requests`);
  }
  if (c.gk === 'without') {
    tt.ok(svcRow.failed > 0, `without Gracekeeper the ClusterIP client lost requests: ${svcRow.failed} of ${svcRow.sent}`);
    tt.ok(ingRow.failed > 0, `without Gracekeeper the ingress-like client lost requests: ${ingRow.failed} of ${ingRow.sent}`);
  }
  rows.push(svcRow, ingRow);
  await suite.core.deleteNamespace({ name: c.namespace });
  return [svcRow, ingRow];
}

const proxyOf = (pod: V1Pod) => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === 'cloud-sql-proxy');

t.before(async () => {
  node = await startNode({ log: (m) => t.comment(m) });
  const db = new ManagedProcess('dbserver', node.images.dbserver, [`--listen=${DB_HOST}:${DB_PORT}`], {
    logPath: join(node.cp.dir, 'dbserver.log'),
    env: { QUERY_MS: '30' },
  });
  t.teardown(() => db.stop());
  const kc = node.cp.kubeConfig;
  suite = {
    cp: node.cp,
    webhook: undefined as unknown as RunningWebhook,
    registration: undefined as unknown as Registration,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
  const n = await suite.core.readNode({ name: node.nodeName });
  facts.push(
    `cluster ${node.cp.version}; node ${node.nodeName}: kubelet ${n.status?.nodeInfo?.kubeletVersion}, ${n.status?.nodeInfo?.containerRuntimeVersion}, kube-proxy iptables mode, cgroup v1 (cgroupfs)`,
    `load: ${LOAD.ratePerSecond} requests/s from each client (ClusterIP: a new connection per request; ingress-like: keep-alive to Pod IPs from the EndpointSlices) during each \`rollout restart\`, from 2 s before it until 1 s after the last old Pod is gone`,
    `app: each request is a round trip to the database (30 ms) through the proxy on localhost; webhook timings ${JSON.stringify(TIMINGS)}; ${ROLLOUTS} rollouts per case`,
  );
});

t.teardown(async () => {
  await webhook?.stop();
  // Only a run of every scenario writes the table (a narrowed run would overwrite it with a part).
  if (rows.length > 0 && !ONLY && !CASES) {
    others.push(`Run time of the suite: ${((Date.now() - started) / 1000).toFixed(0)} s (node start included).`);
    writeReport(join(REPO_ROOT, 'bench', 'ROLLOUTS.md'), rows, facts, others);
  }
  await node?.stop();
});

scenario(1, 'seed 000 (app + cloud-sql-proxy sidecar, no preStop, 3 replicas), rollout restart', async (t) => {
  await useWebhook({ proxy: { strategy: 'native-sidecar' } }, true);
  const images = node.images;
  await runCase(t, { scenario: '1 seed 000', strategy: '-', gk: 'without', namespace: 's1-without', deployment: seed000('shop', images) });
  await runCase(t, {
    scenario: '1 seed 000',
    strategy: 'native-sidecar',
    gk: 'with',
    namespace: 's1-native',
    deployment: seed000('shop', images),
    check: (pod) => t.equal(pod.spec?.initContainers?.find((c) => c.name === 'cloud-sql-proxy')?.restartPolicy, 'Always', 'the proxy runs as a native sidecar'),
  });
  await useWebhook({ proxy: { strategy: 'prestop' } }, true);
  await runCase(t, {
    scenario: '1 seed 000',
    strategy: 'prestop: sleep action (kubelet 1.37)',
    gk: 'with',
    namespace: 's1-sleep',
    deployment: seed000('shop', images),
    check: (pod) => t.ok(proxyOf(pod)?.lifecycle?.preStop?.sleep?.seconds, `the proxy has a preStop sleep action: ${JSON.stringify(proxyOf(pod)?.lifecycle)}`),
  });
  // Kubelets believed older than 1.30 (no view of the cluster, policy.kubernetesVersion 1.28): no sleep action, no
  // native sidecar; the -alpine images get preStop exec [sleep, N], the distroless proxy CSQL_PROXY_MIN_SIGTERM_DELAY.
  await useWebhook({ proxy: { strategy: 'prestop' }, kubernetesVersion: '1.28' }, false);
  await runCase(t, {
    scenario: '1 seed 000',
    strategy: 'prestop: exec sleep (-alpine proxy, kubelets taken as 1.28)',
    gk: 'with',
    namespace: 's1-exec',
    deployment: seed000('shop', { app: images.appAlpine, proxy: images.proxyAlpine }),
    check: (pod) => {
      t.match(proxyOf(pod)?.lifecycle?.preStop?.exec?.command, ['sleep'], 'the -alpine proxy has preStop exec [sleep, N]');
      t.match(pod.spec?.containers.find((c) => c.name === 'app')?.lifecycle?.preStop?.exec?.command, ['sleep'], 'the -alpine app has preStop exec [sleep, N]');
    },
  });
  await runCase(t, {
    scenario: '1 seed 000',
    strategy: 'prestop: CSQL_PROXY_MIN_SIGTERM_DELAY (distroless proxy, kubelets taken as 1.28)',
    gk: 'with',
    namespace: 's1-env',
    deployment: seed000('shop', { app: images.appAlpine, proxy: images.proxy }),
    check: (pod) =>
      t.ok(
        proxyOf(pod)?.env?.some((e) => e.name === 'CSQL_PROXY_MIN_SIGTERM_DELAY'),
        `the distroless proxy gets CSQL_PROXY_MIN_SIGTERM_DELAY: ${JSON.stringify(proxyOf(pod)?.env)}`,
      ),
  });
});

scenario(2, 'seed 002 (no readinessProbe, no preStop), rollout restart', async (t) => {
  await useWebhook({}, true);
  await runCase(t, { scenario: '2 seed 002', strategy: '-', gk: 'without', namespace: 's2-without', deployment: seed002('web', node.images.app) });
  await runCase(t, {
    scenario: '2 seed 002',
    strategy: 'default (auto)',
    gk: 'with',
    namespace: 's2-with',
    deployment: seed002('web', node.images.app),
    check: (pod) => t.ok(pod.spec?.containers[0]?.readinessProbe && pod.spec.containers[0].lifecycle?.preStop, 'the app got a readiness probe and a preStop'),
  });
});

scenario(3, 'seed 003 (database server in initContainers)', async (t) => {
  await useWebhook({}, true);
  await createNamespace(suite, 's3-without');
  await suite.apps.createNamespacedDeployment({ namespace: 's3-without', body: seed003('orders', node.images) });
  const [pod] = await waitFor('the seed 003 Pod to exist', async () => ((await podsOf('s3-without', 'orders')).length ? podsOf('s3-without', 'orders') : undefined), { timeoutMs: 30_000 });
  await waitFor(
    'its init container to run',
    async () => {
      const p = await suite.core.readNamespacedPod({ namespace: 's3-without', name: pod!.metadata!.name! });
      return p.status?.initContainerStatuses?.[0]?.state?.running ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
  await sleep(OBSERVE_MS);
  const p = await suite.core.readNamespacedPod({ namespace: 's3-without', name: pod!.metadata!.name! });
  t.equal(p.status?.phase, 'Pending', `without Gracekeeper the Pod is still Pending ${OBSERVE_MS / 1000} s after its init container started`);
  t.ok(p.status?.initContainerStatuses?.[0]?.state?.running, 'the database is still running as an init container');
  t.notOk(p.status?.containerStatuses?.[0]?.state?.running, 'the app never started');
  others.push(`Scenario 3 (seed 003), without Gracekeeper: the Pod stayed in Init (phase ${p.status?.phase}, init container running, app not started) for the whole ${OBSERVE_MS / 1000} s observation window.`);
  await suite.core.deleteNamespace({ name: 's3-without' });

  await createNamespace(suite, 's3-with', 'enforce');
  const refusal = await denied(suite.apps.createNamespacedDeployment({ namespace: 's3-with', body: seed003('orders', node.images) }));
  t.match(refusal?.message, /init-container-never-completes/, 'with Gracekeeper the Deployment is refused at apply');
  others.push(`Scenario 3, with Gracekeeper: refused at apply: "${(refusal?.message ?? 'accepted').replace(/\s+/g, ' ').slice(0, 240)}"`);
  await suite.core.deleteNamespace({ name: 's3-with' });
});

scenario(4, 'a Job with a proxy sidecar', async (t) => {
  await createNamespace(suite, 's4-without');
  await suite.batch.createNamespacedJob({ namespace: 's4-without', body: jobWithProxy('report', node.images) });
  const appDone = await waitFor(
    'the Job app container to finish',
    async () => {
      const pods = (await suite.core.listNamespacedPod({ namespace: 's4-without', labelSelector: 'job=report' })).items;
      const st = pods[0]?.status?.containerStatuses?.find((c) => c.name === 'report')?.state?.terminated;
      return st ? st : undefined;
    },
    { timeoutMs: 90_000 },
  );
  t.equal(appDone.exitCode, 0, 'the Job app ran its queries through the proxy and exited 0');
  await sleep(OBSERVE_MS);
  const job = await suite.batch.readNamespacedJob({ namespace: 's4-without', name: 'report' });
  const pods = (await suite.core.listNamespacedPod({ namespace: 's4-without', labelSelector: 'job=report' })).items;
  t.notOk(job.status?.succeeded, `without Gracekeeper the Job has not completed ${OBSERVE_MS / 1000} s after its app exited`);
  t.ok(pods[0]?.status?.containerStatuses?.find((c) => c.name === 'cloud-sql-proxy')?.state?.running, 'the proxy sidecar keeps the Pod running');
  others.push(`Scenario 4 (Job + proxy sidecar), without Gracekeeper: the app exited 0, the proxy kept running and the Job was not complete ${OBSERVE_MS / 1000} s later.`);
  await suite.core.deleteNamespace({ name: 's4-without' });

  await useWebhook({}, true);
  await createNamespace(suite, 's4-with', 'enforce');
  const t0 = Date.now();
  await suite.batch.createNamespacedJob({ namespace: 's4-with', body: jobWithProxy('report', node.images) });
  await waitFor(
    'the Job to complete',
    async () => ((await suite.batch.readNamespacedJob({ namespace: 's4-with', name: 'report' })).status?.succeeded === 1 ? true : undefined),
    { timeoutMs: 120_000 },
  );
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  t.pass(`with Gracekeeper (proxy as a native sidecar) the Job completed, ${secs} s after it was created`);
  others.push(`Scenario 4, with Gracekeeper: the proxy became a native sidecar and the Job completed ${secs} s after creation.`);
  await suite.core.deleteNamespace({ name: 's4-with' });
});

scenario(5, 'a database image without its required env', async (t) => {
  await useWebhook({}, true);
  await createNamespace(suite, 's5-without');
  await suite.apps.createNamespacedDeployment({ namespace: 's5-without', body: databaseWithoutEnv('db', node.images.postgres) });
  const restarts = await waitFor(
    'the database container to crash-loop',
    async () => {
      const [p] = await podsOf('s5-without', 'db');
      const st = p?.status?.containerStatuses?.[0];
      return st && st.restartCount >= 2 ? st : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  );
  t.ok(restarts.restartCount >= 2, `without Gracekeeper it crash-loops: restartCount ${restarts.restartCount}, last exit ${restarts.lastState?.terminated?.exitCode}`);
  others.push(`Scenario 5 (postgres:16 without POSTGRES_PASSWORD), without Gracekeeper: crash-looping, restartCount ${restarts.restartCount}, last exit code ${restarts.lastState?.terminated?.exitCode}.`);
  await suite.core.deleteNamespace({ name: 's5-without' });
  await createNamespace(suite, 's5-with', 'enforce');
  const refusal = await denied(suite.apps.createNamespacedDeployment({ namespace: 's5-with', body: databaseWithoutEnv('db', node.images.postgres) }));
  t.match(refusal?.message, /database-env-missing/, 'with Gracekeeper it is refused at apply');
  others.push(`Scenario 5, with Gracekeeper: refused at apply: "${(refusal?.message ?? 'accepted').replace(/\s+/g, ' ').slice(0, 240)}"`);
  await suite.core.deleteNamespace({ name: 's5-with' });
});

t.test('results table', async (t) => {
  t.comment(`\n${renderTable(rows)}`);
  if (!ONLY || ONLY.includes('1') || ONLY.includes('2')) t.ok(rows.length > 0, 'rows were measured');
  else t.pass('no rollout scenario was selected');
});

/**
 * In-cluster reports (issue 13, part 2) on a real kube-apiserver + kube-controller-manager: the chart's Report
 * CRD installed, the built webhook started with reports on and signed in as a ServiceAccount holding only the
 * chart's two ClusterRoles. A namespace in enforce with known workloads gets a report with the expected results
 * (Deployments reported once, not through their ReplicaSets and Pods); an unlabelled namespace gets none; an
 * unchanged cluster is never rewritten; a workload fixed, one broken and one deleted show within one resync; the
 * gauge follows; a Service removed (known from the cluster view only) shows too; opting the
 * namespace out removes the report. Then, under openreports/reports-api's own CRD (Go module proxy), a new report
 * is accepted and not rewritten (nothing pruned). Last, two replicas: only the Lease holder scans and writes, and
 * the other takes over when it shuts down; the older wgpolicyk8s.io PolicyReport under the chart's CRD for it; and
 * a Service created shows in its namespace's report after the debounce, with the resync an hour away.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import type { V1ClusterRole, V1CustomResourceDefinition, V1Deployment, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { renderChart } from '../chart/lib/helm.js';
import { upstreamReportCrd } from '../chart/lib/report-crd.js';
import { reportDeployment } from '../helpers/report-workloads.js';
import { startControlPlane, type ControlPlane } from '../cluster/controlPlane.js';
import { makeTempDir, removeTempDir, waitFor } from '../cluster/processes.js';
import { MODE_LABEL, SERVED_LABELS, SERVED_SERVICE, webhookConfig } from '../cluster/suite.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';
import { startWebhook } from '../cluster/webhook.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const RELEASE_NS = 'gracekeeper-system';
const SHOP = 'shop';
const PLAIN = 'plain';
const RESYNC_SECONDS = 10;
/** One resync, plus the debounce and room for a loaded 2-core machine. */
const WITHIN_ONE_RESYNC_MS = (RESYNC_SECONDS + 1 + 15) * 1000;

const cp: ControlPlane = await startControlPlane({ log: (m) => t.comment(m) });
t.teardown(() => cp.stop());
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);

// The chart as a user installs it with the scan on: its CRD and its ClusterRoles, nothing else.
const chart = renderChart({ releaseName: 'gk', namespace: RELEASE_NS, set: { 'reports.enabled': true, 'reports.installCRD': true } });
const crd = chart.find((d) => d.kind === 'CustomResourceDefinition') as unknown as V1CustomResourceDefinition;
await cp.kubeConfig.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
await waitFor(
  'the Report CRD to be established',
  async () => {
    const got = await cp.kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: crd.metadata!.name! });
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  },
  { timeoutMs: 30_000 },
);

await core.createNamespace({ body: { metadata: { name: RELEASE_NS } } });
await core.createNamespacedServiceAccount({ namespace: RELEASE_NS, body: { metadata: { name: 'gk-gracekeeper' } } });
for (const role of chart.filter((d) => d.kind === 'ClusterRole') as unknown as V1ClusterRole[]) {
  await rbac.createClusterRole({ body: role });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: role.metadata!.name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name! },
      subjects: [{ kind: 'ServiceAccount', name: 'gk-gracekeeper', namespace: RELEASE_NS }],
    },
  });
}
// The Role for the Lease that elects the replica that scans, and its binding, as rendered.
await rbac.createNamespacedRole({ namespace: RELEASE_NS, body: chart.find((d) => d.kind === 'Role') as unknown as V1Role });
await rbac.createNamespacedRoleBinding({ namespace: RELEASE_NS, body: chart.find((d) => d.kind === 'RoleBinding') as unknown as V1RoleBinding });
t.comment(`ClusterRoles: ${chart.filter((d) => d.kind === 'ClusterRole').map((d) => d.metadata.name).join(', ')}; Role for the Lease`);

const token = (await core.createNamespacedServiceAccountToken({ name: 'gk-gracekeeper', namespace: RELEASE_NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status
  ?.token;
if (!token) throw new Error('no ServiceAccount token');
const dir = makeTempDir('gracekeeper-reports-e2e');
t.teardown(() => removeTempDir(dir));
const kubeconfigPath = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfigPath,
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: cp.server, 'certificate-authority-data': Buffer.from(cp.ca.certPem).toString('base64') } }],
    users: [{ name: 'gk', user: { token } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'gk' } }],
    'current-context': 'e2e',
  }),
  { mode: 0o600 },
);

// The workloads, before the webhook starts (what "already runs" means). No admission webhook is registered:
// the scan reports on what the cluster holds, whatever admitted it.
const deployment = (name: string, opts: { dropsAllPods?: boolean; probe?: boolean } = {}): V1Deployment =>
  reportDeployment(name, { ...opts, labels: { app: name, ...SERVED_LABELS } });

for (const [name, mode] of [
  [SHOP, 'enforce'],
  [PLAIN, undefined],
] as const) {
  await core.createNamespace({ body: { metadata: { name, labels: mode ? { [MODE_LABEL]: mode } : {} } } });
  await core.createNamespacedService({ namespace: name, body: SERVED_SERVICE });
}
for (const d of [deployment('fixme', { dropsAllPods: true }), deployment('breakme'), deployment('deleteme', { dropsAllPods: true }), deployment('good')]) {
  await apps.createNamespacedDeployment({ namespace: SHOP, body: d });
}
await apps.createNamespacedDeployment({ namespace: PLAIN, body: deployment('unsafe', { dropsAllPods: true }) });
// The controller-manager makes a ReplicaSet and a Pod per Deployment: they must not show up on their own.
await waitFor(
  'the ReplicaSets and Pods of the Deployments in shop',
  async () => {
    const rs = (await apps.listNamespacedReplicaSet({ namespace: SHOP })).items.length;
    const pods = (await core.listNamespacedPod({ namespace: SHOP })).items.length;
    return rs >= 4 && pods >= 4 ? true : undefined;
  },
  { timeoutMs: 60_000 },
);

// The harness's webhook with a live view from the ServiceAccount's kubeconfig; mode off for unlabelled
// namespaces, as the chart's default opt-in mode configures it.
const LEASE = 'gk-gracekeeper-reports';
const startReportingWebhook = () =>
  startWebhook({
    clusterView: { ...cp, kubeconfigPath } as ControlPlane,
    env: { POD_NAMESPACE: RELEASE_NS },
    config: {
      ...webhookConfig(),
      mode: 'off',
      clusterView: { resyncSeconds: 30 },
      reports: { enabled: true, resyncSeconds: RESYNC_SECONDS, debounceSeconds: 1, leaseName: LEASE },
    },
  });
const webhook = await startReportingWebhook();
t.teardown(() => webhook.stop());
t.afterEach((t) => {
  if (!t.passing()) t.comment(`webhook log:\n${webhook.logTail(40)}`);
});

interface Report {
  metadata: { resourceVersion: string; labels: Record<string, string>; annotations: Record<string, string> };
  source: string;
  scope: { kind: string; name: string };
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: Array<{ policy: string; rule: string; result: string; severity: string; scored: boolean; source: string; message: string; resources: Array<{ kind: string; name: string; namespace: string; uid?: string }>; timestamp: { seconds: number } }>;
}

async function readReport(namespace: string): Promise<Report | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({ group: 'openreports.io', version: 'v1alpha1', namespace, plural: 'reports', name: 'gracekeeper' })) as Report;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

const lines = (r: Report | undefined): string[] => (r?.results ?? []).map((x) => `${x.resources[0]?.kind}/${x.resources[0]?.name} ${x.policy} ${x.result}`).sort();

async function metric(name: string, labels: string, of = webhook): Promise<number | undefined> {
  const { body } = await of.health('/metrics');
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((kv) => l.includes(kv)));
  return line ? Number(line.split(' ').at(-1)) : undefined;
}

t.test('a report appears for the namespace in enforce, with the expected results', async (t) => {
  const report = await waitFor('the report in shop', () => readReport(SHOP), { timeoutMs: 60_000, watch: webhook.process ? [webhook.process] : [] });
  t.same(lines(report), ['Deployment/deleteme rollout-drops-all-pods fail', 'Deployment/fixme rollout-drops-all-pods fail']);
  t.same(report.summary, { pass: 2, fail: 2, warn: 0, error: 0, skip: 0 });
  t.equal(report.source, 'gracekeeper');
  t.same(report.scope, { apiVersion: 'v1', kind: 'Namespace', name: SHOP });
  t.equal(report.metadata.labels['app.kubernetes.io/managed-by'], 'gracekeeper');
  t.equal(report.metadata.annotations['gracekeeper.io/workloads'], '4', 'ReplicaSets and Pods are reported through their Deployments');
  const fail = report.results[0]!;
  t.match(fail, { rule: 'rollout-drops-all-pods', severity: 'high', scored: true, source: 'gracekeeper' });
  t.ok(fail.resources[0]!.uid, 'the result names the Deployment by uid');
  t.ok(fail.timestamp.seconds > 0);
  t.equal(await readReport(PLAIN), undefined, 'no report in an unlabelled namespace (opt-in)');
  t.equal(await readReport(RELEASE_NS), undefined);
  t.equal(await metric('gracekeeper_report_findings', `namespace="${SHOP}",rule="rollout-drops-all-pods",action="deny"`), 2);
});

t.test('a full resync of an unchanged cluster writes nothing', async (t) => {
  const before = (await readReport(SHOP))!;
  const scans = (await metric('gracekeeper_report_scans_total', 'scan="full",result="success"')) ?? 0;
  await waitFor(
    'two more full scans',
    async () => (((await metric('gracekeeper_report_scans_total', 'scan="full",result="success"')) ?? 0) >= scans + 2 ? true : undefined),
    { timeoutMs: 3 * WITHIN_ONE_RESYNC_MS },
  );
  t.equal((await readReport(SHOP))!.metadata.resourceVersion, before.metadata.resourceVersion, 'same resourceVersion: not rewritten');
  t.equal(await metric('gracekeeper_report_writes_total', 'operation="update",result="success"'), 0);
});

t.test('a workload fixed, one broken, one deleted: the report follows within one resync', async (t) => {
  const fixed = deployment('fixme');
  await apps.replaceNamespacedDeployment({ name: 'fixme', namespace: SHOP, body: { ...fixed, metadata: { name: 'fixme', namespace: SHOP } } });
  await apps.replaceNamespacedDeployment({ name: 'breakme', namespace: SHOP, body: { ...deployment('breakme', { probe: false }), metadata: { name: 'breakme', namespace: SHOP } } });
  await apps.deleteNamespacedDeployment({ name: 'deleteme', namespace: SHOP });
  const start = Date.now();
  const report = await waitFor(
    'the report to show the changes',
    async () => {
      const r = await readReport(SHOP);
      return r && lines(r).join() === 'Deployment/breakme readiness-probe-missing warn' ? r : undefined;
    },
    { timeoutMs: WITHIN_ONE_RESYNC_MS },
  );
  t.comment(`report followed in ${Date.now() - start} ms`);
  t.same(report.summary, { pass: 2, fail: 0, warn: 1, error: 0, skip: 0 });
  t.match(report.results[0]!.message, /readiness/i);
  t.equal(await metric('gracekeeper_report_findings', `namespace="${SHOP}",rule="rollout-drops-all-pods"`), undefined, 'fixed findings leave the gauge');
  t.equal(await metric('gracekeeper_report_findings', `namespace="${SHOP}",rule="readiness-probe-missing",action="warn"`), 1);
});

t.test('a change the scan does not watch itself (the Service goes) shows too', async (t) => {
  // Services come from the cluster view, not the scan's informers: the view tells the scan (see the last test).
  await core.deleteNamespacedService({ name: SERVED_SERVICE.metadata!.name!, namespace: SHOP });
  const report = await waitFor(
    'the report to drop the readiness finding (no Service routes to breakme any more)',
    async () => {
      const r = await readReport(SHOP);
      return r && r.results.length === 0 ? r : undefined;
    },
    { timeoutMs: WITHIN_ONE_RESYNC_MS },
  );
  t.same(report.summary, { pass: 3, fail: 0, warn: 0, error: 0, skip: 0 }, 'a namespace with nothing to report keeps its report, with pass counts');
});

t.test('the namespace opts out: the report disappears', async (t) => {
  const ns = await core.readNamespace({ name: SHOP });
  ns.metadata!.labels = { ...ns.metadata!.labels, [MODE_LABEL]: 'off' };
  await core.replaceNamespace({ name: SHOP, body: ns });
  await waitFor('the report in shop to be deleted', async () => ((await readReport(SHOP)) === undefined ? true : undefined), { timeoutMs: WITHIN_ONE_RESYNC_MS });
  t.pass('deleted');
  t.equal(await metric('gracekeeper_report_findings', `namespace="${SHOP}"`), undefined, 'and its gauge series');
  t.notOk(/report write failed|report scan failed/.test(webhook.logTail(400)), 'no failed writes or scans in the log');
});

t.test("under openreports/reports-api's own CRD: reports are accepted as written and not rewritten", async (t) => {
  // What a cluster with Policy Reporter or Kyverno has: the upstream CRD, not the chart's.
  const extensions = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  const upstream = upstreamReportCrd();
  const current = await extensions.readCustomResourceDefinition({ name: upstream.metadata!.name! });
  await extensions.replaceCustomResourceDefinition({
    name: upstream.metadata!.name!,
    body: { ...upstream, metadata: { name: upstream.metadata!.name!, resourceVersion: current.metadata!.resourceVersion } },
  });
  await core.createNamespace({ body: { metadata: { name: 'shop2', labels: { [MODE_LABEL]: 'enforce' } } } });
  await core.createNamespacedService({ namespace: 'shop2', body: SERVED_SERVICE });
  await apps.createNamespacedDeployment({ namespace: 'shop2', body: deployment('unsafe', { dropsAllPods: true }) });
  await apps.createNamespacedDeployment({ namespace: 'shop2', body: deployment('good') });
  const report = await waitFor(
    'the report in shop2',
    async () => {
      const r = await readReport('shop2');
      return r && r.summary.pass + r.summary.fail === 2 ? r : undefined;
    },
    { timeoutMs: WITHIN_ONE_RESYNC_MS },
  );
  t.same(lines(report), ['Deployment/unsafe rollout-drops-all-pods fail']);
  const scans = (await metric('gracekeeper_report_scans_total', 'scan="full",result="success"')) ?? 0;
  await waitFor(
    'two more full scans',
    async () => (((await metric('gracekeeper_report_scans_total', 'scan="full",result="success"')) ?? 0) >= scans + 2 ? true : undefined),
    { timeoutMs: 3 * WITHIN_ONE_RESYNC_MS },
  );
  t.equal((await readReport('shop2'))!.metadata.resourceVersion, report.metadata.resourceVersion, 'nothing pruned, so nothing to rewrite');
});

t.test('two replicas: only the Lease holder scans; when it stops, the other takes over', async (t) => {
  const lease = async () => (await cp.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace: RELEASE_NS })).spec;
  const first = (await lease())?.holderIdentity;
  t.ok(first, `the first webhook holds the Lease (${first})`);
  const second = await startReportingWebhook();
  t.teardown(() => second.stop());
  const writes = async (of: typeof webhook) => {
    let n = 0;
    for (const op of ['create', 'update', 'delete']) n += (await metric('gracekeeper_report_writes_total', `operation="${op}",result="success"`, of)) ?? 0;
    return n;
  };
  // A change while the first one leads: only it writes.
  await apps.createNamespacedDeployment({ namespace: 'shop2', body: deployment('late', { dropsAllPods: true }) });
  await waitFor('the first webhook to report the new Deployment', async () => (lines(await readReport('shop2')).includes('Deployment/late rollout-drops-all-pods fail') ? true : undefined), {
    timeoutMs: WITHIN_ONE_RESYNC_MS,
  });
  t.equal((await lease())?.holderIdentity, first, 'still the first');
  t.equal(await writes(second), 0, 'the second replica wrote nothing');
  t.equal(await metric('gracekeeper_report_scans_total', 'scan="full",result="success"', second), 0, 'nor scanned');

  // The first one shuts down (SIGTERM): it releases the Lease, the second takes over and follows changes.
  await webhook.kill();
  await waitFor('the second webhook to hold the Lease', async () => {
    const holder = (await lease())?.holderIdentity;
    return holder && holder !== first ? holder : undefined;
  }, { timeoutMs: 30_000 });
  await apps.deleteNamespacedDeployment({ name: 'late', namespace: 'shop2' });
  await waitFor('the second webhook to report the deletion', async () => (lines(await readReport('shop2')).includes('Deployment/late rollout-drops-all-pods fail') ? undefined : true), {
    timeoutMs: WITHIN_ONE_RESYNC_MS,
  });
  t.ok((await writes(second)) > 0, 'the second replica writes now');
  t.match(second.logTail(400), /report scan lease acquired/);
});

t.test('format wgpolicyk8s: a PolicyReport under the chart\'s PolicyReport CRD', async (t) => {
  const polrCrd = renderChart({ releaseName: 'gk', namespace: RELEASE_NS, set: { 'reports.installCRD': true, 'reports.format': 'wgpolicyk8s' } }).find(
    (d) => d.kind === 'CustomResourceDefinition',
  ) as unknown as V1CustomResourceDefinition;
  const extensions = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  await extensions.createCustomResourceDefinition({ body: polrCrd });
  await waitFor('the PolicyReport CRD to be established', async () => {
    const got = await extensions.readCustomResourceDefinition({ name: polrCrd.metadata!.name! });
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  }, { timeoutMs: 30_000 });
  // A webhook of its own (admin credentials, no Lease), writing the older format.
  const older = await startWebhook({
    clusterView: cp,
    config: { ...webhookConfig(), mode: 'off', reports: { enabled: true, format: 'wgpolicyk8s', resyncSeconds: RESYNC_SECONDS, debounceSeconds: 1, leaseName: '' } },
  });
  t.teardown(() => older.stop());
  const polr = (await waitFor(
    'the PolicyReport in shop2',
    async () => {
      try {
        return await custom.getNamespacedCustomObject({ group: 'wgpolicyk8s.io', version: 'v1alpha2', namespace: 'shop2', plural: 'policyreports', name: 'gracekeeper' });
      } catch {
        return undefined;
      }
    },
    { timeoutMs: WITHIN_ONE_RESYNC_MS },
  )) as Report & { apiVersion: string; kind: string };
  t.equal(polr.apiVersion, 'wgpolicyk8s.io/v1alpha2');
  t.equal(polr.kind, 'PolicyReport');
  t.same(lines(polr), ['Deployment/unsafe rollout-drops-all-pods fail']);
  t.equal(polr.results[0]!.source, 'gracekeeper');
  t.notOk('source' in polr, 'no report-level source in the older format');
});

t.test('a Service created (known from the cluster view only) shows after the debounce, not at the next resync', async (t) => {
  // A webhook of its own (admin credentials, no Lease) whose resync is an hour away: only the live view's change
  // can bring the Service into the report while this test waits.
  await core.createNamespace({ body: { metadata: { name: 'traffic', labels: { [MODE_LABEL]: 'enforce' } } } });
  await apps.createNamespacedDeployment({ namespace: 'traffic', body: deployment('web', { probe: false }) });
  const hourly = await startWebhook({
    clusterView: cp,
    config: { ...webhookConfig(), mode: 'off', reports: { enabled: true, resyncSeconds: 3600, debounceSeconds: 1, leaseName: '' } },
  });
  t.teardown(() => hourly.stop());
  const first = await waitFor('the report in traffic', () => readReport('traffic'), { timeoutMs: 60_000 });
  t.same(lines(first), [], 'no Service routes to web yet: no readiness finding');
  t.equal(await metric('gracekeeper_report_scans_total', 'scan="full",result="success"', hourly), 1);

  await core.createNamespacedService({ namespace: 'traffic', body: SERVED_SERVICE });
  const report = await waitFor(
    'the report to gain the readiness finding',
    async () => {
      const r = await readReport('traffic');
      return r && lines(r).join() === 'Deployment/web readiness-probe-missing warn' ? r : undefined;
    },
    { timeoutMs: 60_000 },
  );
  t.match(report.results[0]!.message, /receives traffic from Service 'served'/);
  t.equal(await metric('gracekeeper_report_scans_total', 'scan="full",result="success"', hourly), 1, 'still the first full scan only');
  t.ok(((await metric('gracekeeper_report_scans_total', 'scan="changes",result="success"', hourly)) ?? 0) >= 1, 'a changes scan of the namespace');
});

t.test('a config reload (a rule turned off) rescans every namespace after the debounce, not at the next resync', async (t) => {
  // The only report writer by now (the Lease holders and the other tests' webhooks have stopped), so nothing else
  // rewrites this namespace's report with the rule still on.
  await core.createNamespace({ body: { metadata: { name: 'reloaded', labels: { [MODE_LABEL]: 'enforce' } } } });
  await core.createNamespacedService({ namespace: 'reloaded', body: SERVED_SERVICE });
  await apps.createNamespacedDeployment({ namespace: 'reloaded', body: deployment('unsafe', { dropsAllPods: true }) });
  const config = (policy: Record<string, unknown> = {}) => ({
    ...webhookConfig(policy),
    mode: 'off',
    reports: { enabled: true, resyncSeconds: 3600, debounceSeconds: 1, leaseName: '' },
  });
  const hourly = await startWebhook({ clusterView: cp, config: config() });
  t.teardown(() => hourly.stop());
  const first = await waitFor('the report in reloaded', async () => {
    const r = await readReport('reloaded');
    return r && lines(r).length > 0 ? r : undefined;
  }, { timeoutMs: 60_000 });
  t.same(lines(first), ['Deployment/unsafe rollout-drops-all-pods fail']);

  hourly.writeConfig(config({ rules: { 'rollout-drops-all-pods': 'off' } }));
  const after = await waitFor('the finding of the rule turned off to go', async () => {
    const r = await readReport('reloaded');
    return r && lines(r).length === 0 ? r : undefined;
  }, { timeoutMs: 60_000 });
  t.equal(after.summary.fail, 0, 'the report stays, without the finding');
  t.match(hourly.logTail(200), /config reloaded/);
  t.equal(await metric('gracekeeper_report_scans_total', 'scan="full",result="success"', hourly), 2, 'one full scan at start, one after the reload (the resync is an hour away)');
});

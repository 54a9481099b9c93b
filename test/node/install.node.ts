/**
 * Issue 12: the chart installed as users install it, on the real node (kubelet, containerd, kube-proxy,
 * scheduler): the image built here (scripts/image-build.sh) imported into the node's containerd under the
 * chart's default name, `helm install` with the project's helm, the API server calling the webhook through its
 * Service (ClusterIP, kube-proxy's rules on the node; no URL anywhere).
 *   1. install (certificates.source=helm): both Pods Ready, seed 000 fixed in an opted-in namespace, an unsafe
 *      Deployment refused; at the end, uninstall (webhook configurations first) leaves nothing of the chart;
 *   2. the webhook's own rollout (`rollout restart`, 2 replicas, PDB) under a bounded stream of dry-run Pod
 *      creations: zero failed admissions with failurePolicy Fail, then Ignore (failed = admitted unfixed);
 *   3. certificates.source=secret: the Secret replaced under the same load: zero failed admissions, and the
 *      Service serves the new certificate (its serial, read through the ClusterIP); 3b. the helm source rotated as
 *      values.yaml documents it (Secret deleted, helm upgrade), its refusals measured;
 *   4. Gracekeeper's own live Pods pass its rules (audit --cluster, and the Pods' YAML audited offline).
 * Results: bench/INSTALL.md.
 *
 * The harness's API server listens on 127.0.0.1 only (no endpoints for the `kubernetes` Service, and its
 * certificate does not name that Service's ClusterIP), so nothing in a Pod can reach it: the chart runs with
 * config.clusterView.enabled=false (the webhook then takes kubelets as policy.kubernetesVersion, 1.37).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { parseAllDocuments, stringify } from 'yaml';
import { AdmissionregistrationV1Api, AppsV1Api, BatchV1Api, CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { REPO_ROOT } from '../cluster/controlPlane.js';
import { startNode } from '../cluster/node.js';
import type { RealNode } from '../cluster/node.js';
import { createCA, describeCert } from '../cluster/pki.js';
import type { CertificateAuthority } from '../cluster/pki.js';
import { sleep, waitFor } from '../cluster/processes.js';
import { PROBE_POD, createNamespace, denied } from '../cluster/suite.js';
import type { Suite } from '../cluster/suite.js';
import { CHART_DIR } from '../chart/lib/helm.js';
import { admissionLoad, buildImage, helmRun, percentile, servedSerial, writeInstallReport } from './lib/install.js';
import type { AdmissionCounts, BuiltImage, InstallRow } from './lib/install.js';
import type { LoadOptions } from './lib/load.js';
import { restart } from './lib/rollout.js';
import { seed000, seed003, service } from './lib/seeds.js';

t.setTimeout(40 * 60_000);

const RELEASE = 'gk';
const NS = 'gracekeeper';
const FULL = 'gk-gracekeeper';
const SELECTOR = `app.kubernetes.io/instance=${RELEASE}`;
const SVC_DNS = `${FULL}.${NS}.svc`;
const LOAD_NS = 'gk-load';
/** Admission stream: 20 dry-run Pod creations a second, at most 3 minutes. */
const LOAD: LoadOptions = { ratePerSecond: 20, maxRequests: 20 * 180, maxMs: 180_000, timeoutMs: 15_000, maxInFlight: 200 };
/** No cluster view: nothing in a Pod reaches the harness's API server (see above). */
/** GRACEKEEPER_INSTALL_ROLLOUTS (default 3): measured rollouts of the webhook per failurePolicy. */
const ROLLOUTS = Number(process.env.GRACEKEEPER_INSTALL_ROLLOUTS ?? 3);
const BASE_VALUES = ['--set', 'config.clusterView.enabled=false'];
const started = Date.now();

let node: RealNode;
let image: BuiltImage;
let core: CoreV1Api;
let apps: AppsV1Api;
let admission: AdmissionregistrationV1Api;
let objects: KubernetesObjectApi;
let suite: Suite;
const rows: InstallRow[] = [];
const facts: string[] = [];
const others: string[] = [];

const helm = (args: readonly string[], timeoutMs?: number): Promise<string> => helmRun(node.cp.kubeconfigPath, args, timeoutMs);

/** The Pod the load creates: a serving container without preStop; the webhook adds one (the fix checked). */
const LOAD_POD: V1Pod = PROBE_POD;
const fixed = (p: V1Pod): string | undefined => (p.spec?.containers[0]?.lifecycle?.preStop ? undefined : 'admitted without its fix (no preStop)');

async function chartPods(): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: SELECTOR })).items;
}

/** `helm install --wait`; returns seconds. */
async function install(values: readonly string[]): Promise<number> {
  const t0 = Date.now();
  await helm(['install', RELEASE, CHART_DIR, '-n', NS, '--create-namespace', '--wait', '--timeout', '5m', ...BASE_VALUES, ...values]);
  return (Date.now() - t0) / 1000;
}

/** The API server calls the webhook through the Service: a dry-run Pod in the opted-in namespace comes back fixed. */
async function waitActive(): Promise<void> {
  await waitFor('the webhook to fix a dry-run Pod through its Service', async () => (fixed(await core.createNamespacedPod({ namespace: LOAD_NS, body: LOAD_POD, dryRun: 'All' })) ? undefined : true), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
}

/** The chart's Deployment rolled out: updated and available replicas as asked, no old Pod left. */
async function waitChartRolledOut(timeoutMs = 180_000): Promise<void> {
  await waitFor(
    `Deployment ${NS}/${FULL} rolled out with no old Pod left`,
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace: NS, name: FULL });
      const want = d.spec?.replicas ?? 1;
      const st = d.status ?? {};
      if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return undefined;
      if (st.updatedReplicas !== want || st.availableReplicas !== want || st.replicas !== want) return undefined;
      const pods = await chartPods();
      return pods.length === want && pods.every((p) => !p.metadata?.deletionTimestamp) ? true : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Admission load from 2 s before `action` until 2 s after it resolves; returns the counts and its seconds. */
async function underLoad(check: (p: V1Pod) => string | undefined, action: () => Promise<void>): Promise<{ counts: AdmissionCounts; durationS: number }> {
  const { loop, counts } = admissionLoad(core, LOAD_NS, LOAD_POD, check, LOAD);
  let durationS = 0;
  try {
    await sleep(2000);
    const t0 = Date.now();
    await action();
    durationS = (Date.now() - t0) / 1000;
    await sleep(2000);
  } finally {
    await loop.stop();
  }
  return { counts, durationS };
}

const summary = (c: AdmissionCounts): string =>
  `${c.failed}/${c.sent} failed; latency p50 ${percentile(c.latencies, 50).toFixed(0)} ms, p90 ${percentile(c.latencies, 90).toFixed(0)} ms, p99 ${percentile(c.latencies, 99).toFixed(0)} ms, max ${Math.max(...c.latencies).toFixed(0)} ms ${JSON.stringify(c.reasons)}`;

/** Uninstall as the README says (webhook configurations first), then check with the API that nothing of the chart is left. */
async function uninstallClean(tt: Test): Promise<number> {
  const manifest = await helm(['get', 'manifest', RELEASE, '-n', NS]);
  const made = parseAllDocuments(manifest)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => !!o?.kind);
  const kinds = [...new Set(made.map((o) => o.kind!))];
  for (const k of ['Deployment', 'Service', 'PodDisruptionBudget', 'ConfigMap', 'ServiceAccount', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    tt.ok(kinds.includes(k), `helm made a ${k}`);
  }
  tt.comment(`helm made ${made.length} objects: ${kinds.join(', ')}`);
  const t0 = Date.now();
  await admission.deleteMutatingWebhookConfiguration({ name: FULL });
  await admission.deleteValidatingWebhookConfiguration({ name: FULL });
  await helm(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '3m']);
  const left = await waitFor(
    'every object of the chart, its Pods, ReplicaSets, EndpointSlices and release Secrets to be gone',
    async () => {
      const remaining: string[] = [];
      for (const o of made) {
        const exists = await objects.read({ apiVersion: o.apiVersion!, kind: o.kind!, metadata: { name: o.metadata!.name!, namespace: o.metadata?.namespace } }).then(
          () => true,
          (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)),
        );
        if (exists) remaining.push(`${o.kind}/${o.metadata!.name}`);
      }
      remaining.push(...(await chartPods()).map((p) => `Pod/${p.metadata!.name}`));
      remaining.push(...(await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: SELECTOR })).items.map((r) => `ReplicaSet/${r.metadata!.name}`));
      const slices = await objects.list('discovery.k8s.io/v1', 'EndpointSlice', NS, undefined, undefined, undefined, undefined, `kubernetes.io/service-name=${FULL}`);
      remaining.push(...slices.items.map((s) => `EndpointSlice/${s.metadata!.name}`));
      remaining.push(...(await core.listNamespacedSecret({ namespace: NS, labelSelector: `owner=helm,name=${RELEASE}` })).items.map((s) => `Secret/${s.metadata!.name}`));
      return remaining.length === 0 ? remaining : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  const secs = (Date.now() - t0) / 1000;
  tt.same(left, [], `nothing of the chart is left (${made.length} objects checked one by one, Pods, ReplicaSets, EndpointSlices, release Secrets)`);
  const what = (await core.listNamespacedServiceAccount({ namespace: NS })).items.map((s) => s.metadata!.name);
  tt.same(what, ['default'], 'only the namespace default ServiceAccount is left in the release namespace');
  // No webhook is called any more: a Pod in the opted-in namespace is admitted as sent.
  await waitFor('a dry-run Pod to be admitted unchanged', async () => (fixed(await core.createNamespacedPod({ namespace: LOAD_NS, body: LOAD_POD, dryRun: 'All' })) ? true : undefined), {
    timeoutMs: 30_000,
  });
  tt.pass('with the chart gone, Pods in the opted-in namespace are admitted without a webhook');
  return secs;
}

t.before(async () => {
  node = await startNode({ log: (m) => t.comment(m) });
  // Built (or found in the cache) once the node is up: startNode may wait a long time for another run's node.
  image = buildImage();
  const t0 = Date.now();
  node.containerd.ctr(['images', 'import', image.archive], 300_000);
  const listed = node.containerd.ctr(['images', 'ls', '-q']).split('\n');
  for (const ref of [image.image, image.id]) {
    if (!listed.includes(ref)) throw new Error(`${ref} is not listed by containerd after the import: ${listed.join(', ')}`);
  }
  const importS = (Date.now() - t0) / 1000;
  const kc = node.cp.kubeConfig;
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  admission = kc.makeApiClient(AdmissionregistrationV1Api);
  objects = KubernetesObjectApi.makeApiClient(kc);
  suite = { cp: node.cp, core, apps, batch: kc.makeApiClient(BatchV1Api), objects } as unknown as Suite;
  await createNamespace(suite, LOAD_NS, 'enforce');
  const n = await core.readNode({ name: node.nodeName });
  facts.push(
    `cluster ${node.cp.version}; node ${node.nodeName}: kubelet ${n.status?.nodeInfo?.kubeletVersion}, ${n.status?.nodeInfo?.containerRuntimeVersion}, kube-proxy iptables mode; ${(await helm(['version', '--short'])).trim()}`,
    `image ${image.image} (${image.id.slice(0, 19)}…), built here by scripts/image-build.sh: ${image.node}, ${image.debianPackages.join(', ')}; imported into the node's containerd in ${importS.toFixed(1)} s; pulled by nobody (imagePullPolicy IfNotPresent, the chart's default)`,
    `\`helm install ${RELEASE} charts/gracekeeper -n ${NS} --create-namespace --wait --set config.clusterView.enabled=false\` (the harness's API server is on 127.0.0.1, which no Pod reaches); the API server calls the webhook at Service ${FULL}.${NS}:443 (ClusterIP, kube-proxy iptables)`,
    `load: ${LOAD.ratePerSecond} server-side dry-run Pod creations a second through the API server into namespace ${LOAD_NS} (gracekeeper.io/mode=enforce), from 2 s before the action until 2 s after it ended; a request fails when refused or when its Pod comes back without the fix (a preStop); latency is the client's, per request`,
  );
});

t.teardown(async () => {
  if (rows.length > 0) {
    others.push(`Run time of the suite: ${((Date.now() - started) / 1000).toFixed(0)} s (node start and image import included).`);
    writeInstallReport(join(REPO_ROOT, 'bench', 'INSTALL.md'), rows, facts, others);
  }
  await node?.stop();
});

t.test('scenario 1: helm install (certificates.source=helm); Pods Ready; seed 000 fixed; unsafe refused', async (t) => {
  const secs = await install([]);
  others.push(`Scenario 1: \`helm install --wait\` (source helm) returned after ${secs.toFixed(1)} s.`);
  const pods = await chartPods();
  t.equal(pods.length, 2, 'two webhook Pods');
  for (const p of pods) {
    t.ok(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${p.metadata!.name} is Ready`);
    const st = p.status?.containerStatuses?.[0];
    t.equal(st?.image, image.image, 'runs the image built here');
    // containerd reports the config digest, or the manifest digest it made at import under the repository's name.
    const repo = image.image.replace(/:[^:/]+$/, '');
    t.ok(st?.imageID === image.id || st?.imageID?.startsWith(`${repo}@sha256:`), `image id ${st?.imageID}`);
  }
  const mutating = await admission.readMutatingWebhookConfiguration({ name: FULL });
  const validating = await admission.readValidatingWebhookConfiguration({ name: FULL });
  for (const w of [...(mutating.webhooks ?? []), ...(validating.webhooks ?? [])]) {
    t.same({ url: w.clientConfig.url, service: w.clientConfig.service?.name, ns: w.clientConfig.service?.namespace }, { url: undefined, service: FULL, ns: NS }, `${w.name}: called through the Service`);
  }
  const svc = await core.readNamespacedService({ namespace: NS, name: FULL });
  t.match(svc.spec?.clusterIP, /^198\.18\.(1[2-9]\d|2\d\d)\./, `Service ClusterIP ${svc.spec?.clusterIP} in the node's Service range`);
  await waitActive();

  await createNamespace(suite, 'gk-shop', 'enforce');
  await core.createNamespacedService({ namespace: 'gk-shop', body: service('shop') });
  await apps.createNamespacedDeployment({ namespace: 'gk-shop', body: seed000('shop', node.images) });
  const shopPods = await waitFor(
    'the seed 000 Pods',
    async () => {
      const items = (await core.listNamespacedPod({ namespace: 'gk-shop', labelSelector: 'app=shop' })).items;
      return items.length === 3 ? items : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const spec = shopPods[0]!.spec!;
  const proxy = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === 'cloud-sql-proxy');
  t.equal(proxy?.restartPolicy, 'Always', 'seed 000: the proxy became a native sidecar (kubelet 1.37)');
  t.ok(spec.containers.find((c) => c.name === 'app')?.lifecycle?.preStop, `seed 000: the app got a preStop ${JSON.stringify(spec.containers[0]?.lifecycle)}`);
  t.ok((spec.terminationGracePeriodSeconds ?? 30) >= 30, `grace period ${spec.terminationGracePeriodSeconds}`);
  const refusal = await denied(apps.createNamespacedDeployment({ namespace: 'gk-shop', body: seed003('orders', node.images) }));
  t.match(refusal?.message, /init-container-never-completes/, 'seed 003 (a database in initContainers) is refused at apply');
  others.push(`Scenario 1: seed 000 admitted with the proxy as a native sidecar and the app's preStop ${JSON.stringify(spec.containers[0]?.lifecycle?.preStop)}; seed 003 refused: "${(refusal?.message ?? 'accepted').replace(/\s+/g, ' ').slice(0, 200)}"`);
  await core.deleteNamespace({ name: 'gk-shop' });
});

t.test("scenario 4: Gracekeeper's own live Pods pass its rules", async (t) => {
  const cli = join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const run = (args: string[], input?: string): { status: number; out: string } => {
    try {
      return { status: 0, out: execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] }) };
    } catch (e) {
      const err = e as { status?: number; stdout?: string; stderr?: string };
      return { status: err.status ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  };
  const live = run(['audit', '--cluster', `--kubeconfig=${node.cp.kubeconfigPath}`, '-n', NS, '--output', 'json']);
  t.equal(live.status, 0, 'audit --cluster exits 0');
  const report = JSON.parse(live.out) as { findings: unknown[]; summary: Record<string, unknown> };
  t.same(report.findings, [], `audit --cluster -n ${NS}: no finding (${JSON.stringify(report.summary)})`);
  // The Pods themselves, as the API server stores them (defaults, owner references), with the Service, audited offline.
  const pods = await chartPods();
  const svc = await core.readNamespacedService({ namespace: NS, name: FULL });
  const docs = [...pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', ...p })), { apiVersion: 'v1', kind: 'Service', ...svc }];
  const offline = run(['audit', '--output', 'json', '-'], docs.map((d) => stringify(d)).join('---\n'));
  t.equal(offline.status, 0, 'audit of the live Pods exits 0');
  const offlineReport = JSON.parse(offline.out) as { findings: unknown[]; summary: Record<string, unknown> };
  t.same(offlineReport.findings, [], `the ${pods.length} live Pods: no finding (${JSON.stringify(offlineReport.summary)})`);
  others.push(`Scenario 4: \`gracekeeper audit --cluster -n ${NS}\` and the offline audit of the ${pods.length} live Pods' YAML: no finding.`);
});

t.test("scenario 2: the webhook's own rollout under admission load, failurePolicy Fail then Ignore", async (t) => {
  for (const policy of ['Fail', 'Ignore'] as const) {
    if (policy === 'Ignore') {
      await helm(['upgrade', RELEASE, CHART_DIR, '-n', NS, '--reuse-values', '--wait', '--timeout', '5m', '--set', 'webhooks.failurePolicy.enforce=Ignore']);
      const m = await admission.readMutatingWebhookConfiguration({ name: FULL });
      t.equal(m.webhooks?.find((w) => w.name.startsWith('enforce.'))?.failurePolicy, 'Ignore', 'helm upgrade set failurePolicy Ignore');
      await waitActive();
    }
    for (let i = 1; i <= ROLLOUTS; i++) {
      t.equal((await chartPods()).length, 2, 'two replicas before the rollout');
      const { counts, durationS } = await underLoad(fixed, async () => {
        await restart(apps, NS, FULL);
        await waitChartRolledOut();
      });
      t.comment(`rollout restart ${i}, failurePolicy ${policy}: ${durationS.toFixed(1)} s; ${summary(counts)}`);
      t.ok(counts.sent > 100, `${counts.sent} admissions sent during rollout ${i}`);
      t.equal(counts.failed, 0, `failurePolicy ${policy}, rollout ${i}: no admission failed${policy === 'Ignore' ? ' and none was admitted without its fix' : ''} (${summary(counts)})`);
      rows.push({ scenario: `2 the webhook's own rollout restart ${i} of ${ROLLOUTS} (2 replicas, PDB maxUnavailable 1)`, source: 'helm', failurePolicy: policy, counts, durationS, note: 'duration: restart to the last old Pod gone' });
    }
  }
  const pdb = await objects.read({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: FULL, namespace: NS } });
  t.ok(pdb, 'the PodDisruptionBudget exists');
});

/**
 * The chart's own rotation for certificates.source=helm, as values.yaml documents it ("delete the Secret to rotate"):
 * `helm upgrade` then generates a new CA and serving certificate and writes the new caBundle into the webhook
 * configurations at once, while the Pods serve the old certificate until the kubelet updates their Secret volume and
 * the server reloads it. Measured, not assumed: the failures seen are counted in the table; the test asserts what
 * each failure is (the API server refusing the old certificate) and that admissions work again once the new one is
 * served.
 */
t.test('scenario 3b: certificates.source=helm, the Secret deleted and helm upgrade (the documented rotation) under admission load', async (t) => {
  await helm(['upgrade', RELEASE, CHART_DIR, '-n', NS, '--reuse-values', '--wait', '--timeout', '5m', '--set', 'webhooks.failurePolicy.enforce=Fail']);
  await waitActive();
  const svc = await core.readNamespacedService({ namespace: NS, name: FULL });
  const ip = svc.spec!.clusterIP!;
  const secretName = `${FULL}-tls`;
  const old = await core.readNamespacedSecret({ namespace: NS, name: secretName });
  const pem = (s: typeof old, key: string): string => Buffer.from(s.data![key]!, 'base64').toString();
  let newSerial = '';
  const { counts, durationS } = await underLoad(fixed, async () => {
    await core.deleteNamespacedSecret({ namespace: NS, name: secretName });
    await helm(['upgrade', RELEASE, CHART_DIR, '-n', NS, '--reuse-values', '--wait', '--timeout', '5m']);
    const fresh = await core.readNamespacedSecret({ namespace: NS, name: secretName });
    t.not(pem(fresh, 'ca.crt'), pem(old, 'ca.crt'), 'helm upgrade generated a new CA');
    newSerial = describeCert(pem(fresh, 'tls.crt')).serialNumber.toUpperCase();
    let row = 0;
    await waitFor(
      'both replicas to serve the new certificate',
      async () => {
        const served = (await servedSerial(ip, 443, SVC_DNS, pem(fresh, 'ca.crt')).catch(() => '')).toUpperCase();
        row = served === newSerial ? row + 1 : 0;
        return row >= 10 ? true : undefined;
      },
      { timeoutMs: 170_000, intervalMs: 500 },
    );
  });
  t.comment(`Secret deleted + helm upgrade: new certificate served by both replicas after ${durationS.toFixed(1)} s; ${summary(counts)}`);
  t.pass(`the Service serves the new certificate (serial ${newSerial})`);
  const reasons = Object.keys(counts.reasons);
  t.same(
    reasons.filter((r) => !/x509|certificate/i.test(r)),
    [],
    `every failure is the API server refusing the certificate the Pods still served (${counts.failed} of ${counts.sent}: ${reasons.join('; ') || 'none'})`,
  );
  await waitActive();
  t.pass('admissions succeed again with the new certificate');
  rows.push({
    scenario: '3b certificate rotation as values.yaml documents it: the Secret deleted, then helm upgrade (new CA and caBundle at once)',
    source: 'helm',
    failurePolicy: 'Fail',
    counts,
    durationS,
    note: 'duration: Secret deleted to 10 TLS connections in a row showing the new serial',
  });
  others.push(
    `Scenario 3b (source helm, "delete the Secret to rotate"): ${counts.failed} of ${counts.sent} admissions refused while the webhook configurations already carried the new CA and the Pods still served the old certificate (${durationS.toFixed(0)} s until both served the new one).`,
  );
});

t.test('scenario 1 (end): uninstall, webhook configurations first, leaves nothing behind', async (t) => {
  const secs = await uninstallClean(t);
  others.push(`Scenario 1: webhook configurations deleted, then \`helm uninstall --wait\`: every object of \`helm get manifest\` gone (checked one by one with the API), with the Pods, ReplicaSets, EndpointSlices and release Secrets, ${secs.toFixed(1)} s after the first delete.`);
});

t.test('scenario 3: certificates.source=secret, the Secret replaced under admission load', async (t) => {
  const ca: CertificateAuthority = createCA('gk-install-ca', 30);
  const hosts = [FULL, `${FULL}.${NS}`, SVC_DNS, `${SVC_DNS}.cluster.local`];
  const secret = (leaf: { certPem: string; keyPem: string }) => ({
    metadata: { name: 'gk-serving', namespace: NS },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(leaf.certPem).toString('base64'), 'tls.key': Buffer.from(leaf.keyPem).toString('base64') },
  });
  const first = ca.issue({ commonName: SVC_DNS, hosts });
  await core.createNamespacedSecret({ namespace: NS, body: secret(first) });
  const secs = await install(['--set', 'certificates.source=secret', '--set', 'certificates.secret.name=gk-serving', '--set', `certificates.secret.caBundle=${Buffer.from(ca.certPem).toString('base64')}`]);
  others.push(`Scenario 3: \`helm install --wait\` with certificates.source=secret returned after ${secs.toFixed(1)} s.`);
  await waitActive();
  const svc = await core.readNamespacedService({ namespace: NS, name: FULL });
  const ip = svc.spec!.clusterIP!;
  const serial = (pem: string): string => describeCert(pem).serialNumber.toUpperCase();
  t.equal((await servedSerial(ip, 443, SVC_DNS, ca.certPem)).toUpperCase(), serial(first.certPem), 'the Service serves the Secret\'s certificate');

  const second = ca.issue({ commonName: SVC_DNS, hosts });
  t.not(serial(second.certPem), serial(first.certPem));
  let seenAfter = 0;
  const { counts, durationS } = await underLoad(fixed, async () => {
    await core.replaceNamespacedSecret({ namespace: NS, name: 'gk-serving', body: secret(second) });
    // Both replicas serve it: 10 new connections in a row through the ClusterIP (kube-proxy picks a replica at random).
    let row = 0;
    await waitFor(
      'both replicas to serve the new certificate',
      async () => {
        const s = (await servedSerial(ip, 443, SVC_DNS, ca.certPem).catch(() => '')).toUpperCase();
        row = s === serial(second.certPem) ? row + 1 : 0;
        seenAfter++;
        return row >= 10 ? true : undefined;
      },
      { timeoutMs: 170_000, intervalMs: 500 },
    );
  });
  t.comment(`Secret replaced: new certificate served by both replicas after ${durationS.toFixed(1)} s (${seenAfter} TLS checks); ${summary(counts)}`);
  t.pass(`the Service serves the new certificate (serial ${serial(second.certPem)})`);
  t.ok(counts.sent > 100, `${counts.sent} admissions sent during the rotation`);
  t.equal(counts.failed, 0, `no admission failed during the rotation (${summary(counts)})`);
  rows.push({ scenario: '3 certificate rotation: the Secret replaced (same CA, new key)', source: 'secret', failurePolicy: 'Fail', counts, durationS, note: 'duration: Secret replaced to 10 TLS connections in a row through the ClusterIP showing the new serial (kubelet volume sync + the server\'s reload)' });
  const uninstallS = await uninstallClean(t);
  others.push(`Scenario 3: uninstall (webhook configurations first) clean in ${uninstallS.toFixed(1)} s; the Secret made by hand stays, as it should, and is deleted by the test.`);
  await core.deleteNamespacedSecret({ namespace: NS, name: 'gk-serving' });
});

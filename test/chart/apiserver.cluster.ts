/**
 * The chart against a real kube-apiserver (the e2e harness's control plane, built from Go modules):
 * every rendered manifest of every ci values file is accepted by a server-side dry run, and a real
 * `helm install` + `helm upgrade` keeps the generated CA (the `lookup` reuse), so the caBundle does
 * not churn. Needs the control-plane binaries: scripts/chart-test.sh --cluster builds or reuses them.
 */
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import t from 'tap';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  type V1APIResourceList,
  type V1CustomResourceDefinition,
  type V1Secret,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startControlPlane } from '../cluster/controlPlane.js';
import { waitFor } from '../cluster/processes.js';
import {
  CHART_DIR,
  chartCrdFiles,
  ciValues,
  ciValuesNames,
  findObject,
  helm,
  renderChart,
  type K8sObject,
  type WebhookConfiguration,
} from './lib/helm.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const NS = 'gk-system';
const cp = await startControlPlane({ controllerManager: false, log: (m) => t.comment(m) });
t.teardown(() => cp.stop());
const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

/** Raw JSON to the API server as admin: typed clients drop fields their models do not know. */
async function send(method: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const url = new URL(path, cp.server);
  const opts: RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: `${url.pathname}${url.search}`,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
  };
  await cp.kubeConfig.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const statusMessage = (body: string): string => {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
};

/** The upstream CRDs of the optional kinds (cert-manager, ServiceMonitor), from the Go module proxy. */
async function installCrds(): Promise<void> {
  const crds = chartCrdFiles().flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => d.toJS() as V1CustomResourceDefinition | null)
      .filter((d): d is V1CustomResourceDefinition => d !== null),
  );
  for (const crd of crds) {
    const r = await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (r.status !== 201) throw new Error(`CRD ${crd.metadata!.name} refused: ${statusMessage(r.body)}`);
  }
  const ext = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    await waitFor(
      `CRD ${crd.metadata!.name} established`,
      async () => {
        const live = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
        return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
  }
}

/** The API server's answer to a server-side dry-run create: undefined when accepted, else its message. */
async function dryRunCreate(obj: K8sObject): Promise<string | undefined> {
  const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const discovery = await cp.get(base);
  const resources = discovery.status === 200 ? (JSON.parse(discovery.body) as V1APIResourceList).resources : [];
  const resource = resources.find((r) => r.kind === obj.kind && !r.name.includes('/'));
  if (!resource) return `the API server does not serve ${obj.apiVersion} ${obj.kind}`;
  const scope = resource.namespaced ? `/namespaces/${obj.metadata.namespace ?? NS}` : '';
  const r = await send('POST', `${base}${scope}/${resource.name}?dryRun=All&fieldValidation=Strict`, obj);
  return r.status === 201 ? undefined : `${r.status}: ${statusMessage(r.body)}`;
}

await installCrds();
await core.createNamespace({ body: { metadata: { name: NS } } });

const cases = [{ name: 'defaults', valuesFiles: [] as string[] }, ...ciValuesNames().map((name) => ({ name, valuesFiles: [ciValues(name)] }))];

for (const c of cases) {
  t.test(`server-side dry run accepts every rendered object: ${c.name}`, async (t) => {
    const docs = renderChart({ namespace: NS, valuesFiles: c.valuesFiles, kubeVersion: cp.version.replace(/^v/, '') });
    t.ok(docs.length >= 9);
    for (const obj of docs) {
      t.equal(await dryRunCreate(obj), undefined, `${obj.kind}/${obj.metadata.name}`);
    }
  });
}

t.test('the API server refuses what the chart must never render (the dry run is a real check)', async (t) => {
  const docs = renderChart({ namespace: NS });
  const hooks = structuredClone(findObject<WebhookConfiguration>(docs, 'ValidatingWebhookConfiguration'));
  hooks.webhooks![0]!.matchConditions = [{ name: 'broken', expression: 'object.metadata.(' }];
  t.match(await dryRunCreate(hooks as unknown as K8sObject), /matchConditions\[0\]\.expression/);
});

t.test('helm install, then helm upgrade: the generated CA and serving certificate are kept', async (t) => {
  const kube = ['--kubeconfig', cp.kubeconfigPath, '--namespace', NS];
  const install = helm(['install', 'gracekeeper', CHART_DIR, ...kube]);
  t.equal(install.status, 0, install.stderr);
  const notes = install.stdout.slice(install.stdout.indexOf('NOTES:'));
  t.comment(notes);
  t.match(notes, 'kubectl label namespace <name> gracekeeper.io/mode=enforce', 'NOTES: how to opt a namespace in');
  t.match(notes, 'gracekeeper.io/mode=audit', 'NOTES: how to audit');
  t.match(notes, `kubectl delete mutatingwebhookconfiguration,validatingwebhookconfiguration gracekeeper\n  helm uninstall gracekeeper -n ${NS}`, 'NOTES: uninstall, webhooks first');
  t.teardown(() => void helm(['uninstall', 'gracekeeper', ...kube]));

  const read = async () => {
    const secret: V1Secret = await core.readNamespacedSecret({ name: 'gracekeeper-tls', namespace: NS });
    const hooks = (await objects.read({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'gracekeeper' },
    })) as unknown as WebhookConfiguration;
    return {
      data: secret.data!,
      caBundles: hooks.webhooks!.map((w) => w.clientConfig.caBundle),
      timeouts: hooks.webhooks!.map((w) => w.timeoutSeconds),
    };
  };
  const before = await read();
  t.same(new Set(before.caBundles), new Set([before.data['ca.crt']]), 'the installed webhooks trust the installed CA');

  const upgrade = helm(['upgrade', 'gracekeeper', CHART_DIR, ...kube, '--set', 'webhooks.timeoutSeconds=5']);
  t.equal(upgrade.status, 0, upgrade.stderr);
  const after = await read();
  t.same(after.data, before.data, 'the Secret is unchanged (lookup reused it)');
  t.same(after.caBundles, before.caBundles, 'the caBundle did not churn');
  t.same([before.timeouts, after.timeouts], [[3, 3], [5, 5]], 'while the upgrade did change the webhooks');
});

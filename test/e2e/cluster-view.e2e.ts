/**
 * The live cluster view against a real kube-apiserver (built from Go modules), signed in as a ServiceAccount
 * holding only the ClusterRole in docs/rbac.md. It sees PVCs, Services and Nodes (created through the API:
 * no kubelet needed) come and go, derives minKubelet from them, turns degraded while the API server hangs
 * (SIGSTOP) and when it is gone, answers from its cache meanwhile, and recovers when it returns (SIGCONT).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { V1ClusterRole, V1ClusterRoleBinding } from '@kubernetes/client-node';
import pino from 'pino';
import { parseAllDocuments } from 'yaml';
import { createLiveClusterView } from '../../src/cluster/live.js';
import type { LiveClusterViewSource } from '../../src/cluster/live.js';
import { REPO_ROOT, startControlPlane } from '../cluster/controlPlane.js';
import type { ControlPlane } from '../cluster/controlPlane.js';
import { waitFor } from '../cluster/processes.js';
import { nodeWithKubelet } from '../cluster/workloads.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const cp: ControlPlane = await startControlPlane({ controllerManager: false, log: (m) => t.comment(m) });
t.teardown(() => cp.stop());
const apiServer = cp.processes.find((p) => p.name === 'kube-apiserver');
if (!apiServer?.pid) throw new Error('the harness did not start kube-apiserver');
// If a test fails while the API server is paused, let it go on so the harness can stop it.
t.teardown(() => {
  if (apiServer.running && apiServer.pid) process.kill(apiServer.pid, 'SIGCONT');
});

const admin = cp.kubeConfig.makeApiClient(CoreV1Api);
const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
const NS = 'gracekeeper';

/** The ClusterRole and binding exactly as docs/rbac.md gives them to the chart author. */
function documentedRbac(): { role: V1ClusterRole; binding: V1ClusterRoleBinding } {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'rbac.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/rbac.md has no yaml block');
  const [role, binding] = parseAllDocuments(block).map((d) => d.toJS() as unknown);
  return { role: role as V1ClusterRole, binding: binding as V1ClusterRoleBinding };
}

/** A kubeconfig for ServiceAccount `name` in NS, with a token from the TokenRequest API. */
async function serviceAccountKubeConfig(name: string): Promise<KubeConfig> {
  await admin.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } });
  const tr = await admin.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = tr.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${name}`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'e2e', server: cp.server, caData: Buffer.from(cp.ca.certPem).toString('base64') }],
    users: [{ name, token }],
    contexts: [{ name: 'e2e', cluster: 'e2e', user: name }],
    currentContext: 'e2e',
  });
  return kc;
}

const logs: { msg: string }[] = [];
function liveView(kubeConfig: KubeConfig, syncTimeoutMs = 30_000): LiveClusterViewSource {
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as { msg: string }) });
  const view = createLiveClusterView({
    kubeConfig,
    fallbackKubernetesVersion: '1.29',
    resyncSeconds: 5,
    requestTimeoutMs: 2000,
    syncTimeoutMs,
    retry: { initialMs: 200, maxMs: 1000 },
    logger,
  });
  t.teardown(() => view.stop());
  return view;
}

const until = <T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> =>
  waitFor(what, async () => check(), { timeoutMs, intervalMs: 100 });

await admin.createNamespace({ body: { metadata: { name: NS } } });
await admin.createNamespace({ body: { metadata: { name: 'shop' } } });
const { role, binding } = documentedRbac();
await rbac.createClusterRole({ body: role });
await rbac.createClusterRoleBinding({
  body: { ...binding, subjects: [{ kind: 'ServiceAccount', name: 'gracekeeper', namespace: NS }] },
});

t.test('without the ClusterRole the view is degraded and says which permission is missing', async (t) => {
  const view = liveView(await serviceAccountKubeConfig('no-rbac'), 3000);
  await view.start();
  t.equal(view.state(), 'degraded');
  t.match(view.view.getService('shop', 'db'), {
    found: false,
    reason: /^cannot tell whether Service 'db' in namespace 'shop' exists: .*HTTP 403: services is forbidden: .*\(RBAC: needs get, list, watch on persistentvolumeclaims, services, nodes\)\)$/,
  });
  await view.stop();
});

t.test('with the documented ClusterRole it sees PVCs, Services and Nodes, and follows changes', async (t) => {
  await admin.createNamespacedPersistentVolumeClaim({
    namespace: 'shop',
    body: {
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
  });
  await admin.createNamespacedService({
    namespace: 'shop',
    body: { metadata: { name: 'db', labels: { app: 'db' } }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 3306 }] } },
  });
  await admin.createNode({ body: nodeWithKubelet('node-a', 'v1.32.3') });

  const live = liveView(await serviceAccountKubeConfig('gracekeeper'));
  await live.start();
  t.equal(live.state(), 'synced');
  const view = live.view;

  const data = view.getPersistentVolumeClaim('shop', 'data');
  t.same(data.found && data.value.spec?.accessModes, ['ReadWriteOnce']);
  t.equal(data.found && data.value.metadata?.managedFields, undefined, 'slimmed: no managedFields');
  const db = view.getService('shop', 'db');
  t.equal(db.found && db.value.spec?.clusterIP, 'None');
  t.same(db.found && db.value.spec?.selector, { app: 'db' });
  t.match(view.listServices('shop'), { found: true, value: [{ metadata: { name: 'db' } }] });
  t.same(view.getService('shop', 'nope'), {
    found: false,
    reason: "Service 'nope' in namespace 'shop' does not exist (the Service cache is in sync)",
  });
  t.same(view.versions(), { minKubelet: '1.32', source: 'nodes: lowest kubelet of 1 node (node-a)' });

  await admin.createNamespacedService({
    namespace: 'shop',
    body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
  });
  const web = await until('the new Service', () => {
    const l = view.getService('shop', 'web');
    return l.found ? l.value : undefined;
  });
  t.match(web.spec?.clusterIP, /^10\.0\.0\.\d+$/, 'the clusterIP the API server allocated');

  // The pvc-protection finalizer admission adds is removed by the controller manager, which is not running.
  await admin.patchNamespacedPersistentVolumeClaim({
    namespace: 'shop',
    name: 'data',
    body: [{ op: 'remove', path: '/metadata/finalizers' }],
  });
  await admin.deleteNamespacedPersistentVolumeClaim({ namespace: 'shop', name: 'data' });
  await until('the deleted PVC gone', () => (view.getPersistentVolumeClaim('shop', 'data').found ? undefined : true));

  await admin.createNode({ body: nodeWithKubelet('node-b', 'v1.31.0') });
  await until('an older kubelet lowers minKubelet', () => (view.versions().minKubelet === '1.31' ? true : undefined));
  await admin.patchNodeStatus({ name: 'node-b', body: [{ op: 'replace', path: '/status/nodeInfo/kubeletVersion', value: 'v1.33.1' }] });
  await until('the upgraded kubelet raises it', () => (view.versions().minKubelet === '1.32' ? true : undefined));
  await admin.deleteNode({ name: 'node-a' });
  await admin.deleteNode({ name: 'node-b' });
  await until('no nodes left', () => (view.versions().source.startsWith('API server') ? true : undefined));
  t.same(view.versions(), {
    minKubelet: cp.version.replace(/^v(\d+\.\d+).*$/, '$1'),
    source: 'API server /version (no nodes: a control plane without kubelets)',
  });

  t.test('API server hung (SIGSTOP): degraded, answers from the cache, recovers on SIGCONT', async (t) => {
    process.kill(apiServer.pid as number, 'SIGSTOP');
    try {
      await until('degraded while the API server hangs', () => (live.state() === 'degraded' ? true : undefined));
      t.match(view.getService('shop', 'db'), { found: true }, 'the cache still answers');
      // The view turns degraded when the first of its informers fails; the Service informer's own watch may
      // notice the hang a moment later, and lookups speak for their own resource. Wait for that one.
      const stale = await until('the Service cache to report the hang', () => {
        const lookup = view.getService('shop', 'gone');
        return !lookup.found && /may be stale/.test(lookup.reason) ? lookup : undefined;
      });
      t.match(stale, { found: false, reason: /is not in the Service cache, which may be stale/ });
    } finally {
      process.kill(apiServer.pid as number, 'SIGCONT');
    }
    await until('synced once the API server answers again', () => (live.state() === 'synced' ? true : undefined));
    await admin.createNamespacedService({
      namespace: 'shop',
      body: { metadata: { name: 'after' }, spec: { selector: { app: 'after' }, ports: [{ port: 80 }] } },
    });
    await until('watching again', () => (view.getService('shop', 'after').found ? true : undefined));
  });

  t.test('API server gone: degraded with the connection error, the cache still answers', async (t) => {
    await apiServer.stop();
    await until('degraded once the API server is gone', () => (live.state() === 'degraded' ? true : undefined));
    t.match(view.getService('shop', 'db'), { found: true });
    t.match(view.listServices('shop'), { found: true });
    t.match(view.getService('shop', 'nope'), { found: false, reason: /may be stale \(API server failing since .*ECONNREFUSED/ });
    t.ok(logs.some((l) => l.msg === 'cluster view degraded'), 'the transition is logged');
  });
});

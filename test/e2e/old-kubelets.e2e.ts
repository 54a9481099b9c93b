/**
 * Old kubelets. The webhook picks a proxy's shutdown fix by the lowest kubelet version among the Nodes
 * its live cluster view reads from the API server (src/cluster/versions.ts). Nodes are created through the
 * API reporting kubelet v1.28 (no kubelet runs). A 1.28 kubelet has neither the preStop sleep action (1.30)
 * nor native sidecars (1.29), so (src/engine/prestop.ts) the alpine proxy gets `exec: [sleep, N]`, the
 * distroless cloud-sql-proxy gets CSQL_PROXY_MIN_SIGTERM_DELAY, and proxy.strategy native-sidecar falls
 * back to a preStop. With the Nodes raised to 1.37 (the version the
 * test cluster runs), native sidecars come back.
 */
import t from 'tap';
import type { Test } from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import {
  PROBE_POD,
  createNamespace,
  startSuite,
  waitFor,
  waitForPods,
  warningTexts,
  webhookConfig,
  webhookLogMark,
  webhookLogSince,
} from '../cluster/suite.js';
import type { Suite } from '../cluster/suite.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';
import {
  APP,
  NEEDED_GRACE,
  PROXY_ALPINE,
  PROXY_DISTROLESS,
  PROXY_HOLD,
  container,
  deployment,
  initContainer,
  nodeWithKubelet,
  proxy,
} from '../cluster/workloads.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const s: Suite = await startSuite(t);
const namespace = 'old-kubelets';
await createNamespace(s, namespace, 'enforce');

// Mid-upgrade: one Node is already on 1.33, but the lowest kubelet decides what a Pod may use.
const OLD_KUBELETS = { 'worker-a': 'v1.33.5', 'worker-b': 'v1.28.15' } as const;
const NODES = Object.keys(OLD_KUBELETS) as Array<keyof typeof OLD_KUBELETS>;
const NEW_KUBELET = 'v1.37.2';
// Also when a subtest fails; the last subtest deletes them and checks.
t.teardown(async () => {
  for (const name of NODES) await s.core.deleteNode({ name }).catch(() => undefined);
});

/**
 * Waits until the webhook's live view computes `minor` from the Nodes: its `cluster versions` log line,
 * written when a review asks for the versions and they changed. Dry-run Pods make it ask.
 */
async function waitForViewedKubelet(minor: string, mark: number): Promise<Record<string, unknown>> {
  return waitFor(
    `the webhook's cluster view to report minKubelet ${minor} from the Nodes`,
    async () => {
      await s.core.createNamespacedPod({ namespace, body: PROBE_POD, dryRun: 'All' });
      return webhookLogSince(s, mark).find((l) => l.msg === 'cluster versions' && l.minKubelet === minor);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

/** Creates the Deployment and returns the Pod its ReplicaSet got stored, with the Warning headers of the create. */
async function podOfDeployment(t: Test, name: string, proxyImage: string): Promise<V1Pod> {
  const res = await s.apps.createNamespacedDeploymentWithHttpInfo({ namespace, body: deployment(name, [APP, proxy(proxyImage)]) });
  t.comment(`warnings for Deployment ${name}:\n${warningTexts(res.headers).join('\n')}`);
  const [pod] = await waitForPods(s, namespace, `app=${name}`);
  if (!pod) throw new Error(`no Pod for Deployment ${name}`);
  t.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'ReplicaSet', 'the ReplicaSet controller created the Pod and the API server stored it');
  return pod;
}

/** Containers given the preStop sleep action, which a 1.28 kubelet cannot run. */
const sleepActions = (pod: V1Pod): string[] =>
  [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].filter((c) => c.lifecycle?.preStop?.sleep).map((c) => c.name);

/** What every Pod on 1.28 nodes shares: a regular proxy container, no sleep action, a grace period that covers the proxy. */
function assertOldKubeletPod(t: Test, pod: V1Pod): void {
  t.notOk(pod.spec?.initContainers, 'no native sidecar: 1.28 kubelets do not run them');
  t.same(
    pod.spec?.containers.map((c) => c.name),
    ['app', 'cloud-sql-proxy'],
    'the proxy stays a regular container',
  );
  t.same(sleepActions(pod), [], 'no container got the preStop sleep action');
  t.same(container(pod, 'app')?.readinessProbe?.tcpSocket, { port: 8080 }, 'the app still got the default readiness probe');
  t.equal(pod.spec?.terminationGracePeriodSeconds, NEEDED_GRACE, `grace period ${NEEDED_GRACE}s covers the proxy's ${PROXY_HOLD}s hold and its shutdown`);
}

t.test('Nodes reporting kubelets 1.33 and 1.28 reach the webhook through its live cluster view', async (t) => {
  const mark = webhookLogMark(s);
  for (const name of NODES) {
    await s.core.createNode({ body: nodeWithKubelet(name, OLD_KUBELETS[name]) });
    const stored = await s.core.readNode({ name });
    if (stored.status?.nodeInfo?.kubeletVersion !== OLD_KUBELETS[name]) {
      // An API server that drops status on create takes it through the status subresource.
      await s.core.patchNodeStatus({ name, body: [{ op: 'add', path: '/status/nodeInfo', value: { kubeletVersion: OLD_KUBELETS[name] } }] });
    }
    t.equal((await s.core.readNode({ name })).status?.nodeInfo?.kubeletVersion, OLD_KUBELETS[name], `Node ${name} reports kubelet ${OLD_KUBELETS[name]}`);
  }
  const seen = await waitForViewedKubelet('1.28', mark);
  t.match(seen.source, /^nodes: lowest kubelet of 2 nodes \(worker-b\)/, 'the webhook took the lowest kubelet of the two Nodes');
});

t.test('a. cloud-sql-proxy 2.14.1-alpine: preStop exec [sleep, N], accepted by the API server', async (t) => {
  const pod = await podOfDeployment(t, 'alpine-proxy', PROXY_ALPINE);
  t.same(
    container(pod, 'cloud-sql-proxy')?.lifecycle?.preStop,
    { exec: { command: ['sleep', String(PROXY_HOLD)] } },
    `the proxy sleeps ${PROXY_HOLD}s (app preStop + drain) with the image's own sleep binary`,
  );
  assertOldKubeletPod(t, pod);
});

t.test('b. distroless cloud-sql-proxy 2.14.1: CSQL_PROXY_MIN_SIGTERM_DELAY instead of a preStop', async (t) => {
  const pod = await podOfDeployment(t, 'distroless-proxy', PROXY_DISTROLESS);
  const p = container(pod, 'cloud-sql-proxy');
  t.same(
    p?.env?.filter((e) => e.name === 'CSQL_PROXY_MIN_SIGTERM_DELAY'),
    [{ name: 'CSQL_PROXY_MIN_SIGTERM_DELAY', value: `${PROXY_HOLD}s` }],
    `the proxy delays its own shutdown by ${PROXY_HOLD}s`,
  );
  t.notOk(p?.lifecycle, 'no preStop: the image has no sleep binary and the kubelet no sleep action');
  assertOldKubeletPod(t, pod);
});

t.test('c. proxy.strategy native-sidecar on 1.28 nodes falls back to a preStop', async (t) => {
  const mark = webhookLogMark(s);
  s.webhook.writeConfig(webhookConfig({ proxy: { strategy: 'native-sidecar' } }));
  await waitFor('the webhook to reload its config', async () => (webhookLogSince(s, mark).some((l) => l.msg === 'config reloaded') ? true : undefined), {
    timeoutMs: 30_000,
  });
  const pod = await podOfDeployment(t, 'sidecar-fallback', PROXY_ALPINE);
  t.same(
    container(pod, 'cloud-sql-proxy')?.lifecycle?.preStop,
    { exec: { command: ['sleep', String(PROXY_HOLD)] } },
    'the proxy got the preStop fix instead of being moved',
  );
  t.notOk(initContainer(pod, 'cloud-sql-proxy'), 'not moved to initContainers');
  assertOldKubeletPod(t, pod);
});

t.test('Nodes raised to kubelet 1.37: native sidecars again', async (t) => {
  const mark = webhookLogMark(s);
  for (const name of NODES) {
    await s.core.patchNodeStatus({ name, body: [{ op: 'replace', path: '/status/nodeInfo/kubeletVersion', value: NEW_KUBELET }] });
  }
  const seen = await waitForViewedKubelet('1.37', mark);
  t.match(seen.source, /^nodes: lowest kubelet of 2 nodes/, 'the webhook read 1.37 from the Nodes');

  const pod = await podOfDeployment(t, 'native-again', PROXY_ALPINE);
  t.equal(initContainer(pod, 'cloud-sql-proxy')?.restartPolicy, 'Always', 'the proxy is a native sidecar (strategy native-sidecar)');
  t.same(
    pod.spec?.containers.map((c) => c.name),
    ['app'],
    'and no longer a regular container',
  );
  t.notOk(initContainer(pod, 'cloud-sql-proxy')?.lifecycle, 'a native sidecar needs no preStop: Kubernetes stops it after the app');
  t.same(sleepActions(pod), ['app'], 'the app got the preStop sleep action, which 1.37 kubelets run');
});

t.test('the Nodes are deleted', async (t) => {
  for (const name of NODES) await s.core.deleteNode({ name });
  t.same(
    (await s.core.listNode()).items.map((n) => n.metadata?.name),
    [],
    'no Nodes left',
  );
});

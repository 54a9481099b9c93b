/**
 * Smoke test of the harness itself: a real etcd + kube-apiserver +
 * kube-controller-manager start, report the version we built, and the
 * Deployment -> ReplicaSet -> Pod chain runs (Pods stay Pending: no kubelet).
 */
import t from 'tap';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { startControlPlane } from '../cluster/controlPlane.js';
import { waitFor } from '../cluster/processes.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const cp = await startControlPlane({ log: (m) => t.comment(m) });
t.teardown(() => cp.stop());

t.test('API server reports the version that was built', async (t) => {
  t.equal(cp.version, 'v1.37.2');
  const readyz = await cp.get('/readyz?verbose');
  t.equal(readyz.status, 200, readyz.body);
});

t.test('a Deployment gets a ReplicaSet and a Pod from the real controllers', async (t) => {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
  const namespace = 'smoke';
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // ServiceAccount admission needs the namespace's default ServiceAccount before Pods can be created.
  await waitFor('default ServiceAccount in smoke', async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace })) ? true : undefined, {
    timeoutMs: 30_000,
  });

  const deployment: V1Deployment = {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'registry.example/web:1.0' }] },
      },
    },
  };
  const created = await apps.createNamespacedDeployment({ namespace, body: deployment });
  t.equal(created.metadata?.name, 'web');

  const rs = await waitFor(
    'a ReplicaSet owned by the Deployment',
    async () => (await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' })).items[0],
    { timeoutMs: 30_000 },
  );
  t.equal(rs.metadata?.ownerReferences?.[0]?.kind, 'Deployment');

  const pod = await waitFor(
    'a Pod created by the ReplicaSet controller',
    async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items[0],
    { timeoutMs: 30_000 },
  );
  t.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'ReplicaSet');
  t.equal(pod.status?.phase, 'Pending', 'no kubelet: the Pod stays Pending');
  // The API server applied its defaults to the Pod, as a webhook would see them.
  t.equal(pod.spec?.terminationGracePeriodSeconds, 30);
  t.equal(pod.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
  t.ok(
    pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-')),
    'ServiceAccount admission added the projected token volume',
  );
});

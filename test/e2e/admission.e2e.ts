/**
 * Issue 4 scenarios 1-6 and 8 against a real kube-apiserver (built from Go
 * modules), with the chart's webhook configurations pointing at the built
 * webhook. Scenario 7 (webhook down) is in failure-policy.e2e.ts: it kills the
 * webhook. Every expectation here is what the API server stored or answered.
 */
import t from 'tap';
import type { Test } from 'tap';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import type { V1Container, V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import {
  MODE_LABEL,
  PROBE_POD,
  SERVED_LABELS,
  TIMINGS,
  apply,
  createNamespace,
  denied,
  dropsAllPodsDeployment,
  startSuite,
  waitFor,
  waitForPods,
  warningTexts,
  webhookConfig,
  webhookLogMark,
  webhookLogSince,
} from '../cluster/suite.js';
import type { Suite } from '../cluster/suite.js';
import {
  API_DEFAULT_GRACE,
  APP,
  NEEDED_GRACE,
  PROXY_ALPINE,
  PROXY_DISTROLESS,
  PROXY_HOLD,
  container,
  deployment,
  initContainer,
  proxy,
} from '../cluster/workloads.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const s: Suite = await startSuite(t);

/** Write the webhook's policy and wait until a dry-run Pod shows the proxy strategy in effect. */
async function setProxyStrategy(strategy: 'prestop' | 'native-sidecar' | 'auto'): Promise<void> {
  s.webhook.writeConfig(webhookConfig({ proxy: { strategy } }));
  const expectNative = strategy !== 'prestop'; // auto: kubelet = API server 1.37 here (no nodes), so native
  await waitFor(
    `the webhook to apply proxy strategy ${strategy}`,
    async () => {
      const pod = await s.core.createNamespacedPod({
        namespace: 'gracekeeper-probe',
        body: { ...PROBE_POD, spec: { containers: [APP, proxy(PROXY_DISTROLESS)] } },
        dryRun: 'All',
      });
      const native = initContainer(pod, 'cloud-sql-proxy')?.restartPolicy === 'Always';
      const prestop = container(pod, 'cloud-sql-proxy')?.lifecycle?.preStop !== undefined;
      return (expectNative ? native : prestop) ? true : undefined;
    },
    { timeoutMs: 20_000 },
  );
}

/** The Pod stored for a controller, as the webhook left it: assertions shared by scenarios 1 and 6. */
function assertAppFixed(t: Test, pod: V1Pod): void {
  const app = container(pod, 'app');
  t.same(app?.readinessProbe?.tcpSocket, { port: 8080 }, 'app got the default readiness probe (tcpSocket on its port)');
  t.equal(app?.lifecycle?.preStop?.sleep?.seconds, TIMINGS.appPreStopSeconds, 'app got a preStop sleep so endpoints drop first');
  t.equal(pod.spec?.terminationGracePeriodSeconds, NEEDED_GRACE, `grace period raised from ${API_DEFAULT_GRACE} to ${NEEDED_GRACE}`);
}

function assertUntouched(t: Test, pod: V1Pod): void {
  const app = container(pod, 'app');
  t.notOk(app?.readinessProbe, 'app has no readiness probe added');
  t.notOk(app?.lifecycle, 'app has no lifecycle added');
  t.ok(container(pod, 'cloud-sql-proxy'), 'proxy is still a regular container');
  t.notOk(container(pod, 'cloud-sql-proxy')?.lifecycle, 'proxy has no preStop added');
  t.notOk(pod.spec?.initContainers, 'no native sidecar added');
  t.equal(pod.spec?.terminationGracePeriodSeconds, API_DEFAULT_GRACE, 'grace period is the API server default');
}

t.test('1. enforce: Pods created by the ReplicaSet controller carry the proxy shutdown fix', async (t) => {
  const namespace = 'enforce-proxy';
  await createNamespace(s, namespace, 'enforce');

  const variants = [
    { name: 'prestop-alpine', strategy: 'prestop', image: PROXY_ALPINE },
    { name: 'prestop-distroless', strategy: 'prestop', image: PROXY_DISTROLESS },
    { name: 'native-sidecar', strategy: 'native-sidecar', image: PROXY_DISTROLESS },
  ] as const;
  for (const v of variants) {
    await t.test(`${v.name}: ${v.image} with proxy.strategy ${v.strategy}`, async (t) => {
      await setProxyStrategy(v.strategy);
      const created = await s.apps.createNamespacedDeployment({ namespace, body: deployment(v.name, [APP, proxy(v.image)]) });
      t.equal(created.spec?.template.spec?.containers.length, 2, 'the Deployment itself is stored as written (only Pods are mutated)');
      const [pod] = await waitForPods(s, namespace, `app=${v.name}`);
      if (!pod) throw new Error('no pod');
      t.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'ReplicaSet', 'the Pod was created by the ReplicaSet controller and accepted');
      assertAppFixed(t, pod);
      if (v.strategy === 'native-sidecar') {
        const sidecar = initContainer(pod, 'cloud-sql-proxy');
        t.equal(sidecar?.restartPolicy, 'Always', 'proxy moved to initContainers as a native sidecar');
        t.notOk(container(pod, 'cloud-sql-proxy'), 'proxy no longer among the regular containers');
        t.same(
          pod.spec?.containers.map((c) => c.name),
          ['app'],
        );
      } else {
        const p = container(pod, 'cloud-sql-proxy');
        t.equal(p?.lifecycle?.preStop?.sleep?.seconds, PROXY_HOLD, `proxy preStop sleeps ${PROXY_HOLD}s (app preStop + drain)`);
        t.notOk(p?.lifecycle?.preStop?.exec, 'kubelet 1.37 has the sleep action: no exec, which a distroless image could not run');
        t.notOk(pod.spec?.initContainers, 'no native sidecar with strategy prestop');
      }
    });
  }
  await setProxyStrategy('auto');
});

t.test('2. unsafe specs are refused at apply time with the rule id', async (t) => {
  const namespace = 'enforce-unsafe';
  await createNamespace(s, namespace, 'enforce');

  /** Apply until the live cluster view has caught up (denied with `rule`), then apply for real. */
  async function refused(t: Test, obj: V1Deployment | V1StatefulSet, rule: string): Promise<string> {
    await waitFor(
      `dry-run apply of ${obj.metadata?.name} to be denied by ${rule}`,
      async () => ((await denied(apply(s, obj, 'All')))?.message.includes(rule) ? true : undefined),
      { timeoutMs: 20_000 },
    );
    const denial = await denied(apply(s, obj));
    t.ok(denial, `${obj.kind} ${obj.metadata?.name} refused`);
    t.equal(denial?.code, 403);
    t.match(denial?.message, `admission webhook "enforce.validate.gracekeeper.io" denied the request`);
    t.match(denial?.message, rule, `message names ${rule}`);
    return denial?.message ?? '';
  }
  const ns = <T extends { metadata?: object }>(o: T): T => ({ ...o, metadata: { ...o.metadata, namespace } });

  await t.test('ReadWriteOnce PVC shared by a 3-replica Deployment', async (t) => {
    await s.core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    const d = deployment('shared-data', [{ ...APP, volumeMounts: [{ name: 'data', mountPath: '/data' }] }], {
      replicas: 3,
      template: {
        metadata: { labels: { app: 'shared-data' } },
        spec: {
          containers: [{ ...APP, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
        },
      },
    });
    const message = await refused(t, ns(d), 'rwo-volume-shared-by-replicas');
    t.match(message, "PVC 'data' is ReadWriteOnce but 3 replicas mount it");
  });

  await t.test('a mysql server in initContainers', async (t) => {
    const d = deployment('init-mysql', [APP]);
    d.spec!.template.spec!.initContainers = [{ name: 'db', image: 'mysql:8.0', env: [{ name: 'MYSQL_ALLOW_EMPTY_PASSWORD', value: 'yes' }] }];
    const message = await refused(t, ns(d), 'init-container-never-completes');
    t.match(message, "init container 'db'");
  });

  await t.test('a rollout that drops all pods', async (t) => {
    const d = deployment('drops-all', [APP], {
      replicas: 3,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 3, maxSurge: 1 } },
    });
    const message = await refused(t, ns(d), 'rollout-drops-all-pods');
    t.match(message, 'all 3 pods');
  });

  await t.test('a StatefulSet whose Service has a cluster IP', async (t) => {
    const svc = await s.core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'kv' }, spec: { selector: { app: 'kv' }, ports: [{ port: 6379 }] } },
    });
    const clusterIP = svc.spec?.clusterIP ?? '';
    t.match(clusterIP, /^10\.0\.0\.\d+$/, 'the API server allocated a cluster IP');
    const sts: V1StatefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'kv', namespace },
      spec: {
        serviceName: 'kv',
        // Several members resolve each other by their per-pod names, which a non-headless Service never gets:
        // denied. One replica is only a warning (the rule's fixtures cover that).
        replicas: 3,
        selector: { matchLabels: { app: 'kv' } },
        template: { metadata: { labels: { app: 'kv' } }, spec: { containers: [{ ...APP, name: 'kv' }] } },
      },
    };
    const message = await refused(t, sts, 'statefulset-service-not-headless');
    t.match(message, `clusterIP ${clusterIP}`);

    // Control: the same StatefulSet governed by a headless Service is accepted.
    await s.core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'kv-headless' }, spec: { clusterIP: 'None', selector: { app: 'kv' }, ports: [{ port: 6379 }] } },
    });
    const ok = { ...sts, spec: { ...sts.spec!, serviceName: 'kv-headless' } };
    await waitFor('the headless StatefulSet to be accepted', async () => ((await denied(apply(s, ok, 'All'))) ? undefined : true), {
      timeoutMs: 20_000,
    });
    t.notOk(await denied(apply(s, ok)), 'StatefulSet with a headless Service is accepted');
  });

  const names = (await s.apps.listNamespacedDeployment({ namespace })).items.map((d) => d.metadata?.name);
  t.same(names, [], 'no refused Deployment was stored');
});

t.test('3. audit: the unsafe Deployment is created with warnings; its Pods are not mutated', async (t) => {
  const namespace = 'audit-ns';
  await createNamespace(s, namespace, 'audit');
  const d = dropsAllPodsDeployment('audited');
  d.spec!.template.spec!.containers.push(proxy(PROXY_DISTROLESS));
  const res = await s.apps.createNamespacedDeploymentWithHttpInfo({ namespace, body: d });
  t.equal(res.httpStatusCode, 201, 'created');
  const warnings = warningTexts(res.headers);
  t.comment(warnings.join('\n'));
  t.ok(
    warnings.some((w) => w.startsWith('rollout-drops-all-pods (audit: would deny)')),
    'a Warning header says what enforce would deny, with the rule id',
  );
  t.ok(
    warnings.some((w) => w.startsWith('proxy-sidecar-no-prestop')),
    'a Warning header names the proxy problem',
  );
  t.ok(
    warnings.every((w) => w.length < 120),
    'every warning is under 120 characters',
  );
  const [pod] = await waitForPods(s, namespace, 'app=audited');
  if (!pod) throw new Error('no pod');
  assertUntouched(t, pod);

  // A Pod created directly in audit mode is admitted unchanged and told what enforce would patch.
  const direct = await s.core.createNamespacedPodWithHttpInfo({
    namespace,
    body: { metadata: { name: 'direct', labels: { ...SERVED_LABELS } }, spec: { containers: [APP, proxy(PROXY_DISTROLESS)] } },
  });
  assertUntouched(t, direct.data);
  const podWarnings = warningTexts(direct.headers);
  t.ok(
    podWarnings.some((w) => w.startsWith('readiness-probe-missing (audit')),
    'the Pod create response names the fix enforce would apply',
  );
  t.ok(
    podWarnings.some((w) => w.includes('patch not applied')),
    'and says the patch was not applied',
  );
});

t.test('4. unlabelled namespace is untouched; labelling it enforce takes effect within seconds', async (t) => {
  const namespace = 'plain';
  await createNamespace(s, namespace);
  await s.apps.createNamespacedDeployment({ namespace, body: deployment('legacy', [APP, proxy(PROXY_DISTROLESS)]) });
  const [before] = await waitForPods(s, namespace, 'app=legacy');
  if (!before) throw new Error('no pod');
  assertUntouched(t, before);

  const ns = await s.core.readNamespace({ name: namespace });
  ns.metadata!.labels = { ...ns.metadata!.labels, [MODE_LABEL]: 'enforce' };
  await s.core.replaceNamespace({ name: namespace, body: ns });
  const labelledAt = Date.now();
  await waitFor(
    'a dry-run Pod in the relabelled namespace to be mutated',
    async () => {
      const pod = await s.core.createNamespacedPod({ namespace, body: PROBE_POD, dryRun: 'All' });
      return pod.spec?.containers[0]?.readinessProbe ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200 },
  );
  const seconds = (Date.now() - labelledAt) / 1000;
  t.comment(`relabel took effect after ${seconds.toFixed(1)}s`);
  t.ok(seconds < 10, 'effective within a few seconds');

  // The controller's replacement for a deleted Pod is now mutated.
  await s.core.deleteNamespacedPod({ name: before.metadata!.name!, namespace, gracePeriodSeconds: 0 });
  const replacement = await waitFor(
    'a replacement Pod',
    async () => (await s.core.listNamespacedPod({ namespace, labelSelector: 'app=legacy' })).items.find((p) => p.metadata?.uid !== before.metadata?.uid),
    { timeoutMs: 30_000 },
  );
  assertAppFixed(t, replacement);
  t.equal(initContainer(replacement, 'cloud-sql-proxy')?.restartPolicy, 'Always', 'proxy is now a native sidecar');
});

t.test('5. server-side dry run of an unsafe Deployment is denied and creates nothing', async (t) => {
  const namespace = 'enforce-dryrun';
  await createNamespace(s, namespace, 'enforce');
  const d = dropsAllPodsDeployment('dry');
  const denial = await denied(s.apps.createNamespacedDeployment({ namespace, body: d, dryRun: 'All' }));
  t.equal(denial?.code, 403);
  t.match(denial?.message, 'rollout-drops-all-pods');
  const real = await denied(s.apps.createNamespacedDeployment({ namespace, body: d }));
  t.equal(real?.message, denial?.message, 'the dry run is denied exactly as the real request');
  t.same((await s.apps.listNamespacedDeployment({ namespace })).items, [], 'nothing was created');
  t.same((await s.core.listNamespacedPod({ namespace })).items, [], 'no Pods either');
});

t.test('6. reinvocation: a proxy injected by a later webhook is fixed by ours', async (t) => {
  // A test-only sidecar injector, called after ours (configurations run in name order: gk-… < zz-…).
  let injectorCalls = 0;
  const cert = s.webhook.ca.issue({ commonName: 'e2e-injector', hosts: ['127.0.0.1'] });
  const injector = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      injectorCalls++;
      const review = JSON.parse(body) as { request: { uid: string; object: V1Pod } };
      const pod = review.request.object;
      const present = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === 'injected-proxy');
      const patch = present ? [] : [{ op: 'add', path: '/spec/containers/-', value: proxy(PROXY_DISTROLESS, 'injected-proxy') }];
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: true,
            ...(patch.length ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}),
          },
        }),
      );
    });
  });
  await new Promise<void>((r) => injector.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => injector.close(() => r())));
  const port = (injector.address() as AddressInfo).port;

  const admission = s.cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: 'zz-e2e-injector' },
      webhooks: [
        {
          name: 'inject.e2e.gracekeeper.io',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          reinvocationPolicy: 'Never',
          timeoutSeconds: 5,
          clientConfig: { url: `https://127.0.0.1:${port}/inject`, caBundle: Buffer.from(s.webhook.ca.certPem).toString('base64') },
          namespaceSelector: { matchLabels: { 'e2e.gracekeeper.io/inject': 'true' } },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
        },
      ],
    },
  });
  t.teardown(() => admission.deleteMutatingWebhookConfiguration({ name: 'zz-e2e-injector' }));

  const namespace = 'reinvoke';
  await createNamespace(s, namespace, 'enforce', { 'e2e.gracekeeper.io/inject': 'true' });
  const pod = await waitFor(
    'the injector to be active',
    async () => {
      const p = await s.core.createNamespacedPod({ namespace, body: PROBE_POD, dryRun: 'All' });
      const injected = [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].some((c) => c.name === 'injected-proxy');
      return injected ? p : undefined;
    },
    { timeoutMs: 20_000 },
  );
  t.ok(pod, 'injector active');

  injectorCalls = 0;
  const logBefore = webhookLogMark(s);
  const created = await s.core.createNamespacedPod({
    namespace,
    body: { metadata: { name: 'reinvoked', labels: { ...SERVED_LABELS } }, spec: { containers: [APP] } },
  });
  t.equal(injectorCalls, 1, 'the injector ran once');
  const sidecar = initContainer(created, 'injected-proxy');
  t.equal(sidecar?.restartPolicy, 'Always', 'the injected proxy was made a native sidecar: our webhook ran again after the injector');
  t.notOk(container(created, 'injected-proxy'), 'the injected proxy is no longer a regular container');
  assertAppFixed(t, created);

  const mutateReviews = (): Array<Record<string, unknown>> =>
    webhookLogSince(s, logBefore).filter((l) => l.name === 'reinvoked' && l.endpoint === 'mutate');
  // The webhook logs each review as it answers; give the last line a moment to reach the file.
  const reviews = await waitFor('two mutate reviews of the Pod in the webhook log', async () => {
    const r = mutateReviews();
    return r.length >= 2 ? r : undefined;
  }, { timeoutMs: 5000 }).catch(() => mutateReviews());
  t.same(
    reviews.map((r) => r.decision),
    ['patched', 'patched'],
    'our mutate endpoint was called twice for the Pod (first call, then reinvocation), each time patching',
  );
});

t.test('8. UPDATE of an admitted Deployment: no immutable-field errors, no loop', async (t) => {
  const namespace = 'enforce-update';
  await createNamespace(s, namespace, 'enforce');
  await s.apps.createNamespacedDeployment({ namespace, body: deployment('api', [APP, proxy(PROXY_DISTROLESS)]) });
  const [pod] = await waitForPods(s, namespace, 'app=api');
  if (!pod) throw new Error('no pod');
  assertAppFixed(t, pod);

  // Pod UPDATE (labels) on a mutated Pod: Pod specs are immutable, so the webhook must not patch them here.
  pod.metadata!.labels = { ...pod.metadata!.labels, checked: 'yes' };
  const relabelled = await s.core.replaceNamespacedPod({ name: pod.metadata!.name!, namespace, body: pod });
  t.equal(relabelled.metadata?.labels?.checked, 'yes', 'Pod label update accepted');

  // Deployment UPDATE: new image, twice the replicas.
  const d = await s.apps.readNamespacedDeployment({ name: 'api', namespace });
  d.spec!.replicas = 2;
  d.spec!.template.spec!.containers[0]!.image = 'registry.example/shop:1.1';
  const updated = await s.apps.replaceNamespacedDeployment({ name: 'api', namespace, body: d });
  t.equal(updated.metadata?.generation, 2, 'one update, one generation');

  const fresh = await waitFor(
    'Pods of the new template',
    async () => {
      const pods = (await s.core.listNamespacedPod({ namespace, labelSelector: 'app=api' })).items;
      const news = pods.filter((p) => container(p, 'app')?.image === 'registry.example/shop:1.1');
      // No kubelet: no Pod becomes ready, so the rollout creates the surge Pod and then waits.
      return news.length >= 1 ? news : undefined;
    },
    { timeoutMs: 30_000 },
  );
  for (const p of fresh) assertAppFixed(t, p);

  // Settled: the Deployment is not being rewritten in a loop by webhook and controller.
  await waitFor(
    'the Deployment controller to observe generation 2',
    async () => ((await s.apps.readNamespacedDeployment({ name: 'api', namespace })).status?.observedGeneration === 2 ? true : undefined),
    { timeoutMs: 30_000 },
  );
  const settled = await s.apps.readNamespacedDeployment({ name: 'api', namespace });
  await new Promise((r) => setTimeout(r, 3000));
  const later = await s.apps.readNamespacedDeployment({ name: 'api', namespace });
  t.equal(later.metadata?.generation, 2, 'generation still 2');
  t.equal(later.spec?.template.spec?.containers.length, 2, 'the Deployment template is stored as written');
  t.equal((await s.apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=api' })).items.length, 2, 'exactly two ReplicaSets');
  t.equal(later.metadata?.generation, settled.metadata?.generation, 'no further spec changes');

  // An update that introduces a new problem is denied; one that keeps an old problem is not.
  const bad = await s.apps.readNamespacedDeployment({ name: 'api', namespace });
  bad.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%', maxSurge: 0 } };
  const denial = await denied(s.apps.replaceNamespacedDeployment({ name: 'api', namespace, body: bad }));
  t.match(denial?.message, 'rollout-drops-all-pods', 'a new problem on UPDATE is denied');

  const legacyNs = 'update-existing';
  await createNamespace(s, legacyNs);
  await s.apps.createNamespacedDeployment({ namespace: legacyNs, body: dropsAllPodsDeployment('old') });
  const ns = await s.core.readNamespace({ name: legacyNs });
  ns.metadata!.labels = { ...ns.metadata!.labels, [MODE_LABEL]: 'enforce' };
  await s.core.replaceNamespace({ name: legacyNs, body: ns });
  await waitFor(
    'enforce to apply in the relabelled namespace',
    async () => ((await denied(s.apps.createNamespacedDeployment({ namespace: legacyNs, body: dropsAllPodsDeployment('probe'), dryRun: 'All' }))) ? true : undefined),
    { timeoutMs: 10_000 },
  );
  const old = await s.apps.readNamespacedDeployment({ name: 'old', namespace: legacyNs });
  old.spec!.template.spec!.containers[0]!.image = 'registry.example/web:1.1';
  const res = await s.apps.replaceNamespacedDeploymentWithHttpInfo({ name: 'old', namespace: legacyNs, body: old });
  t.equal(res.httpStatusCode, 200, 'an image update of a Deployment with an old problem is accepted');
  t.ok(
    warningTexts(res.headers).some((w) => w.startsWith('rollout-drops-all-pods (existing, not denied on update)')),
    'and warned about',
  );
});

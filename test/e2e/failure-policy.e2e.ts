/**
 * Issue 4 scenario 7: the webhook is down. With the chart's default
 * `failurePolicy: Fail` for enforce, the API server refuses creation in an
 * enforced namespace with its own webhook error; with `Ignore` the object is
 * admitted unchecked. Audit entries default to Ignore and never block.
 */
import t from 'tap';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { registerWebhooks } from '../cluster/webhook.js';
import { SERVED_LABELS, createNamespace, denied, startSuite, waitFor, waitForWebhookActive } from '../cluster/suite.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const s = await startSuite(t);
await createNamespace(s, 'fp-enforce', 'enforce');
await createNamespace(s, 'fp-audit', 'audit');

const pod = (name: string): V1Pod => ({
  metadata: { name, labels: { ...SERVED_LABELS } },
  spec: { containers: [{ name: 'app', image: 'registry.example/web:1.0', ports: [{ containerPort: 8080 }] }] },
});

t.test('7a. webhook down, failurePolicy Fail: creation in an enforced namespace fails', async (t) => {
  await s.webhook.kill();
  const denial = await denied(s.core.createNamespacedPod({ namespace: 'fp-enforce', body: pod('while-down') }));
  t.ok(denial, 'the API server refused the Pod');
  t.equal(denial?.code, 500);
  t.match(denial?.message, 'failed calling webhook "enforce.mutate.gracekeeper.io"', "the API server's own webhook error");
  t.match(denial?.message, /connection refused/);
  const stored = await denied(s.core.readNamespacedPod({ name: 'while-down', namespace: 'fp-enforce' }));
  t.equal(stored?.code, 404, 'nothing was stored');

  const audited = await s.core.createNamespacedPod({ namespace: 'fp-audit', body: pod('audit-while-down') });
  t.equal(audited.metadata?.name, 'audit-while-down', 'audit entries (failurePolicy Ignore) do not block');
});

t.test('7b. webhook down, failurePolicy Ignore: creation succeeds, unchecked', async (t) => {
  await registerWebhooks(s.cp, s.webhook, { set: { 'webhooks.failurePolicy.enforce': 'Ignore' }, replace: true });
  const stored = await s.cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: s.registration.mutatingName });
  t.same(
    stored.webhooks?.map((w) => `${w.name}=${w.failurePolicy}`),
    ['enforce.mutate.gracekeeper.io=Ignore', 'audit.mutate.gracekeeper.io=Ignore'],
    'the chart rendered with webhooks.failurePolicy.enforce=Ignore',
  );
  // The API server picks up webhook configuration changes through an informer: retry until it has.
  const created = await waitFor(
    'the API server to use failurePolicy Ignore',
    async () => {
      const r = await s.core.createNamespacedPod({ namespace: 'fp-enforce', body: pod('ignored') }).catch(() => undefined);
      return r;
    },
    { timeoutMs: 20_000, intervalMs: 500 },
  );
  t.equal(created.metadata?.name, 'ignored', 'created while the webhook is down');
  t.notOk(created.spec?.containers[0]?.readinessProbe, 'admitted without the fix: nobody checked it');

  // Back up: the same registration works again once the webhook answers.
  await s.webhook.restart();
  await waitForWebhookActive(s);
  const fixed = await s.core.createNamespacedPod({ namespace: 'fp-enforce', body: pod('after-restart') });
  t.ok(fixed.spec?.containers[0]?.readinessProbe, 'with the webhook back, Pods are fixed again');
});

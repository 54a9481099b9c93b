import t from 'tap';
import { MAX_WARNING_LENGTH } from '../../src/admission/warnings.js';
import { applyPatch, loadReview, onlyRule, patchOf, post, testServer } from '../helpers/server.js';

// A Pod created by a ReplicaSet, as the API server sends it after defaulting: an app with a readiness probe and
// no preStop, and a cloud-sql-proxy sidecar (distroless v2 image) with no preStop.
const FIXTURE = 'pod-create-proxy.json';

function containerNames(pod: { spec: { containers: Array<{ name: string }>; initContainers?: Array<{ name: string }> } }) {
  return { containers: pod.spec.containers.map((c) => c.name), init: (pod.spec.initContainers ?? []).map((c) => c.name) };
}

t.test('enforce: the proxy gets its shutdown fix as a JSON Patch against the object as sent', async (t) => {
  const { app } = testServer();
  const review = loadReview(FIXTURE);
  const { status, body } = await post(app, '/mutate', review);
  t.equal(status, 200);
  t.equal(body.apiVersion, 'admission.k8s.io/v1');
  t.equal(body.kind, 'AdmissionReview');
  t.equal(body.response.uid, review.request.uid, 'echoes the uid');
  t.equal(body.response.allowed, true);
  t.equal(body.response.patchType, 'JSONPatch');
  t.notOk(body.response.warnings, 'enforce mutation adds no warnings');

  const pod = applyPatch(review.request.object, patchOf(body));
  // Kubernetes 1.37 is assumed without a cluster view: native sidecars exist, so the proxy becomes one.
  t.same(containerNames(pod), { containers: ['app'], init: ['cloud-sql-proxy'] });
  t.equal(pod.spec.initContainers[0].restartPolicy, 'Always', 'the proxy is a native sidecar, stopped after the app');
  t.same(pod.spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 5 } } }, 'the app waits for endpoints to drop it');
  t.ok(pod.spec.terminationGracePeriodSeconds > 30, 'grace period raised to cover the shutdown');
});

t.test('enforce with proxy.strategy prestop: the proxy gets a preStop delay instead', async (t) => {
  const { app } = testServer({ config: { policy: { proxy: { strategy: 'prestop' } } } });
  const review = loadReview(FIXTURE);
  const pod = applyPatch(review.request.object, patchOf((await post(app, '/mutate', review)).body));
  t.same(containerNames(pod), { containers: ['app', 'cloud-sql-proxy'], init: [] });
  const proxy = pod.spec.containers[1];
  t.ok(proxy.lifecycle?.preStop || proxy.env?.some((e: { name: string }) => e.name === 'CSQL_PROXY_MIN_SIGTERM_DELAY'), 'the proxy outlives the app');
});

t.test('reinvocation: a fixed Pod gets no patch; a sidecar added later gets fixed', async (t) => {
  const { app } = testServer({ config: { policy: { proxy: { strategy: 'prestop' } } } });
  const review = loadReview(FIXTURE);
  const first = await post(app, '/mutate', review);
  const fixed = applyPatch(review.request.object, patchOf(first.body));

  review.request.object = fixed;
  const again = await post(app, '/mutate', review);
  t.equal(again.body.response.allowed, true);
  t.notOk(again.body.response.patch, 'no patch for an already fixed Pod');
  t.notOk(again.body.response.patchType);

  // Another webhook injects a second proxy after us; the API server re-invokes us.
  const injected = structuredClone(fixed);
  injected.spec.containers.push({ ...structuredClone(review.request.object.spec.containers[1]), name: 'alloydb-proxy', image: 'gcr.io/alloydb-connectors/alloydb-auth-proxy:1.10.0', lifecycle: undefined, env: undefined });
  delete injected.spec.containers[2].lifecycle;
  delete injected.spec.containers[2].env;
  review.request.object = injected;
  const third = await post(app, '/mutate', review);
  const patch = patchOf(third.body);
  t.ok(patch.length > 0, 'the new sidecar is fixed');
  t.ok(patch.every((op) => op.path.startsWith('/spec/containers/2') || op.path === '/spec/terminationGracePeriodSeconds'), 'only the new sidecar (and the grace period) change');
  const result = applyPatch(injected, patch);
  review.request.object = result;
  t.notOk((await post(app, '/mutate', review)).body.response.patch, 'and then it is stable');
});

t.test('only Pod CREATE is mutated', async (t) => {
  const { app } = testServer();
  const update = loadReview(FIXTURE);
  update.request.operation = 'UPDATE';
  update.request.oldObject = structuredClone(update.request.object);
  update.request.options = { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' };
  const del = loadReview(FIXTURE);
  del.request.operation = 'DELETE';
  del.request.oldObject = del.request.object;
  del.request.object = null;
  del.request.options = { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' };
  const deployment = loadReview('deployment-create-proxy.json');

  for (const [what, review] of [['UPDATE', update], ['DELETE', del], ['a Deployment', deployment]] as const) {
    const { status, body } = await post(app, '/mutate', review);
    t.equal(status, 200, what);
    t.same(body.response, { uid: review.request.uid, allowed: true }, `${what}: allowed, untouched`);
  }
});

t.test('audit: nothing is mutated; warnings and audit annotations show what would be', async (t) => {
  const { app } = testServer();
  const review = loadReview(FIXTURE);
  const enforced = patchOf((await post(app, '/mutate/enforce', review)).body);
  const { status, body } = await post(app, '/mutate/audit', review);
  t.equal(status, 200);
  t.equal(body.response.allowed, true);
  t.notOk(body.response.patch, 'no patch in audit');
  t.notOk(body.response.patchType);
  const warnings = body.response.warnings ?? [];
  t.ok(warnings.some((w) => w.startsWith('proxy-sidecar-no-prestop (audit, would fix): ')), 'names the fix it would apply');
  t.ok(warnings.some((w) => w.includes('patch not applied: remove /spec/containers/1')), 'lists the patch operations');
  for (const w of warnings) t.ok(w.length < 120, `warning under 120 characters: ${w}`);
  t.equal(new Set(warnings).size, warnings.length, 'no duplicate warnings');

  const annotations = body.response.auditAnnotations ?? {};
  t.equal(annotations.mode, 'audit');
  t.same(JSON.parse(annotations['would-patch']!), enforced, 'the audit annotation holds the patch enforce would apply');
  t.match(annotations['would-fix'], /proxy-sidecar-no-prestop/);
  for (const key of Object.keys(annotations)) t.match(key, /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, `key '${key}' is a plain name (the API server prefixes the webhook name)`);
});

t.test('off: default mode off, exempt namespaces and the own namespace are never touched', async (t) => {
  const offByDefault = testServer({ config: { mode: 'off' } });
  const review = loadReview(FIXTURE);
  t.same((await post(offByDefault.app, '/mutate', review)).body.response, { uid: review.request.uid, allowed: true }, 'default mode off');
  t.ok(patchOf((await post(offByDefault.app, '/mutate/enforce', review)).body).length > 0, 'an enforce path still enforces');

  const { app, logs } = testServer({ ownNamespace: 'gracekeeper' });
  for (const namespace of ['kube-system', 'kube-public', 'kube-node-lease', 'gracekeeper']) {
    const r = loadReview(FIXTURE);
    r.request.namespace = namespace;
    r.request.object.metadata.namespace = namespace;
    for (const path of ['/mutate', '/mutate/enforce', '/mutate/audit']) {
      t.same((await post(app, path, r)).body.response, { uid: r.request.uid, allowed: true }, `${namespace} ${path}: untouched`);
    }
  }
  const reasons = logs().filter((l) => l.msg === 'admission review').map((l) => l.modeReason);
  t.same([...new Set(reasons)], ['exempt', 'own-namespace']);
});

t.test('a custom exempt list replaces the default one', async (t) => {
  const { app } = testServer({ config: { exemptNamespaces: ['shop'] } });
  const review = loadReview(FIXTURE);
  t.notOk((await post(app, '/mutate/enforce', review)).body.response.patch, 'shop is exempt');
  review.request.namespace = 'kube-system';
  review.request.object.metadata.namespace = 'kube-system';
  t.ok((await post(app, '/mutate/enforce', review)).body.response.patch, 'kube-system is no longer exempt');
});

t.test('dryRun: the same answer, marked in the log', async (t) => {
  const { app, logs } = testServer({ config: { policy: { rules: onlyRule('app-no-drain-delay') } } });
  const review = loadReview(FIXTURE);
  const normal = await post(app, '/mutate', review);
  review.request.dryRun = true;
  const dry = await post(app, '/mutate', review);
  t.same(dry.body, normal.body, 'dry run answers exactly as a real request');
  t.equal(patchOf(dry.body)[0]?.path, '/spec/containers/0/lifecycle');
  const lines = logs().filter((l) => l.msg === 'admission review');
  t.same(lines.map((l) => l.dryRun), [undefined, true]);
});

t.test('warnings stay short even from long messages', async (t) => {
  const { app } = testServer();
  const review = loadReview(FIXTURE);
  const { body } = await post(app, '/mutate/audit', review);
  for (const w of body.response.warnings ?? []) t.ok(w.length <= MAX_WARNING_LENGTH, w);
});

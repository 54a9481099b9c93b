import t, { type Test } from 'tap';
import { loadReview, onlyRule, post, testServer } from '../helpers/server.js';

// Deny findings come from readiness-probe-missing set to deny (every other rule off), so these tests are about
// the server's decisions, not about which rules exist.
const denyProbe = { policy: { rules: onlyRule('readiness-probe-missing', 'deny') } };

function withoutProbe(review: ReturnType<typeof loadReview>, key: 'object' | 'oldObject' = 'object') {
  const obj = review.request[key];
  const spec = obj.kind === 'Pod' ? obj.spec : obj.spec.template.spec;
  delete spec.containers[0].readinessProbe;
  return review;
}

function allWarningsShort(t: Test, warnings: string[] | undefined) {
  for (const w of warnings ?? []) t.ok(w.length < 120, `under 120 characters: ${w}`);
  t.equal(new Set(warnings).size, (warnings ?? []).length, 'no duplicates');
}

t.test('enforce: a deny finding refuses the Deployment with every problem, container and remedy', async (t) => {
  const { app } = testServer({ config: denyProbe });
  const review = withoutProbe(loadReview('deployment-create-proxy.json'));
  const { status, body } = await post(app, '/validate', review);
  t.equal(status, 200);
  t.equal(body.response.uid, review.request.uid);
  t.equal(body.response.allowed, false);
  const s = body.response.status!;
  t.equal(s.code, 403);
  t.equal(s.reason, 'Forbidden');
  t.match(s.message, /^Gracekeeper denied Deployment shop\/web: 1 problem\./);
  t.match(s.message, /- readiness-probe-missing \(container 'app'\): container 'app' is assumed to receive traffic on port 8080 \(the cluster view is off, so no Service is known\) but has no readinessProbe/);
  t.match(s.message, /Add one/, 'says what to do');
  t.match(s.message, /gracekeeper\.io\/skip-reason/, 'says how to exempt');
  t.notOk(body.response.patch, 'validation never patches');
});

t.test('enforce: every deny finding is listed', async (t) => {
  const { app } = testServer({ config: denyProbe });
  const review = withoutProbe(loadReview('deployment-create-proxy.json'));
  const spec = review.request.object.spec.template.spec;
  spec.containers.push({ ...structuredClone(spec.containers[0]), name: 'admin', ports: [{ containerPort: 9000, protocol: 'TCP' }] });
  const { body } = await post(app, '/validate/enforce', review);
  t.equal(body.response.allowed, false);
  t.match(body.response.status!.message, /2 problems/);
  t.match(body.response.status!.message, /container 'app'/);
  t.match(body.response.status!.message, /container 'admin'/);
});

t.test('warnings: warn findings and the fixes the Pods will receive, each under 120 characters', async (t) => {
  const { app } = testServer();
  const review = loadReview('deployment-create-proxy.json');
  const { body } = await post(app, '/validate', review);
  t.equal(body.response.allowed, true, 'no default rule denies this Deployment');
  const warnings = body.response.warnings ?? [];
  t.ok(warnings.some((w) => w.startsWith('proxy-sidecar-no-prestop (Pods get a fix): ')), 'the proxy finding says its Pods get fixed');
  t.ok(warnings.some((w) => w.startsWith('grace-period-too-short (Pods get a fix): ')), 'fixes with no finding of their own are listed too');
  allWarningsShort(t, warnings);
});

t.test('warnings on a Pod: warn findings only (the mutating webhook already applied its fixes)', async (t) => {
  const { app } = testServer({ config: { policy: { rules: onlyRule('readiness-probe-missing', 'warn') } } });
  const review = withoutProbe(loadReview('pod-create-proxy.json'));
  const { body } = await post(app, '/validate', review);
  t.equal(body.response.allowed, true);
  t.equal(body.response.warnings?.length, 1);
  t.match(body.response.warnings?.[0], /^readiness-probe-missing: container 'app' is assumed to receive traffic on port 8080/);
});

t.test('Pods: a bare Pod is denied; a Pod its controller creates is only warned about', async (t) => {
  const { app } = testServer({ config: denyProbe });
  const owned = withoutProbe(loadReview('pod-create-proxy.json'));
  const fromReplicaSet = await post(app, '/validate', owned);
  t.equal(fromReplicaSet.body.response.allowed, true, 'denying it would only stop the ReplicaSet from creating replicas');
  t.match(fromReplicaSet.body.response.warnings?.[0], /^readiness-probe-missing \(not denied: Pod of ReplicaSet web-7c9d5b8f6d\): /);

  const bare = withoutProbe(loadReview('pod-create-proxy.json'));
  delete bare.request.object.metadata.ownerReferences;
  const direct = await post(app, '/validate', bare);
  t.equal(direct.body.response.allowed, false, 'kubectl run / a bare Pod manifest is denied');
  t.match(direct.body.response.status?.message, /^Gracekeeper denied Pod shop\/web-7c9d5b8f6d-\*: 1 problem\./);
});

t.test('audit: never denies; warnings and audit annotations say what would be denied', async (t) => {
  const { app, metrics } = testServer({ config: denyProbe });
  const review = withoutProbe(loadReview('deployment-create-proxy.json'));
  const { body } = await post(app, '/validate/audit', review);
  t.equal(body.response.allowed, true);
  t.notOk(body.response.status);
  t.match(body.response.warnings?.[0], /^readiness-probe-missing \(audit: would deny\): container 'app'/);
  allWarningsShort(t, body.response.warnings);
  t.equal(body.response.auditAnnotations?.mode, 'audit');
  t.match(body.response.auditAnnotations?.['would-deny'], /readiness-probe-missing \(container 'app'\): container 'app' is assumed to receive traffic on port 8080/);
  const text = await metrics.registry.metrics();
  t.match(text, /gracekeeper_admission_requests_total\{endpoint="validate",mode="audit",result="would_deny"\} 1/);
  t.match(text, /gracekeeper_findings_total\{rule="readiness-probe-missing",action="deny"\} 1/);
});

t.test('off: allowed without evaluation, wherever it comes from', async (t) => {
  const { app } = testServer({ config: { ...denyProbe, mode: 'off' }, ownNamespace: 'gracekeeper' });
  const review = withoutProbe(loadReview('deployment-create-proxy.json'));
  t.same((await post(app, '/validate', review)).body.response, { uid: review.request.uid, allowed: true });
  for (const namespace of ['kube-system', 'gracekeeper']) {
    review.request.namespace = namespace;
    review.request.object.metadata.namespace = namespace;
    t.same((await post(app, '/validate/enforce', review)).body.response, { uid: review.request.uid, allowed: true }, namespace);
  }
});

t.test('UPDATE denies only what the update introduces', async (t) => {
  const { app } = testServer({ config: denyProbe });

  const scaled = withoutProbe(withoutProbe(loadReview('deployment-update-replicas.json')), 'oldObject');
  const a = await post(app, '/validate', scaled);
  t.equal(a.body.response.allowed, true, 'scaling a Deployment that already had the problem is allowed');
  t.match(a.body.response.warnings?.[0], /^readiness-probe-missing \(existing, not denied on update\): /, 'but warned about');

  const introduced = withoutProbe(loadReview('deployment-update-replicas.json'));
  const b = await post(app, '/validate', introduced);
  t.equal(b.body.response.allowed, false, 'an update that removes the probe is denied');
  t.match(b.body.response.status?.message, /readiness-probe-missing/);

  const renamed = withoutProbe(withoutProbe(loadReview('deployment-update-replicas.json')), 'oldObject');
  const spec = renamed.request.object.spec.template.spec;
  spec.containers.push({ ...structuredClone(spec.containers[0]), name: 'admin' });
  const c = await post(app, '/validate', renamed);
  t.equal(c.body.response.allowed, false, 'a new container with the problem is new');
  t.match(c.body.response.status?.message, /1 problem\.\n- readiness-probe-missing \(container 'admin'\)/, 'only the new container is denied');
});

t.test('never evaluated: DELETE, CONNECT, subresources, objects being deleted, other kinds', async (t) => {
  const { app } = testServer({ config: denyProbe });
  const base = () => withoutProbe(loadReview('deployment-update-replicas.json'));

  const del = base();
  del.request.operation = 'DELETE';
  del.request.object = null;
  del.request.options = { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Background' };

  const scale = base();
  scale.request.subResource = 'scale';
  scale.request.requestSubResource = 'scale';
  scale.request.kind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  scale.request.object = { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 9 }, status: { replicas: 3 } };
  scale.request.oldObject = { ...scale.request.object, spec: { replicas: 3 } };

  const status = base();
  status.request.subResource = 'status';
  status.request.oldObject = structuredClone(status.request.object);

  const deleting = base();
  deleting.request.oldObject = structuredClone(deleting.request.object);
  deleting.request.object.metadata.deletionTimestamp = '2025-06-02T10:00:00Z';
  deleting.request.object.metadata.finalizers = [];

  const service = loadReview('deployment-create-proxy.json');
  service.request.kind = { group: '', version: 'v1', kind: 'Service' };
  service.request.object = { kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } };

  for (const [what, review] of Object.entries({ del, scale, status, deleting, service })) {
    const { status: code, body } = await post(app, '/validate/enforce', review);
    t.equal(code, 200, what);
    t.same(body.response, { uid: review.request.uid, allowed: true }, `${what}: allowed untouched`);
  }
});

t.test('unreadable workloads: denied with the reason in enforce, allowed with a warning in audit, never a 500', async (t) => {
  const { app } = testServer();
  const review = loadReview('deployment-create-proxy.json');
  review.request.object.spec.template.spec.containers = { name: 'app' };

  for (const endpoint of ['validate', 'mutate']) {
    const r = structuredClone(review);
    if (endpoint === 'mutate') {
      r.request.kind = { group: '', version: 'v1', kind: 'Pod' };
      r.request.object = { ...loadReview('pod-create-proxy.json').request.object };
      r.request.object.spec.containers = 'app';
    }
    const enforce = await post(app, `/${endpoint}/enforce`, r);
    t.equal(enforce.status, 200, `${endpoint} enforce: answered`);
    t.equal(enforce.body.response.allowed, false, `${endpoint} enforce: denied`);
    t.match(enforce.body.response.status?.message, /^Gracekeeper cannot read this object: \w+: spec\.(template\.spec\.)?containers /);

    const audit = await post(app, `/${endpoint}/audit`, r);
    t.equal(audit.status, 200, `${endpoint} audit: answered`);
    t.equal(audit.body.response.allowed, true, `${endpoint} audit: allowed`);
    t.match(audit.body.response.warnings?.[0], /^gracekeeper \(audit\): cannot read this object: /);
    t.ok(audit.body.response.warnings!.every((w) => w.length < 120));
  }
});

import t from 'tap';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/metrics.js';
import { Readiness } from '../../src/server/readiness.js';
import { loadReview, onlyRule, post, testServer } from '../helpers/server.js';

t.test('bad input: a status and a one-line reason, never a 500', async (t) => {
  const { app, metrics } = testServer({ config: { server: { bodyLimitBytes: 64 * 1024 } } });
  const valid = loadReview('pod-create-proxy.json');
  const json = 'application/json';
  const cases: Array<[string, string | undefined, string, number, RegExp, string]> = [
    ['text/plain', 'text/plain', JSON.stringify(valid), 415, /^content type must be application\/json, got 'text\/plain'$/, 'CONTENT_TYPE_UNSUPPORTED'],
    ['yaml', 'application/yaml', 'apiVersion: v1', 415, /^content type must be application\/json/, 'CONTENT_TYPE_UNSUPPORTED'],
    ['no content type', undefined, JSON.stringify(valid), 415, /^content type must be application\/json, got none$/, 'CONTENT_TYPE_UNSUPPORTED'],
    ['empty body', json, '', 400, /^body is empty/, 'REVIEW_NOT_JSON'],
    ['truncated JSON', json, JSON.stringify(valid).slice(0, 200), 400, /^body is not valid JSON: /, 'REVIEW_NOT_JSON'],
    ['not JSON', json, 'hello', 400, /^body is not valid JSON: /, 'REVIEW_NOT_JSON'],
    ['an array', json, '[1,2]', 400, /^body must be a JSON object \(an AdmissionReview\), got an array$/, 'REVIEW_INVALID'],
    ['a string', json, '"review"', 400, /^body must be a JSON object \(an AdmissionReview\), got string$/, 'REVIEW_INVALID'],
    ['null', json, 'null', 400, /^body must be a JSON object/, 'REVIEW_INVALID'],
    ['no request', json, JSON.stringify({ ...valid, request: undefined }), 400, /^request is missing$/, 'REVIEW_INVALID'],
    ['request not an object', json, JSON.stringify({ ...valid, request: 'x' }), 400, /^request must be an object$/, 'REVIEW_INVALID'],
    ['no uid', json, JSON.stringify({ ...valid, request: { ...valid.request, uid: undefined } }), 400, /^request\.uid is missing or empty$/, 'REVIEW_INVALID'],
    ['empty uid', json, JSON.stringify({ ...valid, request: { ...valid.request, uid: '' } }), 400, /^request\.uid is missing or empty$/, 'REVIEW_INVALID'],
    ['v1beta1', json, JSON.stringify({ ...valid, apiVersion: 'admission.k8s.io/v1beta1' }), 400, /^apiVersion must be admission\.k8s\.io\/v1, got 'admission\.k8s\.io\/v1beta1'$/, 'REVIEW_UNSUPPORTED_VERSION'],
    ['no apiVersion', json, JSON.stringify({ ...valid, apiVersion: undefined }), 400, /^apiVersion must be admission\.k8s\.io\/v1, got undefined$/, 'REVIEW_UNSUPPORTED_VERSION'],
    ['wrong kind', json, JSON.stringify({ ...valid, kind: 'Pod' }), 400, /^kind must be AdmissionReview, got 'Pod'$/, 'REVIEW_INVALID'],
    ['unknown operation', json, JSON.stringify({ ...valid, request: { ...valid.request, operation: 'PATCH' } }), 400, /^request\.operation: must be one of CREATE, UPDATE, DELETE, CONNECT$/, 'REVIEW_INVALID'],
    ['object null on CREATE', json, JSON.stringify({ ...valid, request: { ...valid.request, object: null } }), 400, /^request\.object is required for CREATE$/, 'REVIEW_INVALID'],
    ['object not an object', json, JSON.stringify({ ...valid, request: { ...valid.request, object: [1] } }), 400, /^request\.object: /, 'REVIEW_INVALID'],
    ['__proto__ key', json, JSON.stringify(valid).replace('"labels":{', '"labels":{"__proto__":{"x":1},'), 400, /^body has a forbidden __proto__/, 'REVIEW_NOT_JSON'],
    ['over the body limit', json, JSON.stringify({ ...valid, pad: 'x'.repeat(64 * 1024) }), 413, /^body is larger than the limit of 65536 bytes$/, 'BODY_TOO_LARGE'],
  ];
  for (const [what, contentType, payload, status, message, code] of cases) {
    for (const url of ['/mutate', '/validate/enforce']) {
      const res = await app.inject({ method: 'POST', url, payload, headers: contentType ? { 'content-type': contentType } : {} });
      t.equal(res.statusCode, status, `${what} ${url}: ${status}`);
      t.match(res.headers['content-type'], /^application\/json/, `${what}: JSON error body`);
      const body = res.json();
      t.match(body.error, message, `${what}: reason`);
      t.notMatch(body.error, /\n/, `${what}: one line`);
      t.equal(body.code, code, `${what}: code`);
    }
  }
  const ok = await post(app, '/validate', valid);
  t.equal(ok.status, 200, 'a good review right after is answered');
  const text = await metrics.registry.metrics();
  t.match(text, new RegExp(`gracekeeper_admission_requests_total\\{endpoint="mutate",mode="unknown",result="invalid"\\} ${cases.length}`));
});

t.test('unknown routes and methods are 404 with a JSON reason; admission is POST only', async (t) => {
  const { app } = testServer();
  for (const [method, url] of [['POST', '/mutate/off'], ['POST', '/admit'], ['GET', '/mutate'], ['POST', '/validate/enforce/x']] as const) {
    const res = await app.inject({ method, url });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.match(res.json().error, new RegExp(`^no route ${method} `));
  }
});

t.test('health, readiness and its flip at shutdown', async (t) => {
  const { app, readiness } = testServer();
  t.same((await app.inject('/healthz')).json(), { status: 'ok' });
  const ready = await app.inject('/readyz');
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { ready: true, reasons: [], checks: { certificate: 'loaded', config: 'ok', clusterView: 'disabled', shuttingDown: false } });

  readiness.markShuttingDown();
  const draining = await app.inject('/readyz');
  t.equal(draining.statusCode, 503, 'not ready once shutdown begins');
  t.same(draining.json().reasons, ['shutting down']);
  t.equal((await app.inject('/healthz')).statusCode, 200, 'still live');
  t.equal((await post(app, '/mutate', loadReview('pod-create-proxy.json'))).status, 200, 'still answers reviews during the delay');
});

t.test('readiness: not ready while the cluster view syncs; degraded stays ready and says so', async (t) => {
  let state: 'syncing' | 'synced' | 'degraded' = 'syncing';
  const readiness = new Readiness({ certificateLoaded: () => true, clusterViewState: () => state, configStatus: () => 'ok' });
  t.same(readiness.report().reasons, ['cluster view still syncing']);
  state = 'synced';
  t.equal(readiness.report().ready, true);
  state = 'degraded';
  t.equal(readiness.report().ready, true);
  t.equal(readiness.report().checks.clusterView, 'degraded');
  const noCert = new Readiness({ certificateLoaded: () => false, clusterViewState: () => 'disabled', configStatus: () => 'ok' });
  t.same(noCert.report().reasons, ['no serving certificate loaded']);
});

t.test('the health-only app (plain HTTP port) serves no admission endpoint', async (t) => {
  const metrics = createMetrics({ clusterViewState: () => 'disabled', processMetrics: false });
  const readiness = new Readiness({ certificateLoaded: () => true, clusterViewState: () => 'disabled', configStatus: () => 'ok' });
  const app = buildApp({ logger: createLogger('silent'), metrics, readiness, bodyLimitBytes: 64 * 1024 });
  t.equal((await app.inject('/healthz')).statusCode, 200);
  t.equal((await app.inject('/readyz')).statusCode, 200);
  t.equal((await app.inject('/metrics')).statusCode, 200);
  for (const url of ['/mutate', '/validate', '/mutate/enforce', '/validate/audit']) {
    t.equal((await post(app, url, loadReview('pod-create-proxy.json'))).status, 404, url);
  }
});

t.test('metrics: requests, duration, findings, patches, cluster view state, reloads, process', async (t) => {
  // app-no-drain-delay fixes with the cluster view off too (readiness-probe-missing then only warns: no probe is
  // added on a port not known to carry traffic).
  const { app } = testServer({ config: { policy: { rules: onlyRule('app-no-drain-delay', 'deny') } } });
  const pod = loadReview('pod-create-proxy.json');
  delete pod.request.object.metadata.ownerReferences; // a bare Pod: deniable
  await post(app, '/mutate', pod);
  await post(app, '/validate', pod);
  await post(app, '/mutate/audit', pod);
  const res = await app.inject('/metrics');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain/);
  const text = res.body;
  t.match(text, /gracekeeper_admission_requests_total\{endpoint="mutate",mode="enforce",result="patched"\} 1/);
  t.match(text, /gracekeeper_admission_requests_total\{endpoint="validate",mode="enforce",result="denied"\} 1/);
  t.match(text, /gracekeeper_admission_requests_total\{endpoint="mutate",mode="audit",result="would_patch"\} 1/);
  t.match(text, /gracekeeper_admission_duration_seconds_count\{endpoint="mutate",mode="enforce"\} 1/);
  t.match(text, /gracekeeper_admission_duration_seconds_bucket\{le="0.005",endpoint="validate",mode="enforce"\}/);
  t.match(text, /gracekeeper_findings_total\{rule="app-no-drain-delay",action="deny"\} 1/, 'findings counted once, from /validate');
  t.match(text, /gracekeeper_patches_total 1/);
  t.match(text, /gracekeeper_cluster_view_state\{state="disabled"\} 1/);
  t.match(text, /gracekeeper_cluster_view_state\{state="synced"\} 0/);
  t.match(text, /gracekeeper_config_reloads_total\{result="failure"\} 0/);
  t.match(text, /gracekeeper_certificate_reloads_total\{result="success"\} 0/);
  const withProcess = createMetrics({ clusterViewState: () => 'disabled' });
  t.match(await withProcess.registry.metrics(), /process_cpu_user_seconds_total/, 'process metrics on the real registry');
});

t.test('logs: one line per review with identifiers and the decision; never object contents', async (t) => {
  const { app, logs, rawLogs } = testServer({ config: { policy: { rules: onlyRule('readiness-probe-missing', 'deny') } } });
  const review = loadReview('deployment-create-proxy.json');
  const app0 = review.request.object.spec.template.spec.containers[0];
  delete app0.readinessProbe;
  app0.env.push({ name: 'DB_PASSWORD', value: 'hunter2-plaintext' });
  await post(app, '/validate', review);
  const lines = logs().filter((l) => l.msg === 'admission review');
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], {
    uid: review.request.uid,
    kind: 'Deployment',
    namespace: 'shop',
    name: 'web',
    operation: 'CREATE',
    endpoint: 'validate',
    mode: 'enforce',
    decision: 'denied',
    findings: 1,
    rules: ['readiness-probe-missing'],
  });
  t.type(lines[0]!.latencyMs, 'number');
  t.notMatch(rawLogs(), /hunter2/, 'no env value in logs');
  t.notMatch(rawLogs(), /ghcr\.io\/example/, 'no object contents in logs');
});

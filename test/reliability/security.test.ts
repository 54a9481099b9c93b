/**
 * Security properties of the transport and the logs (SECURITY.md): admission only over TLS 1.2+, no admission
 * route on the plain-HTTP health port, client certificates required when a client CA is configured, and no
 * env value or secret from a request in the logs.
 */
import t from 'tap';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/metrics.js';
import { Readiness } from '../../src/server/readiness.js';
import { testServer } from '../helpers/server.js';
import { edited } from './lib/catalogue.js';
import { sendRaw, tlsTestServer } from './lib/tls.js';

const review = edited(() => {});

t.test('the health port serves no admission route', async (t) => {
  const metrics = createMetrics({ clusterViewState: () => 'disabled', processMetrics: false });
  const readiness = new Readiness({ certificateLoaded: () => true, clusterViewState: () => 'disabled', configStatus: () => 'ok' });
  // As main.ts builds the health app: no `admission` deps.
  const health = buildApp({ logger: createLogger('silent'), metrics, readiness, bodyLimitBytes: 64 * 1024 });
  t.teardown(() => health.close());
  for (const url of ['/mutate', '/validate', '/mutate/enforce', '/validate/audit']) {
    const res = await health.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: review });
    t.equal(res.statusCode, 404, `POST ${url} is 404`);
    t.notMatch(res.body, /AdmissionReview/, `POST ${url} gives no admission answer`);
  }
  t.equal((await health.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'GET /healthz answers');
  t.equal((await health.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'GET /readyz answers');
});

t.test('admission over TLS: 1.2 and 1.3 accepted, 1.0 and 1.1 refused', async (t) => {
  const server = await tlsTestServer();
  t.teardown(() => server.close());
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const answer = await sendRaw(server.baseUrl, server.caPem, '/validate', review, { minVersion: version, maxVersion: version });
    t.equal(answer.status, 200, `${version} is accepted`);
  }
  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    // The client must be allowed to offer the old version at all (OpenSSL 3 forbids it at the default level).
    const attempt = sendRaw(server.baseUrl, server.caPem, '/validate', review, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' });
    await t.rejects(attempt, { message: /alert protocol version/ }, `${version} is refused by the server`);
  }
});

t.test('with a client CA, only clients with a certificate it signed get an answer', async (t) => {
  const clientCa = await createCertificateAuthority('API server client CA', 1);
  const otherCa = await createCertificateAuthority('some other CA', 1);
  const apiServer = await issueCertificate(clientCa, { commonName: 'kube-apiserver-webhook-client', usage: 'client', days: 1 });
  const stranger = await issueCertificate(otherCa, { commonName: 'kube-apiserver-webhook-client', usage: 'client', days: 1 });
  const server = await tlsTestServer({ clientCa: clientCa.cert });
  t.teardown(() => server.close());

  const ok = await sendRaw(server.baseUrl, server.caPem, '/validate', review, { cert: apiServer.cert, key: apiServer.key });
  t.equal(ok.status, 200, 'the API server certificate is accepted');
  await t.rejects(sendRaw(server.baseUrl, server.caPem, '/validate', review), 'no client certificate: refused');
  await t.rejects(sendRaw(server.baseUrl, server.caPem, '/validate', review, { cert: stranger.cert, key: stranger.key }), 'a certificate from another CA: refused');
});

t.test('no env value or secret from a request reaches the logs', async (t) => {
  const SECRET = 'hunter2-Pl41nT3xt-Passw0rd';
  const server = testServer();
  t.teardown(() => server.app.close());
  const withSecrets = edited((r) => {
    const app = r.request.object.spec.containers[0];
    app.env.push({ name: 'DB_PASSWORD', value: SECRET }, { name: 'API_TOKEN', value: `token-${SECRET}` });
    app.args = [`--password=${SECRET}`];
    r.request.object.metadata.annotations = { 'example.com/secret': SECRET };
  });
  const unreadable = edited((r) => {
    r.request.object.spec.containers[0].env = [{ name: 'DB_PASSWORD', value: SECRET }, { name: 7, value: SECRET }];
  });
  const asJson = { 'content-type': 'application/json' };
  const answers = [];
  for (const url of ['/validate', '/mutate', '/validate/audit', '/mutate/audit']) {
    for (const payload of [withSecrets, unreadable]) answers.push(await server.app.inject({ method: 'POST', url, headers: asJson, payload }));
  }
  answers.push(await server.app.inject({ method: 'POST', url: '/validate', headers: asJson, payload: withSecrets.slice(0, -10) }));

  t.ok(answers.every((a) => a.statusCode < 500), 'every request answered');
  t.ok(answers.some((a) => a.body.includes('plaintext-secret-env')), 'the plaintext-secret-env rule saw the password');
  const logs = server.rawLogs();
  t.ok(server.logs().filter((l) => l.msg === 'admission review').length >= 8, 'each review was logged');
  t.notOk(logs.includes(SECRET), 'the password appears nowhere in the logs');
  t.notOk(answers.some((a) => a.body.includes(SECRET)), 'nor in any answer');
});

t.test('the logger redacts object contents and secret-looking keys if someone logs them', async (t) => {
  const server = testServer();
  t.teardown(() => server.app.close());
  // The app's logger is the one createLogger made (redaction paths included), writing into memory.
  server.app.log.info({ object: { spec: 'OBJ-VALUE' }, review: { oldObject: 'OLD-VALUE' }, env: ['ENV-VALUE'], password: 'PW-VALUE', token: 'TOKEN-VALUE', container: { secret: 'SECRET-VALUE' } }, 'mistake');
  server.app.log.child({ secret: 'BINDING-VALUE' }).info({ request: { headers: { authorization: 'AUTH-VALUE', 'user-agent': 'kube-apiserver' } } }, 'headers');
  server.app.log.error({ err: Object.assign(new Error('boom'), { token: 'ERR-VALUE' }) }, 'an error carrying a token');
  const raw = server.rawLogs();
  t.match(raw, /mistake/, 'the line was written');
  for (const value of ['OBJ-VALUE', 'OLD-VALUE', 'ENV-VALUE', 'PW-VALUE', 'TOKEN-VALUE', 'SECRET-VALUE', 'BINDING-VALUE', 'AUTH-VALUE', 'ERR-VALUE']) t.notOk(raw.includes(value), `${value} redacted`);
  t.match(raw, /\[redacted\]/);
  const lines = server.logs();
  t.match(lines.find((l) => l.msg === 'headers'), { request: { headers: { 'user-agent': 'kube-apiserver' } } }, 'other keys kept');
  t.match(lines.find((l) => l.msg === 'an error carrying a token'), { err: { type: 'Error', message: 'boom', stack: /boom/ } }, 'a censored error still logs as one');
});

t.test('an honoured exemption is logged with its rules and reason; one without a reason is not honoured', async (t) => {
  const server = testServer();
  t.teardown(() => server.app.close());
  const exempt = (reason: string | undefined) =>
    edited((r) => {
      r.request.uid = reason ? 'with-reason' : 'without-reason';
      r.request.object.metadata.annotations = { 'gracekeeper.io/skip': 'proxy-sidecar-no-prestop', ...(reason ? { 'gracekeeper.io/skip-reason': reason } : {}) };
    });
  const asJson = { 'content-type': 'application/json' };
  const honoured = await server.app.inject({ method: 'POST', url: '/validate', headers: asJson, payload: exempt('proxy drains itself (ticket OPS-42)\nsecond line') });
  const ignored = await server.app.inject({ method: 'POST', url: '/validate', headers: asJson, payload: exempt(undefined) });
  t.equal(honoured.statusCode, 200);
  t.notMatch(honoured.body, /proxy-sidecar-no-prestop/, 'the exempted rule did not run');
  t.match(ignored.body, /skip-annotation-invalid/, 'a skip without a reason is reported');
  t.match(ignored.body, /proxy-sidecar-no-prestop/, 'and not honoured');

  const lines = server.logs().filter((l) => l.msg === 'admission review');
  const logged = lines.find((l) => l.uid === 'with-reason');
  t.same(logged?.exemption, { rules: 'proxy-sidecar-no-prestop', reason: 'proxy drains itself (ticket OPS-42) second line' }, 'rules and reason (one line) in the log');
  t.equal(lines.find((l) => l.uid === 'without-reason')?.exemption, undefined, 'no exemption logged when it was not honoured');
});

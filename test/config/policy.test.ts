import t from 'tap';
import { defaultPolicyConfig, parsePolicyConfig } from '../../src/config/policy.js';
import { imageMatches } from '../../src/engine/containers.js';
import { GracekeeperError } from '../../src/errors.js';

const ids = ['readiness-probe-missing', 'rollout-drops-all-pods'];

t.test('no config at all gives sensible defaults', async (t) => {
  const c = defaultPolicyConfig();
  t.same(c.rules, {});
  t.equal(c.proxy.strategy, 'auto');
  t.ok(c.proxy.imagePatterns.length >= 7);
  t.same(c.timings, { appPreStopSeconds: 5, drainSeconds: 25, proxyShutdownSeconds: 5 });
  t.equal(c.kubernetesVersion, '1.37');
  t.same(parsePolicyConfig(undefined, ids), c);
  t.same(parsePolicyConfig(null, ids), c);
});

t.test('partial config keeps the other defaults', async (t) => {
  const c = parsePolicyConfig({ timings: { drainSeconds: 40 }, rules: { 'rollout-drops-all-pods': 'warn' } }, ids);
  t.equal(c.timings.drainSeconds, 40);
  t.equal(c.timings.appPreStopSeconds, 5);
  t.equal(c.rules['rollout-drops-all-pods'], 'warn');
});

t.test('bad values name the field', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ timings: { drainSeconds: -1 } }, /^policy\.timings\.drainSeconds: /],
    [{ timings: { drainSeconds: 'ten' } }, /^policy\.timings\.drainSeconds: /],
    [{ proxy: { strategy: 'sometimes' } }, /^policy\.proxy\.strategy: /],
    [{ proxy: { imagePatterns: ['ok', '('] } }, /^policy\.proxy\.imagePatterns\[1\]: not a valid regular expression/],
    [{ rules: { 'readiness-probe-missing': 'block' } }, /^policy\.rules\.readiness-probe-missing: /],
    [{ rules: { 'no-such-rule': 'warn' } }, /^policy\.rules: unknown rule id 'no-such-rule'/],
    [{ kubernetesVersion: '2.0' }, /^policy\.kubernetesVersion: /],
    [{ typo: 1 }, /^policy/],
    [[1, 2], /^policy: must be a mapping/],
  ];
  for (const [input, message] of cases) {
    const err = t.throws(() => parsePolicyConfig(input, ids)) as GracekeeperError;
    t.type(err, GracekeeperError);
    t.equal(err.code, 'CONFIG_INVALID');
    t.match(err.message, message, JSON.stringify(input));
  }
});

t.test('parsing does not change the input', async (t) => {
  const input = { timings: { drainSeconds: 40 } };
  parsePolicyConfig(input, ids);
  t.same(input, { timings: { drainSeconds: 40 } });
});

t.test('default proxy and shell image patterns: the names proxies are published under, and nothing else', async (t) => {
  const c = defaultPolicyConfig();
  const proxy = (image: string) => imageMatches(image, c.proxy.imagePatterns);
  const shell = (image: string) => imageMatches(image, c.proxy.shellImagePatterns);
  for (const image of [
    'envoyproxy/envoy:v1.31.2',
    'envoyproxy/envoy:distroless-v1.35-latest',
    'docker.io/envoyproxy/envoy-distroless:v1.32.3@sha256:375aab0d80b3c0e1b42a776b4cb1743ed79012032051d2da19cbc93ea884fb81',
    'envoyproxy/envoy-alpine:v1.21.6',
    'envoyproxy/envoy-dev:4e486e1d336fd0e67ea4f1ee27475daaf6291321',
    'envoyproxy/envoy-distroless-dev:latest',
    'envoyproxy/envoy-debug:v1.31.2',
    'envoyproxy/envoy-contrib:v1.30-latest',
    'envoyproxy/envoy-contrib-dev:latest',
    'mirror.example.com/envoyproxy/envoy-distroless:v1.33-latest',
    'envoyproxy/envoy',
    'gcr.io/cloudsql-docker/gce-proxy:1.37.0-alpine',
    'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1',
    'docker.io/istio/proxyv2:1.24.0',
  ]) {
    t.ok(proxy(image), `${image} is a proxy`);
  }
  for (const image of [
    'envoyproxy/gateway:v1.8.2',
    'envoyproxy/ratelimit:1e50889b',
    'example/envoy-config-loader:1.0',
    'example/myenvoy:1.0',
    'example/envoy-alpine-tools:1.0',
    'nginx:1.27',
    'example/app:envoy',
  ]) {
    t.notOk(proxy(image), `${image} is not a proxy`);
  }
  t.ok(shell('envoyproxy/envoy-alpine:v1.21.6'), 'envoy-alpine ships a shell');
  t.ok(shell('envoyproxy/envoy-alpine-dev:latest'), 'envoy-alpine-dev ships a shell');
  t.notOk(shell('envoyproxy/envoy-distroless:v1.32.3'), 'envoy-distroless has no shell');
  t.notOk(shell('envoyproxy/envoy:distroless-v1.31.2'), 'the distroless envoy tag has no shell');
});

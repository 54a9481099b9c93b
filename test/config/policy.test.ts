import t from 'tap';
import { defaultPolicyConfig, parsePolicyConfig } from '../../src/config/policy.js';
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

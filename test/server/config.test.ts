import t from 'tap';
import { readEnvironment } from '../../src/config/env.js';
import {
  allOverrides,
  buildServerConfig,
  clusterViewEnabled,
  configFilePath,
  parseCommandLine,
  restartOnlyChanges,
} from '../../src/config/server.js';
import { GracekeeperError } from '../../src/errors.js';
import { RULE_IDS } from '../../src/rules/index.js';

const build = (file: unknown, argv: string[] = [], env: Record<string, string> = {}) =>
  buildServerConfig(file, allOverrides(parseCommandLine(argv), readEnvironment(env)), RULE_IDS);

t.test('no file, no flags: the documented defaults', async (t) => {
  const c = build(undefined);
  t.equal(c.mode, 'enforce');
  t.same(c.exemptNamespaces, ['kube-system', 'kube-public', 'kube-node-lease']);
  t.same(c.server, {
    host: '0.0.0.0',
    port: 8443,
    healthPort: 9090,
    bodyLimitBytes: 6291456,
    shutdownDelaySeconds: 5,
    shutdownTimeoutSeconds: 20,
    requestTimeoutSeconds: 10,
  });
  t.same(c.tls, { certFile: '', keyFile: '', clientCaFile: '', reloadIntervalSeconds: 10 });
  t.same(c.clusterView, { enabled: 'auto', kubeconfig: '', resyncSeconds: 60 });
  t.equal(c.logLevel, 'info');
  t.equal(c.policy.proxy.strategy, 'auto', 'policy defaults filled in');
});

t.test('file < environment < flags', async (t) => {
  const file = { mode: 'audit', server: { port: 1000, healthPort: 1001 }, logLevel: 'warn', tls: { certFile: '/f.crt', keyFile: '/f.key' } };
  const env = { GRACEKEEPER_PORT: '2000', GRACEKEEPER_MODE: 'off', GRACEKEEPER_TLS_CERT: '/e.crt', GRACEKEEPER_LOG_LEVEL: 'debug', UNRELATED: 'x' };
  const c = build(file, ['--port', '3000', '--tls-cert=/a.crt', '--host', '127.0.0.1'], env);
  t.equal(c.server.port, 3000, 'flag wins');
  t.equal(c.server.healthPort, 1001, 'file value kept where nothing overrides it');
  t.equal(c.mode, 'off', 'env beats file');
  t.equal(c.logLevel, 'debug');
  t.equal(c.tls.certFile, '/a.crt');
  t.equal(c.tls.keyFile, '/f.key');
  t.equal(c.server.host, '127.0.0.1');
  t.equal(build(undefined, ['--no-cluster-view'], { GRACEKEEPER_CLUSTER_VIEW: 'true' }).clusterView.enabled, false, '--no-cluster-view beats env');
  t.equal(build(undefined, [], { GRACEKEEPER_CLUSTER_VIEW: 'true' }).clusterView.enabled, true);
  t.equal(build({ clusterView: { kubeconfig: '/file' } }, [], { KUBECONFIG: '/env' }).clusterView.kubeconfig, '/env');
});

t.test('config file path: --config wins over GRACEKEEPER_CONFIG', async (t) => {
  t.equal(configFilePath(parseCommandLine(['--config', '/a.yaml']), { GRACEKEEPER_CONFIG: '/b.yaml' }), '/a.yaml');
  t.equal(configFilePath(parseCommandLine([]), { GRACEKEEPER_CONFIG: '/b.yaml' }), '/b.yaml');
  t.equal(configFilePath(parseCommandLine([]), {}), undefined);
  t.equal(parseCommandLine(['--help']).help, true);
});

t.test('a bad value is one line naming the field, flag or variable (never the value)', async (t) => {
  const cases: Array<[() => unknown, RegExp, string]> = [
    [() => build({ server: { port: 70000 } }), /^config\.server\.port: expected integer to be less or equal to 65535$/, 'CONFIG_INVALID'],
    [() => build({ server: { port: 'https' } }), /^config\.server\.port: expected integer$/, 'CONFIG_INVALID'],
    [() => build({ mode: 'strict' }), /^config\.mode: must be one of enforce, audit, off$/, 'CONFIG_INVALID'],
    [() => build({ clusterView: { enabled: 'yes' } }), /^config\.clusterView\.enabled: must be one of auto, true, false$/, 'CONFIG_INVALID'],
    [() => build({ server: { prot: 1 } }), /^config\.server\.prot: /, 'CONFIG_INVALID'],
    [() => build({ exemptNamespaces: ['ok', ''] }), /^config\.exemptNamespaces\[1\]: /, 'CONFIG_INVALID'],
    [() => build({ policy: { timings: { drainSeconds: -1 } } }), /^config\.policy\.timings\.drainSeconds: /, 'CONFIG_INVALID'],
    [() => build({ policy: { rules: { 'no-such-rule': 'deny' } } }), /^config\.policy\.rules: unknown rule id 'no-such-rule'/, 'CONFIG_INVALID'],
    [() => build({ server: { shutdownDelaySeconds: 30, shutdownTimeoutSeconds: 20 } }), /^config\.server\.shutdownDelaySeconds: must be less than server\.shutdownTimeoutSeconds$/, 'CONFIG_INVALID'],
    [() => build({ tls: { certFile: '/x.crt' } }), /^config\.tls\.keyFile: certFile and keyFile go together/, 'CONFIG_INVALID'],
    [() => build(['a']), /^config: must be a mapping$/, 'CONFIG_INVALID'],
    [() => build(undefined, ['--port', 'eighty']), /^--port: expected integer$/, 'CONFIG_INVALID'],
    [() => build(undefined, ['--port', '1.5']), /^--port: expected integer$/, 'CONFIG_INVALID'],
    [() => build(undefined, ['--port', '0']), /^--port: expected integer to be greater or equal to 1$/, 'CONFIG_INVALID'],
    [() => build(undefined, ['--mode', 'strict']), /^--mode: must be one of enforce, audit, off$/, 'CONFIG_INVALID'],
    [() => build(undefined, ['--log-level', 'loud']), /^--log-level: must be one of fatal, error/, 'CONFIG_INVALID'],
    [() => build(undefined, [], { GRACEKEEPER_HEALTH_PORT: 'none' }), /^GRACEKEEPER_HEALTH_PORT: expected integer$/, 'CONFIG_INVALID'],
    [() => build(undefined, [], { GRACEKEEPER_CLUSTER_VIEW: 'maybe' }), /^GRACEKEEPER_CLUSTER_VIEW: must be one of auto, true, false$/, 'CONFIG_INVALID'],
    [() => build({ server: { port: 'x' } }, ['--port', '8443']), /^config\.server\.port: /, 'CONFIG_INVALID'],
    [() => parseCommandLine(['--prot', '1']), /^Unknown option '--prot'/, 'USAGE_INVALID'],
    [() => parseCommandLine(['extra']), /^Unexpected argument 'extra'/, 'USAGE_INVALID'],
    [() => parseCommandLine(['--port']), /^Option '--port <value>' argument missing/, 'USAGE_INVALID'],
  ];
  for (const [fn, message, code] of cases) {
    const err = t.throws(fn) as GracekeeperError;
    t.type(err, GracekeeperError);
    t.equal(err.code, code, String(message));
    t.match(err.message, message);
    t.notMatch(err.message, /\n/, 'one line');
  }
  const secret = t.throws(() => build(undefined, [], { GRACEKEEPER_PORT: 's3cr3t-value' })) as Error;
  t.notMatch(secret.message, /s3cr3t/, 'an environment value is never echoed');
});

t.test('cluster view auto: on in a cluster or with a kubeconfig', async (t) => {
  t.equal(clusterViewEnabled(build(undefined), {}), false, 'a laptop with nothing: off');
  t.equal(clusterViewEnabled(build(undefined), { KUBERNETES_SERVICE_HOST: '10.0.0.1' }), true, 'in a Pod: on');
  t.equal(clusterViewEnabled(build(undefined, ['--kubeconfig', '/k']), {}), true, 'kubeconfig given: on');
  t.equal(clusterViewEnabled(build(undefined, ['--no-cluster-view']), { KUBERNETES_SERVICE_HOST: '10.0.0.1' }), false, 'disabled wins');
});

t.test('restart-only changes are listed on reload', async (t) => {
  const before = build({ mode: 'enforce', server: { port: 8443 } });
  const after = build({ mode: 'audit', server: { port: 9443 }, tls: { reloadIntervalSeconds: 5 } });
  t.same(restartOnlyChanges(before, after), ['server.port', 'tls.reloadIntervalSeconds']);
});

t.test('the environment reader keeps only Gracekeeper variables, without empty ones', async (t) => {
  t.same(readEnvironment({ GRACEKEEPER_MODE: 'audit', GRACEKEEPER_PORT: '', PATH: '/bin', POD_NAMESPACE: 'gk' }), { GRACEKEEPER_MODE: 'audit', POD_NAMESPACE: 'gk' });
});

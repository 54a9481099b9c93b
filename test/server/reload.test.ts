import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readConfigFile } from '../../src/config/file.js';
import { buildServerConfig, type ServerConfig } from '../../src/config/server.js';
import { RULE_IDS } from '../../src/rules/index.js';
import { configReloader } from '../../src/server/config-reload.js';
import { loadReview, onlyRule, post, testServer } from '../helpers/server.js';

/**
 * A ConfigMap volume as the kubelet writes it: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/,
 * and an update is a new timestamped folder plus an atomic rename of the ..data symlink.
 */
function configMapVolume(t: { teardown(fn: () => void): void }, initial: string) {
  const dir = mkdtempSync(join(tmpdir(), 'gracekeeper-cm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const publish = (text: string) => {
    const version = `..2025_06_02_09_00_0${n++}`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, 'config.yaml'), text);
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  publish(initial);
  symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
  return { path: join(dir, 'config.yaml'), publish };
}

function reloaderFor(path: string, server: ReturnType<typeof testServer>, intervalMs = 60_000) {
  const events: Array<{ result: string; error?: string }> = [];
  const load = () => buildServerConfig(readConfigFile(path), [], RULE_IDS);
  const reloader = configReloader({
    path,
    intervalMs,
    initial: Buffer.from(''),
    load,
    apply: (config: ServerConfig) => server.settings.replace(config),
    onReload: (result, error) => {
      server.metrics.configReloads.inc({ result });
      events.push({ result, ...(error ? { error: error.message } : {}) });
    },
  });
  return { reloader, events };
}

const enforceProbe = `mode: enforce\npolicy:\n  rules:\n${Object.entries(onlyRule('readiness-probe-missing', 'deny'))
  .map(([k, v]) => `    ${k}: ${v}`)
  .join('\n')}\n`;

function podWithoutProbe() {
  const review = loadReview('pod-create-proxy.json');
  delete review.request.object.spec.containers[0].readinessProbe;
  delete review.request.object.metadata.ownerReferences; // a bare Pod: deniable
  return review;
}

t.test('a good new config takes effect; a bad one is refused and the old one stays', async (t) => {
  const volume = configMapVolume(t, enforceProbe);
  const server = testServer({ config: readConfigFile(volume.path) as Record<string, unknown> });
  const { reloader, events } = reloaderFor(volume.path, server);
  reloader.check(); // adopt the current bytes

  t.equal((await post(server.app, '/validate', podWithoutProbe())).body.response.allowed, false, 'enforce: denied');

  volume.publish(enforceProbe.replace('mode: enforce', 'mode: audit'));
  t.equal(reloader.check(), true);
  t.equal(events.at(-1)?.result, 'success');
  const audited = await post(server.app, '/validate', podWithoutProbe());
  t.equal(audited.body.response.allowed, true, 'the new mode is in force');
  t.match(audited.body.response.warnings?.[0], /would deny/);

  volume.publish('mode: audit\nserver:\n  port: not-a-port\n');
  reloader.check();
  t.same(events.at(-1), { result: 'failure', error: 'config.server.port: expected integer' });
  volume.publish('mode: [unclosed\n');
  reloader.check();
  t.equal(events.at(-1)?.result, 'failure');
  t.match(events.at(-1)?.error, /config\.yaml:\d+: /, 'YAML errors name the file and line');
  t.equal(server.settings.config().mode, 'audit', 'the last good config is still in force');
  t.match((await post(server.app, '/validate', podWithoutProbe())).body.response.warnings?.[0], /would deny/);

  t.equal(reloader.check(), false, 'the same bad bytes are not reported again');
  t.equal(events.length, 4);
  const metrics = await server.metrics.registry.metrics();
  t.match(metrics, /gracekeeper_config_reloads_total\{result="success"\} 2/);
  t.match(metrics, /gracekeeper_config_reloads_total\{result="failure"\} 2/);
});

t.test('an unreadable file is a failed reload, not a crash', async (t) => {
  const volume = configMapVolume(t, 'mode: audit\n');
  const server = testServer();
  const { reloader, events } = reloaderFor(volume.path, server);
  rmSync(volume.path);
  t.equal(reloader.check(), false);
  t.equal(events[0]?.result, 'failure');
  t.match(events[0]?.error, /ENOENT/);
});

t.test('a ConfigMap update is picked up from the directory event, without waiting for the poll', async (t) => {
  const volume = configMapVolume(t, 'mode: enforce\n');
  const server = testServer();
  const { reloader, events } = reloaderFor(volume.path, server, 600_000);
  reloader.check();
  reloader.start();
  t.teardown(() => reloader.stop());
  volume.publish('mode: off\n');
  for (let i = 0; i < 100 && server.settings.config().mode !== 'off'; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(server.settings.config().mode, 'off', 'reloaded from the watch event');
  t.equal(events.filter((e) => e.result === 'success').length, 2);
});

/**
 * The webhook process with reports on but no cluster view: it refuses to start, with one line naming the field
 * (exit 2, as for any bad config value), instead of serving without the scan it was asked for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildServerConfig } from '../../src/config/server.js';
import { RULE_IDS } from '../../src/rules/index.js';

// The spawn compiles the sources on the fly: slow on a busy two-core machine.
t.setTimeout(300_000);
const root = fileURLToPath(new URL('../../', import.meta.url));
const tsImport = fileURLToPath(new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url));

t.test('reports.enabled without the cluster view: exit 2 naming config.reports.enabled', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gracekeeper-reports-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.yaml'), 'reports:\n  enabled: true\n');
  const child = spawn(process.execPath, ['--import', tsImport, '--no-warnings', join(root, 'src/main.ts'), `--config=${join(dir, 'config.yaml')}`, '--no-cluster-view', '--port=1', '--health-port=0'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TS_NODE_TRANSPILE_ONLY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 2);
  t.match(stderr, /^gracekeeper: config\.reports\.enabled: needs the live cluster view/m);
});

t.test('the reports section: defaults, bounds, and a file error names the field', async (t) => {
  const config = buildServerConfig({}, [], RULE_IDS);
  t.same(config.reports, { enabled: false, format: 'openreports', resyncSeconds: 300, debounceSeconds: 5, maxResults: 1000, leaseName: 'gracekeeper-reports' });
  t.throws(() => buildServerConfig({ reports: { format: 'kyverno' } }, [], RULE_IDS), { message: /^config\.reports\.format/ });
  t.throws(() => buildServerConfig({ reports: { resyncSeconds: 1 } }, [], RULE_IDS), { message: /^config\.reports\.resyncSeconds/ });
  t.throws(() => buildServerConfig({ reports: { enable: true } }, [], RULE_IDS), { message: /config\.reports/ });
});

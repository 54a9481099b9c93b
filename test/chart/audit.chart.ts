/**
 * `helm template charts/gracekeeper | gracekeeper audit -` reports nothing: the webhook's own
 * Deployment passes its own rules, with the default policy and with the policy the chart ships.
 * Runs the built CLI (dist/cli/main.js); scripts/chart-test.sh builds it first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { ciValues, ciValuesNames, findObject, parseManifests, REPO_ROOT, renderChartText, type RenderOptions } from './lib/helm.js';
import { SPAWNING_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(SPAWNING_FILE_TIMEOUT_MS);

const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (scripts/chart-test.sh does)`);

const work = mkdtempSync(join(tmpdir(), 'gk-chart-audit-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

interface AuditReport {
  findings: Array<{ rule: string; kind: string; name: string; message: string }>;
  summary: { workloads: number; errors: number };
}

function audit(manifests: string, configFile?: string): { status: number | null; report: AuditReport; stderr: string } {
  const args = [CLI, 'audit', '--output', 'json', ...(configFile ? ['--config', configFile] : []), '-'];
  const r = spawnSync(process.execPath, args, { input: manifests, encoding: 'utf8' });
  let report: AuditReport;
  try {
    report = JSON.parse(r.stdout) as AuditReport;
  } catch {
    throw new Error(`gracekeeper audit printed no JSON (exit ${r.status}): ${r.stderr || r.stdout}`);
  }
  return { status: r.status, report, stderr: r.stderr };
}

/** The config file the chart mounts, written out so the CLI can read its policy section. */
function chartConfigFile(manifests: string, name: string): string {
  const configMap = findObject<V1ConfigMap>(parseManifests(manifests), 'ConfigMap');
  const file = join(work, `${name}-config.yaml`);
  writeFileSync(file, configMap.data!['config.yaml']!);
  return file;
}

const cases: Array<[string, RenderOptions]> = [
  ['defaults', {}],
  ...ciValuesNames().map((name): [string, RenderOptions] => [name, { valuesFiles: [ciValues(name)] }]),
];

for (const [name, opts] of cases) {
  t.test(`the chart's Deployment passes gracekeeper audit: ${name}`, async (t) => {
    const manifests = renderChartText({ namespace: 'gracekeeper', ...opts });
    for (const [policy, config] of [
      ['default policy', undefined],
      ["the chart's own policy", chartConfigFile(manifests, name)],
    ] as const) {
      const { status, report, stderr } = audit(manifests, config);
      t.equal(status, 0, `${policy}: exit 0 (${stderr.trim()})`);
      t.equal(report.summary.workloads, 1, `${policy}: the Deployment was audited`);
      t.equal(report.summary.errors, 0, `${policy}: every document was read`);
      t.same(
        report.findings.map((f) => `${f.rule}: ${f.message}`),
        [],
        `${policy}: no findings`,
      );
    }
  });
}

t.test('the audit sees the chart: a grace period too short for its own preStop + drain is reported', async (t) => {
  // preStop 5 + shutdownTimeout 20 satisfies the chart's own check; Gracekeeper's rule wants 5 + 25 drain.
  const { report } = audit(renderChartText({ namespace: 'gracekeeper', set: { terminationGracePeriodSeconds: 25 } }));
  t.same(
    report.findings.map((f) => [f.rule, f.kind, f.name]),
    [['grace-period-too-short', 'Deployment', 'gracekeeper']],
  );
});

/**
 * Bad config reload under load: replace the config file with broken YAML, a value of the wrong type and an
 * unknown rule id, one after the other, while traffic runs. Each must be refused (error log, metric, /readyz
 * checks.config), the config in force must keep deciding every request exactly as before, and a good config
 * written afterwards must take effect.
 *
 *   npm run build && node --import @tapjs/typescript/import test/faults/config-reload.fault.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { sleep } from '../cluster/processes.js';
import { startWebhook } from '../cluster/webhook.js';
import { metricValue, runFault } from './lib/fault.js';
import { Load, formatCounts } from './lib/load.js';
import { fixtureReview, learnExpected, reviewCase } from './lib/reviews.js';

const RELOAD_S = 1;
const SETTLE_MS = RELOAD_S * 1000 + 1500;

const BROKEN: Array<{ what: string; text: string }> = [
  { what: 'YAML syntax error', text: 'mode: [enforce\ntls: {reloadIntervalSeconds: 1}\n' },
  { what: 'wrong type', text: 'mode: sometimes\ntls: {reloadIntervalSeconds: 1}\n' },
  { what: 'unknown rule id', text: 'mode: enforce\ntls: {reloadIntervalSeconds: 1}\npolicy: {rules: {no-such-rule: deny}}\n' },
];

runFault('bad-config-reload-under-load', 90_000, async (report) => {
  const webhook = await startWebhook({ config: { mode: 'enforce', tls: { reloadIntervalSeconds: RELOAD_S } } });
  try {
    const cases = [
      reviewCase('validate deployment', '/validate', fixtureReview('deployment-create-proxy')),
      reviewCase('mutate pod', '/mutate', fixtureReview('pod-create-proxy')),
    ];
    await learnExpected(webhook.baseUrl, webhook.ca.certPem, cases);
    const load = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases, concurrency: 4 });
    load.start();
    await sleep(1000);

    const metrics = async () => (await webhook.health('/metrics')).body;
    for (const [i, broken] of BROKEN.entries()) {
      writeFileSync(webhook.configPath, broken.text);
      await sleep(SETTLE_MS);
      const failures = metricValue(await metrics(), 'gracekeeper_config_reloads_total', { result: 'failure' }) ?? 0;
      const ready = await webhook.health('/readyz');
      const checks = (JSON.parse(ready.body) as { checks?: { config?: string } }).checks;
      report.figure(`${broken.what}: /readyz`, { status: ready.status, config: checks?.config });
      report.check(`${broken.what}: refused and counted`, failures >= i + 1, `gracekeeper_config_reloads_total{result="failure"} ${failures}`);
      report.check(`${broken.what}: /readyz reports it`, /refused/.test(checks?.config ?? ''), `checks.config: ${checks?.config}`);
    }
    const during = await load.stop();
    report.figure('load while broken configs were written', formatCounts(during));
    if (during.failures.length > 0) report.figure('first failures', during.failures);
    report.check('old config stayed in force: every answer unchanged', during.failed === 0 && during.completed > 0, `${during.failed} failed of ${during.accepted}`);

    const log = readFileSync(webhook.process!.logPath, 'utf8');
    const refusedLines = log.split('\n').filter((l) => l.includes('config reload refused'));
    report.figure('refusal log lines', refusedLines.length);
    report.check('each refusal logged', refusedLines.length >= BROKEN.length, `${refusedLines.length} "config reload refused" lines; first: ${refusedLines[0]?.slice(0, 200)}`);

    webhook.writeConfig({ mode: 'audit', tls: { reloadIntervalSeconds: RELOAD_S } });
    await sleep(SETTLE_MS);
    const successes = metricValue(await metrics(), 'gracekeeper_config_reloads_total', { result: 'success' }) ?? 0;
    const validate = cases[0]!;
    const probe = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases: [validate], concurrency: 1 });
    probe.start();
    await sleep(300);
    const after = await probe.stop();
    const sample = probe.samples.find((s) => s.outcome !== 'refused');
    report.check('a good config is taken afterwards', successes >= 1, `gracekeeper_config_reloads_total{result="success"} ${successes}`);
    report.check(
      'the good config changes decisions (enforce -> audit)',
      after.byOutcome.wrong > 0 && after.byOutcome.completed === 0,
      `${after.byOutcome.wrong} answers differ from the enforce answer${sample?.detail ? `: ${sample.detail.slice(0, 120)}` : ''}`,
    );
  } finally {
    await webhook.stop();
  }
});

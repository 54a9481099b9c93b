/**
 * Whatever the API server (or a bug elsewhere) hands the scan, it reports and goes on: random JSON under each
 * workload kind, slimmed as the informers slim it, evaluated, and built into a report. Nothing throws; every
 * object that is not evaluated as a workload is either an `error` result or nothing at all.
 */
import fc from 'fast-check';
import t from 'tap';
import type { KubernetesObject } from '@kubernetes/client-node';
import { DisabledClusterView } from '../../src/cluster/disabled.js';
import { parsePolicyConfig } from '../../src/config/policy.js';
import { RULES, RULE_IDS } from '../../src/rules/index.js';
import { buildReport, type ScannedWorkload } from '../../src/reports/builder.js';
import { REPORT_FORMATS } from '../../src/reports/format.js';
import { SCANNED_RESOURCES } from '../../src/reports/informers.js';
import { reportedItself, scanWorkload } from '../../src/reports/scan.js';
import { slimWorkload } from '../../src/reports/slim.js';

const ctx = { config: parsePolicyConfig({}, RULE_IDS), cluster: new DisabledClusterView('1.37') };

/** Objects with real-looking parts in wrong places: containers as strings, specs as numbers, null metadata. */
const junk = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, 0, -1, '', 'x', true, [], {}),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('containers', 'spec', 'template', 'metadata', 'name', 'image', 'ports', 'lifecycle', 'ownerReferences', 'jobTemplate', 'strategy'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

t.test('random objects of every workload kind: scanned without a throw, reported as errors or not at all', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...SCANNED_RESOURCES), junk, junk, (res, spec, metadata) => {
      const apiVersion = res.group ? `${res.group}/${res.version}` : res.version;
      const raw = { metadata: { name: 'w', namespace: 'ns', ...(typeof metadata === 'object' && metadata && !Array.isArray(metadata) ? metadata : {}) }, spec } as unknown as KubernetesObject;
      const slim = slimWorkload(raw, apiVersion, res.kind);
      if (!reportedItself(slim)) return true;
      const scanned: ScannedWorkload | null = scanWorkload(slim, 'ns', RULES, ctx);
      if (!scanned) return false; // every watched kind holds a pod spec: never "not a workload"
      const report = buildReport('ns', [scanned], { format: REPORT_FORMATS.openreports, mode: 'enforce', maxResults: 100 });
      const s = report.summary;
      if ('unreadable' in scanned.outcome) {
        return s.error === 1 && s.pass === 0 && report.results.length === 1 && report.results[0]!.result === 'error' && report.results[0]!.message.includes(res.kind);
      }
      return s.error === 0 && s.pass + s.fail + s.warn >= 1 && report.results.length === s.fail + s.warn;
    }),
    { numRuns: 500, seed: 13 },
  );
  t.pass('500 random objects scanned');
});

/**
 * The report builder (findings -> Report) and the content comparison the writer relies on: pure functions,
 * checked on hand-made scan outcomes.
 */
import t from 'tap';
import type { Finding } from '../../src/engine/types.js';
import { ANNOTATION_NOTE, ANNOTATION_OMITTED, UNREADABLE_POLICY, buildReport, type ScannedWorkload } from '../../src/reports/builder.js';
import { canonicalJson, reportContent, sameContent, withTimestamps } from '../../src/reports/content.js';
import { REPORT_FORMATS, REPORT_LABELS } from '../../src/reports/format.js';

const NS = 'shop';
const openreports = REPORT_FORMATS.openreports;

function finding(rule: string, action: 'deny' | 'warn', name: string, extra: Partial<Finding> = {}): Finding {
  return { rule, action, kind: 'Deployment', namespace: NS, name, message: `${rule} on ${name}`, path: '/spec/template/spec/containers/0', ...extra };
}

function workload(name: string, findings: Finding[], fixedRules: string[] = [], kind = 'Deployment'): ScannedWorkload {
  return { ref: { apiVersion: 'apps/v1', kind, name, namespace: NS, uid: `uid-${name}` }, outcome: { findings, fixedRules } };
}

const unreadable = (name: string): ScannedWorkload => ({
  ref: { apiVersion: 'v1', kind: 'Pod', name, namespace: NS },
  outcome: { unreadable: 'Pod: spec.containers must be array' },
});

t.test('one result per finding, an error per unreadable workload, pass counts clean workloads', async (t) => {
  const report = buildReport(
    NS,
    [
      workload('web', [finding('app-no-drain-delay', 'warn', 'web', { container: 'app' }), finding('rollout-drops-all-pods', 'deny', 'web')], ['app-no-drain-delay']),
      workload('clean', []),
      workload('clean-too', [], [], 'StatefulSet'),
      unreadable('broken'),
    ],
    { format: openreports, mode: 'enforce', maxResults: 100 },
  );
  t.equal(report.apiVersion, 'openreports.io/v1alpha1');
  t.equal(report.kind, 'Report');
  t.same(report.metadata, {
    name: 'gracekeeper',
    namespace: NS,
    labels: REPORT_LABELS,
    annotations: { 'gracekeeper.io/mode': 'enforce', 'gracekeeper.io/workloads': '4' },
  });
  t.same(report.scope, { apiVersion: 'v1', kind: 'Namespace', name: NS });
  t.equal(report.source, 'gracekeeper');
  t.same(report.summary, { pass: 2, fail: 1, warn: 1, error: 1, skip: 0 });
  // fail, then error, then warn
  t.same(
    report.results.map((r) => [r.policy, r.rule, r.result, r.severity, r.scored]),
    [
      ['rollout-drops-all-pods', 'rollout-drops-all-pods', 'fail', 'high', true],
      [UNREADABLE_POLICY, UNREADABLE_POLICY, 'error', 'high', true],
      ['app-no-drain-delay', 'app-no-drain-delay', 'warn', 'medium', false],
    ],
  );
  const warn = report.results[2]!;
  t.same(warn.resources, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: NS, uid: 'uid-web' }]);
  t.same(warn.properties, { action: 'warn', mode: 'enforce', field: '/spec/template/spec/containers/0', container: 'app', fix: 'mutate fixes the Pods of this workload' });
  t.equal(warn.source, 'gracekeeper');
  t.equal(warn.message, 'app-no-drain-delay on web');
  t.notOk('fix' in report.results[0]!.properties, 'no fix property where mutate does not fix');
  t.match(report.results[1]!.message, /could not read this workload: Pod: spec.containers must be array/);
  t.same(report.results[1]!.resources, [{ apiVersion: 'v1', kind: 'Pod', name: 'broken', namespace: NS }]);
  t.notOk(report.results.some((r) => 'timestamp' in r), 'timestamps are the writer’s business');
});

t.test('the same findings in any order give the same report', async (t) => {
  const ws = [
    workload('b', [finding('readiness-probe-missing', 'warn', 'b'), finding('grace-period-too-short', 'deny', 'b')]),
    workload('a', [finding('readiness-probe-missing', 'warn', 'a')]),
    unreadable('c'),
  ];
  const one = buildReport(NS, ws, { format: openreports, mode: 'audit', maxResults: 100 });
  const two = buildReport(NS, [...ws].reverse(), { format: openreports, mode: 'audit', maxResults: 100 });
  t.equal(canonicalJson(one), canonicalJson(two));
  t.same(
    one.results.map((r) => `${r.result} ${r.resources[0]!.name} ${r.policy}`),
    ['fail b grace-period-too-short', 'error c workload-unreadable', 'warn a readiness-probe-missing', 'warn b readiness-probe-missing'],
  );
  t.equal(one.results[0]!.properties.mode, 'audit');
});

t.test('capped at maxResults: fails kept first, the summary counts all, annotations say what was left out', async (t) => {
  const ws = Array.from({ length: 50 }, (_, i) =>
    workload(`w${String(i).padStart(2, '0')}`, [finding('readiness-probe-missing', 'warn', `w${i}`), ...(i % 10 === 0 ? [finding('grace-period-too-short', 'deny', `w${i}`)] : [])]),
  );
  const report = buildReport(NS, ws, { format: openreports, mode: 'enforce', maxResults: 8 });
  t.equal(report.results.length, 8);
  t.same(report.summary, { pass: 0, fail: 5, warn: 50, error: 0, skip: 0 });
  t.same(report.results.slice(0, 5).map((r) => r.result), ['fail', 'fail', 'fail', 'fail', 'fail']);
  t.equal(report.metadata.annotations[ANNOTATION_OMITTED], '47');
  t.match(report.metadata.annotations[ANNOTATION_NOTE], /8 of 55 results kept .*reports.maxResults is 8/);
  t.same(report.configuration, { limits: { maxResults: 8 } });
});

t.test('capped by size: thousands of workloads with long messages stay under the etcd object limit', async (t) => {
  const long = 'x'.repeat(5000);
  const ws = Array.from({ length: 5000 }, (_, i) => workload(`w${i}`, [finding('readiness-probe-missing', 'warn', `w${i}`, { message: long })]));
  const report = buildReport(NS, ws, { format: openreports, mode: 'enforce', maxResults: 10000 });
  const bytes = Buffer.byteLength(JSON.stringify(report));
  t.ok(bytes < 1.5 * 1024 * 1024, `report is ${bytes} bytes`);
  t.ok(report.results.length > 100 && report.results.length < 5000, `${report.results.length} results kept`);
  t.ok(report.results.every((r) => r.message.length <= 1024), 'messages are cut');
  t.equal(report.summary.warn, 5000);
  t.match(report.metadata.annotations[ANNOTATION_NOTE], /would pass 1048576 bytes/);
});

t.test('wgpolicyk8s: PolicyReport without report-level source and configuration, each result has its source', async (t) => {
  const report = buildReport(NS, [workload('web', [finding('rollout-drops-all-pods', 'deny', 'web')])], { format: REPORT_FORMATS.wgpolicyk8s, mode: 'enforce', maxResults: 10 });
  t.equal(report.apiVersion, 'wgpolicyk8s.io/v1alpha2');
  t.equal(report.kind, 'PolicyReport');
  t.notOk('source' in report);
  t.notOk('configuration' in report);
  t.equal(report.results[0]!.source, 'gracekeeper');
});

t.test('content: what the API server returns (keys reordered, metadata added, timestamps) compares equal', async (t) => {
  const built = buildReport(NS, [workload('web', [finding('rollout-drops-all-pods', 'deny', 'web')])], { format: openreports, mode: 'enforce', maxResults: 10 });
  const stored = JSON.parse(canonicalJson(withTimestamps(built, undefined, new Date('2026-01-01T00:00:00Z')))) as Record<string, unknown>;
  const meta = stored.metadata as Record<string, unknown>;
  meta.resourceVersion = '42';
  meta.uid = 'abc';
  meta.creationTimestamp = '2026-01-01T00:00:00Z';
  meta.labels = { ...(meta.labels as object), 'team': 'shop' };
  meta.annotations = { ...(meta.annotations as object), 'note.example.com/x': 'y' };
  meta.managedFields = [{ manager: 'gracekeeper' }];
  t.ok(sameContent(stored, built), 'equal: nothing to write');

  const changed = buildReport(NS, [workload('web', [finding('rollout-drops-all-pods', 'deny', 'web', { message: 'other' })])], {
    format: openreports,
    mode: 'enforce',
    maxResults: 10,
  });
  t.notOk(sameContent(stored, changed), 'a new message is a change');
  const audit = buildReport(NS, [workload('web', [finding('rollout-drops-all-pods', 'deny', 'web')])], { format: openreports, mode: 'audit', maxResults: 10 });
  t.notOk(sameContent(stored, audit), 'a new mode is a change');
  t.not(reportContent(stored), reportContent({ ...stored, summary: { pass: 1, fail: 1, warn: 0, error: 0, skip: 0 } }));
});

t.test('timestamps: a result keeps the time it was first seen, a new one gets now', async (t) => {
  const first = buildReport(NS, [workload('a', [finding('readiness-probe-missing', 'warn', 'a')])], { format: openreports, mode: 'enforce', maxResults: 10 });
  const t0 = new Date('2026-01-01T00:00:00Z');
  const stored = JSON.parse(JSON.stringify(withTimestamps(first, undefined, t0))) as Record<string, unknown>;
  t.same((stored.results as Array<{ timestamp: unknown }>)[0]!.timestamp, { seconds: 1767225600, nanos: 0 });

  const second = buildReport(NS, [workload('a', [finding('readiness-probe-missing', 'warn', 'a')]), workload('b', [finding('readiness-probe-missing', 'warn', 'b')])], {
    format: openreports,
    mode: 'enforce',
    maxResults: 10,
  });
  const t1 = new Date('2026-01-02T00:00:00Z');
  const next = withTimestamps(second, stored, t1);
  t.same(
    next.results.map((r) => [r.resources[0]!.name, r.timestamp!.seconds]),
    [
      ['a', 1767225600],
      ['b', 1767312000],
    ],
  );
});

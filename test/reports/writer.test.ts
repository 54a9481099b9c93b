/**
 * The writer writes only what changed: create once, nothing while the content stays the same (whatever the API
 * server adds or reorders), update on a change with the stored resourceVersion, delete what is no longer wanted,
 * and recover from other writers (409) and from reports deleted behind its back.
 */
import t from 'tap';
import type { Finding } from '../../src/engine/types.js';
import { buildReport, type ReportObject, type ScannedWorkload } from '../../src/reports/builder.js';
import { REPORT_FORMATS } from '../../src/reports/format.js';
import { ReportApiError, ReportWriter } from '../../src/reports/writer.js';
import { FakeReportApi } from '../helpers/fake-report-api.js';

const f = (rule: string, name: string, ns: string): Finding => ({ rule, action: 'warn', kind: 'Deployment', namespace: ns, name, message: `${rule} on ${name}`, path: '/spec' });
const w = (ns: string, name: string, rules: string[]): ScannedWorkload => ({
  ref: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns },
  outcome: { findings: rules.map((r) => f(r, name, ns)), fixedRules: [] },
});
const report = (ns: string, ...ws: ScannedWorkload[]): ReportObject => buildReport(ns, ws, { format: REPORT_FORMATS.openreports, mode: 'enforce', maxResults: 100 });

t.test('writes only when the content changes', async (t) => {
  const api = new FakeReportApi();
  let clock = new Date('2026-01-01T00:00:00Z');
  const writer = new ReportWriter(api, {}, () => clock);
  const a1 = report('a', w('a', 'web', ['readiness-probe-missing']));

  t.same(await writer.sync(new Map([['a', a1]]), true), { created: 1, updated: 0, deleted: 0, unchanged: 0, failed: 0 });
  t.same(api.calls, ['list', 'create a']);

  // The same scan again, rebuilt: nothing written.
  clock = new Date('2026-01-01T01:00:00Z');
  t.same(await writer.sync(new Map([['a', report('a', w('a', 'web', ['readiness-probe-missing']))]]), true), { created: 0, updated: 0, deleted: 0, unchanged: 1, failed: 0 });
  t.same(api.calls, ['list', 'create a'], 'no call at all');

  // A new finding: one update, conditional on the stored resourceVersion; the old result keeps its timestamp.
  const a2 = report('a', w('a', 'web', ['readiness-probe-missing']), w('a', 'api', ['readiness-probe-missing']));
  t.same((await writer.sync(new Map([['a', a2]]), false)).updated, 1);
  t.same(api.calls.at(-1), 'update a');
  const stored = api.stored.get('a/gracekeeper') as unknown as { results: Array<{ resources: Array<{ name: string }>; timestamp: { seconds: number } }> };
  t.same(
    stored.results.map((r) => [r.resources[0]!.name, r.timestamp.seconds]),
    [
      ['api', Date.parse('2026-01-01T01:00:00Z') / 1000],
      ['web', Date.parse('2026-01-01T00:00:00Z') / 1000],
    ],
  );

  // null: the namespace has nothing to report any more.
  t.same((await writer.sync(new Map([['a', null]]), false)).deleted, 1);
  t.equal(api.stored.size, 0);
  t.same((await writer.sync(new Map([['a', null]]), false)).deleted, 0, 'nothing to delete twice');
});

t.test('a complete sync deletes reports of namespaces it no longer names (opted out, deleted)', async (t) => {
  const api = new FakeReportApi();
  const writer = new ReportWriter(api);
  await writer.sync(new Map([['a', report('a', w('a', 'x', ['r']))], ['b', report('b', w('b', 'y', ['r']))]]), true);
  t.same([...api.stored.keys()].sort(), ['a/gracekeeper', 'b/gracekeeper']);
  // A partial sync leaves other namespaces alone...
  await writer.sync(new Map([['a', report('a', w('a', 'x', ['r']))]]), false);
  t.equal(api.stored.size, 2);
  // ...a complete one removes them.
  t.same((await writer.sync(new Map([['a', report('a', w('a', 'x', ['r']))]]), true)).deleted, 1);
  t.same([...api.stored.keys()], ['a/gracekeeper']);
});

t.test('reports written by an earlier process are found by the first list and not rewritten', async (t) => {
  const api = new FakeReportApi();
  await new ReportWriter(api).sync(new Map([['a', report('a', w('a', 'x', ['r']))]]), true);
  api.calls.length = 0;
  const restarted = new ReportWriter(api);
  t.same(await restarted.sync(new Map([['a', report('a', w('a', 'x', ['r']))]]), true), { created: 0, updated: 0, deleted: 0, unchanged: 1, failed: 0 });
  t.same(api.calls, ['list']);
});

t.test('another writer in between: the update gets 409, the next sync re-reads and converges', async (t) => {
  const api = new FakeReportApi();
  const writer = new ReportWriter(api);
  await writer.sync(new Map([['a', report('a', w('a', 'x', ['r']))]]), true);
  // Another replica (or a user) changes the report.
  api.touch('a', (r) => ((r as { summary: { pass: number } }).summary.pass = 99));
  const want = report('a', w('a', 'x', ['r', 's']));
  t.same((await writer.sync(new Map([['a', want]]), false)).failed, 1, 'conditional update refused');
  const again = await writer.sync(new Map([['a', want]]), false);
  t.same(again.updated, 1);
  t.same(api.calls.slice(-3), ['update a', 'list', 'update a']);
  t.equal((api.stored.get('a/gracekeeper') as { summary: { warn: number } }).summary.warn, 2);
});

t.test('a report deleted behind its back is created again at the next complete sync', async (t) => {
  const api = new FakeReportApi();
  const writer = new ReportWriter(api);
  const a = report('a', w('a', 'x', ['r']));
  await writer.sync(new Map([['a', a]]), true);
  api.stored.clear(); // kubectl delete
  await writer.refresh(); // the scheduler refreshes at every full resync
  t.same((await writer.sync(new Map([['a', a]]), true)).created, 1);
  t.equal(api.stored.size, 1);
});

t.test('failures are counted and reported, never thrown from a write; a failed list throws (the scan retries)', async (t) => {
  const api = new FakeReportApi();
  const events: string[] = [];
  const writer = new ReportWriter(api, { onWrite: (op, ns, err) => events.push(`${op} ${ns} ${err ? err.message : 'ok'}`) });
  await writer.refresh();
  api.failNext = new ReportApiError(403, 'forbidden');
  t.same((await writer.sync(new Map([['a', report('a', w('a', 'x', ['r']))]]), false)).failed, 1);
  t.same(events, ['create a forbidden']);
  t.same((await writer.sync(new Map([['a', report('a', w('a', 'x', ['r']))]]), false)).created, 1, 'written the next time');
  api.failNext = new ReportApiError(0, 'connection refused');
  await t.rejects(new ReportWriter(api).sync(new Map(), true), /connection refused/);
});

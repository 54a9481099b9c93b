/**
 * The background scan without an API server: a cache of real-looking objects (slimmed as the informers slim
 * them), the real rules and engine, a snapshot cluster view with a Service, and the in-memory report API.
 * Namespaces get a report only in enforce or audit; controllers' Pods are reported through the controller;
 * an object of the wrong shape is an error result, not a crash; changes are rescanned; opting out removes it.
 */
import t from 'tap';
import pino from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import { SnapshotClusterView } from '../../src/cluster/snapshot.js';
import type { ClusterView } from '../../src/cluster/view.js';
import { parsePolicyConfig } from '../../src/config/policy.js';
import { RULES, RULE_IDS } from '../../src/rules/index.js';
import type { ReportObject } from '../../src/reports/builder.js';
import { REPORT_FORMATS } from '../../src/reports/format.js';
import { ReportScheduler, type NamespaceCounts, type ScanSettings } from '../../src/reports/scheduler.js';
import { slimNamespace } from '../../src/reports/slim.js';
import { ReportApiError, ReportWriter } from '../../src/reports/writer.js';
import { FakeReportApi } from '../helpers/fake-report-api.js';
import { RefusingReportWriter } from '../helpers/refusing-report-writer.js';
import { reportDeployment } from '../helpers/report-workloads.js';
import { MemoryWorkloadCache } from '../helpers/workload-cache.js';

const served = (ns: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });

function deployment(ns: string, name: string, opts: { unsafe?: boolean; probe?: boolean } = {}) {
  const base = reportDeployment(name, { dropsAllPods: opts.unsafe, probe: opts.probe, labels: { app: 'web' } });
  return { apiVersion: 'apps/v1', kind: 'Deployment', ...base, metadata: { name, namespace: ns, uid: `uid-${name}`, managedFields: [{ manager: 'kubectl' }] } };
}

function ownedPod(ns: string, name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs', controller: true }] },
    spec: { containers: [{ name: 'app', image: 'registry.example/web:1.0', ports: [{ containerPort: 8080 }] }] },
  };
}

const snapshot = (namespaces: string[]) =>
  new SnapshotClusterView({ services: namespaces.map(served), pvcs: [], nodes: [], apiServer: 'v1.37.2', fallbackKubernetesVersion: '1.37' });

function setup(defaultMode: 'off' | 'enforce' = 'off', resyncMs = 3_600_000) {
  const cache = new MemoryWorkloadCache();
  const api = new FakeReportApi();
  const counts = new Map<string, NamespaceCounts | undefined>();
  // One view object whose contents change, as the live view's informer caches do.
  const views = { current: snapshot(['shop', 'audited', 'plain', 'kube-system']) };
  const view: ClusterView = {
    getPersistentVolumeClaim: (ns, name) => views.current.getPersistentVolumeClaim(ns, name),
    getService: (ns, name) => views.current.getService(ns, name),
    listServices: (ns) => views.current.listServices(ns),
    versions: () => views.current.versions(),
  };
  const settings: ScanSettings = {
    rules: RULES,
    context: { config: parsePolicyConfig({}, RULE_IDS), cluster: view },
    modes: { defaultMode, exemptNamespaces: ['kube-system'], ownNamespace: 'gracekeeper' },
  };
  const scheduler = new ReportScheduler({
    cache,
    writer: new ReportWriter(api),
    settings: () => settings,
    viewState: () => 'synced',
    format: REPORT_FORMATS.openreports,
    maxResults: 100,
    resyncMs,
    debounceMs: 0,
    logger: pino({ enabled: false }),
    onCounts: (ns, c) => counts.set(ns, c),
  });
  t.teardown(() => scheduler.stop());
  const report = (ns: string) => api.stored.get(`${ns}/gracekeeper`) as unknown as ReportObject | undefined;
  const rules = (ns: string) => report(ns)?.results.map((r) => `${r.resources[0]!.name} ${r.policy} ${r.result}`) ?? [];
  return { cache, api, scheduler, report, rules, counts, views };
}

t.test('reports for namespaces in enforce or audit only, controllers once, bad objects as errors', async (t) => {
  const { cache, api, scheduler, report, rules, counts } = setup();
  for (const [ns, mode] of [['shop', 'enforce'], ['audited', 'audit'], ['plain', undefined], ['off-ns', 'off'], ['kube-system', 'enforce'], ['gracekeeper', 'enforce']] as const) {
    cache.namespace(ns, mode);
    cache.put(deployment(ns, 'unsafe', { unsafe: true }));
  }
  cache.put(deployment('shop', 'good'));
  cache.put(ownedPod('shop', 'web-abc-1'));
  cache.put({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'broken', namespace: 'shop' }, spec: { template: { spec: { containers: 'nope' } } } } as never);

  scheduler.start();
  await scheduler.idle();

  t.same([...api.stored.keys()].sort(), ['audited/gracekeeper', 'shop/gracekeeper'], 'opt-in default: only labelled namespaces; exempt and own namespace never');
  const shop = report('shop')!;
  t.same(shop.summary, { pass: 1, fail: 1, warn: 0, error: 1, skip: 0 });
  t.same(rules('shop'), ['unsafe rollout-drops-all-pods fail', 'broken workload-unreadable error']);
  t.match(shop.results[1]!.message, /could not read this workload: StatefulSet: /);
  t.equal(shop.metadata.annotations['gracekeeper.io/workloads'], '3', 'the owned Pod is not counted: its ReplicaSet’s owner reports it');
  t.equal(report('audited')!.results[0]!.properties.mode, 'audit');
  t.same(
    [...counts.get('shop')!.values()].sort((a, b) => a.rule.localeCompare(b.rule)),
    [
      { rule: 'rollout-drops-all-pods', action: 'deny', count: 1 },
      { rule: 'workload-unreadable', action: 'error', count: 1 },
    ],
  );
  t.notOk(counts.has('plain'));
});

t.test('changes: a workload fixed, one broken, one deleted; then the namespace opts out', async (t) => {
  const { cache, api, scheduler, rules, report, counts } = setup();
  cache.namespace('shop', 'enforce');
  cache.put(deployment('shop', 'fixme', { unsafe: true }));
  cache.put(deployment('shop', 'breakme'));
  cache.put(deployment('shop', 'deleteme', { unsafe: true }));
  scheduler.start();
  await scheduler.idle();
  t.same(rules('shop'), ['deleteme rollout-drops-all-pods fail', 'fixme rollout-drops-all-pods fail']);
  const writes = api.calls.length;

  // Nothing changed: a change event alone (a status update) writes nothing.
  scheduler.changed('Deployment', 'shop', 'fixme');
  await new Promise((r) => setTimeout(r, 10));
  await scheduler.idle();
  t.equal(api.calls.length, writes, 'no write when the content is the same');

  cache.put(deployment('shop', 'fixme'), '2');
  cache.put(deployment('shop', 'breakme', { probe: false }), '2');
  cache.remove('Deployment', 'shop', 'deleteme');
  for (const name of ['fixme', 'breakme', 'deleteme']) scheduler.changed('Deployment', 'shop', name);
  await new Promise((r) => setTimeout(r, 10));
  await scheduler.idle();
  t.same(rules('shop'), ['breakme readiness-probe-missing warn']);
  t.same(report('shop')!.summary, { pass: 1, fail: 0, warn: 1, error: 0, skip: 0 });
  t.equal(report('shop')!.results[0]!.properties.fix, 'mutate fixes the Pods of this workload');
  t.same(api.calls.slice(writes), ['update shop']);

  cache.namespace('shop', 'off');
  scheduler.changed('Namespace', '', 'shop');
  await new Promise((r) => setTimeout(r, 10));
  await scheduler.idle();
  t.equal(api.stored.size, 0, 'opted out: the report is deleted');
  t.equal(counts.get('shop'), undefined, 'and its findings leave the gauge');
});

t.test('a namespace whose workloads are all gone loses its report; mode cluster reports unlabelled namespaces', async (t) => {
  const { cache, api, scheduler } = setup('enforce');
  cache.namespace('plain');
  cache.put(deployment('plain', 'a', { unsafe: true }));
  scheduler.start();
  await scheduler.idle();
  t.same([...api.stored.keys()], ['plain/gracekeeper']);
  cache.remove('Deployment', 'plain', 'a');
  scheduler.changed('Deployment', 'plain', 'a');
  await new Promise((r) => setTimeout(r, 10));
  await scheduler.idle();
  t.equal(api.stored.size, 0);
});

t.test('a full resync re-evaluates unchanged workloads against the view as it is now (a Service removed)', async (t) => {
  const { cache, scheduler, rules, views } = setup('off', 50);
  cache.namespace('shop', 'enforce');
  cache.put(deployment('shop', 'web', { probe: false }));
  scheduler.start();
  await scheduler.idle();
  t.same(rules('shop'), ['web readiness-probe-missing warn'], 'the Service routes to it');
  views.current = snapshot([]); // the Service is deleted; the Deployment does not change
  const deadline = Date.now() + 10_000;
  while (rules('shop').length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.same(rules('shop'), [], 'no Service routes to it any more');
});

t.test('a namespace being deleted gets no more writes: its report is removed with it', async (t) => {
  const { cache, api, scheduler } = setup();
  cache.namespace('shop', 'enforce');
  cache.put(deployment('shop', 'web', { unsafe: true }));
  scheduler.start();
  await scheduler.idle();
  t.equal(api.stored.size, 1);
  cache.ns.set('shop', slimNamespace({ metadata: { name: 'shop', labels: { 'gracekeeper.io/mode': 'enforce' }, deletionTimestamp: new Date() } } as KubernetesObject));
  scheduler.changed('Namespace', '', 'shop');
  await new Promise((r) => setTimeout(r, 10));
  await scheduler.idle();
  t.equal(api.stored.size, 0);
  t.notOk(api.calls.some((c) => c === 'update shop'), 'not updated on its way out');
});

interface WarnLine {
  msg: string;
  scan?: string;
  error?: string;
  failures?: number;
  retryInMs?: number;
}

function bareScheduler(opts: { debounceMs: number; writer?: Pick<ReportWriter, 'sync' | 'refresh'>; resyncMs?: number; retryBaseMs?: number }) {
  const cache = new MemoryWorkloadCache();
  cache.namespace('shop', 'enforce');
  cache.put(deployment('shop', 'web'));
  const scans: string[] = [];
  const warnings: WarnLine[] = [];
  const scheduler = new ReportScheduler({
    cache,
    writer: opts.writer ?? new ReportWriter(new FakeReportApi()),
    settings: () => ({
      rules: RULES,
      context: { config: parsePolicyConfig({}, RULE_IDS), cluster: snapshot(['shop']) },
      modes: { defaultMode: 'off', exemptNamespaces: [], ownNamespace: undefined },
    }),
    viewState: () => 'synced',
    format: REPORT_FORMATS.openreports,
    maxResults: 100,
    resyncMs: opts.resyncMs ?? 3_600_000,
    debounceMs: opts.debounceMs,
    retryBaseMs: opts.retryBaseMs,
    logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as WarnLine) }),
    onScan: (kind, _n, _w, _written, error) => scans.push(`${kind}${error ? ' failed' : ''}`),
  });
  t.teardown(() => scheduler.stop());
  return { scheduler, scans, warnings, cache };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` every 10 ms, for at most 20 s (a bound, not an expectation of speed). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done() && Date.now() < deadline) await sleep(10);
}

t.test('a namespace that never stops changing is still rescanned (the debounce has a maximum wait)', async (t) => {
  const { scheduler, scans } = bareScheduler({ debounceMs: 50 });
  scheduler.start();
  await scheduler.idle();
  t.same(scans, ['full']);
  // A change every 10 ms: never quiet for 50 ms.
  const deadline = Date.now() + 5_000;
  while (!scans.includes('changes') && Date.now() < deadline) {
    scheduler.changed('Pod', 'shop', 'web-1');
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(scans.includes('changes'), 'scanned while the changes went on');
});

t.test('a first list refused while the new CRD’s storage initializes (429) is retried soon, not at the next resync', async (t) => {
  const api = new FakeReportApi();
  let refusals = 2;
  api.failWhen = (call) => (call === 'list' && refusals-- > 0 ? new ReportApiError(429, 'cannot list reports.openreports.io in all namespaces: HTTP 429: storage is (re)initializing') : undefined);
  // The resync is an hour away: only the retry can write the report within this test.
  const { scheduler, scans, warnings } = bareScheduler({ debounceMs: 0, writer: new ReportWriter(api), retryBaseMs: 20 });
  scheduler.start();
  await until(() => api.stored.has('shop/gracekeeper'));
  t.ok(api.stored.has('shop/gracekeeper'), 'the report is written by a retry');
  t.same(scans, ['full failed', 'full failed', 'full'], 'a failed full scan is retried as a full scan');
  t.same(
    api.calls.filter((c) => c === 'list'),
    ['list', 'list', 'list'],
  );
  t.same(
    warnings.map((w) => [w.scan, w.failures]),
    [
      ['full', 1],
      ['full', 2],
    ],
  );
  t.match(warnings[0], { msg: /^report scan failed; retrying in \d+\.\d s$/, error: /HTTP 429: storage is \(re\)initializing/ });
  const [first, second] = warnings.map((w) => w.retryInMs!);
  t.ok(first! >= 16 && first! <= 24, `first retry after the base delay ±20% (${first} ms)`);
  t.ok(second! >= 32 && second! <= 48, `the second waits twice as long ±20% (${second} ms)`);
});

t.test('failures in a row back off, doubling up to the resync interval, and start again from the base after a success', async (t) => {
  let failing = true;
  const real = new ReportWriter(new FakeReportApi());
  const writer: Pick<ReportWriter, 'sync' | 'refresh'> = {
    refresh: async () => {
      if (failing) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
      await real.refresh();
    },
    sync: async (desired, complete) => {
      if (failing) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
      return real.sync(desired, complete);
    },
  };
  const { scheduler, scans, warnings } = bareScheduler({ debounceMs: 0, writer, retryBaseMs: 10, resyncMs: 100 });
  scheduler.start();
  // 10, 20, 40, 80, then 100 (the resync interval) each time; ±20%.
  await until(() => warnings.length >= 7);
  const delays = warnings.slice(0, 7).map((w) => w.retryInMs!);
  t.equal(delays.length, 7, `${delays.join(', ')} ms`);
  const expected = [10, 20, 40, 80, 100, 100, 100];
  delays.forEach((d, i) => t.ok(d >= expected[i]! * 0.8 && d <= Math.min(100, expected[i]! * 1.2), `retry ${i + 1}: ${d} ms, about ${expected[i]} ms`));
  t.ok(
    scans.slice(0, 7).every((s) => s === 'full failed'),
    'each retry is the full scan that failed',
  );

  failing = false;
  const before = scans.length;
  await until(() => scans.slice(before).includes('full'));
  t.ok(scans.slice(before).includes('full'), 'the API server is back: the scan succeeds');
  failing = true;
  const logs = warnings.length;
  scheduler.changed('Deployment', 'shop', 'web');
  await until(() => warnings.length > logs);
  // (A changes scan, or the resync if it came first.)
  t.match(warnings[logs], { failures: 1 }, 'the failure count started again');
  t.ok(warnings[logs]!.retryInMs! <= 12, `from the base delay (${warnings[logs]!.retryInMs} ms)`);
});

t.test('a failed changes scan keeps its namespaces: the retry rescans them (not a full scan)', async (t) => {
  const api = new FakeReportApi();
  const writer = new RefusingReportWriter(new ReportWriter(api));
  const { scheduler, scans, cache } = bareScheduler({ debounceMs: 0, writer, retryBaseMs: 20 });
  const rules = () => (api.stored.get('shop/gracekeeper') as unknown as ReportObject | undefined)?.results.map((r) => `${r.resources[0]!.name} ${r.policy}`) ?? [];
  scheduler.start();
  await scheduler.idle();
  t.same(scans, ['full']);
  t.same(rules(), []);

  writer.refusals = 2;
  cache.put(deployment('shop', 'web', { unsafe: true }), '2');
  scheduler.changed('Deployment', 'shop', 'web');
  await until(() => rules().length > 0);
  t.same(rules(), ['web rollout-drops-all-pods'], 'the change reached the report');
  t.same(scans, ['full', 'changes failed', 'changes failed', 'changes'], 'retried as a changes scan, twice');
});

t.test('a scan whose writes are refused is retried: the API server away during a create, a 409 from another writer', async (t) => {
  const api = new FakeReportApi();
  let refusals = 1;
  api.failWhen = (call) => (call === 'create shop' && refusals-- > 0 ? new ReportApiError(0, 'cannot create reports.openreports.io in namespace \'shop\': connect ECONNREFUSED 127.0.0.1:6443') : undefined);
  const { scheduler, scans, warnings, cache } = bareScheduler({ debounceMs: 0, writer: new ReportWriter(api), retryBaseMs: 20 });
  scheduler.start();
  await until(() => api.stored.has('shop/gracekeeper'));
  t.ok(api.stored.has('shop/gracekeeper'), 'created by the retry');
  t.same(scans, ['full failed', 'full']);
  t.same(api.calls, ['list', 'create shop', 'list', 'create shop']);
  t.match(warnings[0], { scan: 'full', error: '1 report write failed', failures: 1 });

  // Someone else writes the report between our read and our update: the update is a 409.
  api.touch('shop', (r) => (r.metadata = { ...r.metadata, annotations: { note: 'edited by hand' } }));
  cache.put(deployment('shop', 'web', { unsafe: true }), '2');
  scheduler.changed('Deployment', 'shop', 'web');
  await until(() => scans.length >= 4);
  await scheduler.idle();
  t.same(scans, ['full failed', 'full', 'changes failed', 'changes'], 'the changes scan is retried, not left to the resync');
  t.same(api.calls.slice(4), ['update shop', 'list', 'update shop'], 'the retry re-read the reports and updated');
  t.equal((api.stored.get('shop/gracekeeper') as unknown as ReportObject).summary.fail, 1);
});

t.test('changes that come due while a retry is pending wait for it, then go with it in one scan', async (t) => {
  const api = new FakeReportApi();
  const writer = new RefusingReportWriter(new ReportWriter(api));
  const { scheduler, scans, cache } = bareScheduler({ debounceMs: 0, writer, retryBaseMs: 500 });
  cache.namespace('other', 'enforce');
  scheduler.start();
  await scheduler.idle();
  t.same([...api.stored.keys()], ['shop/gracekeeper']);

  writer.refusals = 1;
  cache.put(deployment('shop', 'web', { unsafe: true }), '2');
  scheduler.changed('Deployment', 'shop', 'web');
  await until(() => scans.length > 1);
  t.same(scans, ['full', 'changes failed']);
  // The retry is 400 ms or more away; this change's debounce (0 ms) runs out long before it.
  cache.put(deployment('other', 'api', { unsafe: true }));
  scheduler.changed('Deployment', 'other', 'api');
  await sleep(20);
  t.same(scans, ['full', 'changes failed'], 'the debounced change did not start a scan of its own');
  await until(() => scans.length > 2);
  await scheduler.idle();
  t.same(scans, ['full', 'changes failed', 'changes'], 'one changes scan at the retry');
  t.same([...api.stored.keys()].sort(), ['other/gracekeeper', 'shop/gracekeeper'], 'it took both namespaces');
  t.equal((api.stored.get('shop/gracekeeper') as unknown as ReportObject).summary.fail, 1, 'the failed change is in');
});

t.test('stop() while a retry is pending: no retry runs, and the pending retry never kept the process alive', async (t) => {
  let calls = 0;
  const failing = {
    refresh: async () => {
      calls++;
      throw new Error('connection refused');
    },
    sync: async () => {
      calls++;
      throw new Error('connection refused');
    },
  } as unknown as Pick<ReportWriter, 'sync' | 'refresh'>;
  const { scheduler, scans, warnings } = bareScheduler({ debounceMs: 0, writer: failing, retryBaseMs: 50 });
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  scheduler.start();
  await scheduler.idle();
  t.same(scans, ['full failed']);
  t.ok(warnings[0]!.retryInMs! >= 40, 'a retry is pending');
  t.equal(timers(), before, 'the pending retry (and the resync) are unref’d timers');
  await scheduler.stop();
  await sleep(300);
  t.equal(calls, 1, 'stopped: the retry never ran');
  t.same(scans, ['full failed']);
});

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
import { ReportScheduler, type NamespaceCounts, type ScanSettings, type WorkloadCache } from '../../src/reports/scheduler.js';
import { slimNamespace, slimWorkload } from '../../src/reports/slim.js';
import { ReportWriter } from '../../src/reports/writer.js';
import { FakeReportApi } from '../helpers/fake-report-api.js';
import { reportDeployment } from '../helpers/report-workloads.js';

class Cache implements WorkloadCache {
  readonly objects = new Map<string, KubernetesObject>();
  readonly ns = new Map<string, KubernetesObject>();
  listed = () => true;
  namespaces = () => [...this.ns.values()];
  workloads = (namespace: string) => [...this.objects.values()].filter((o) => o.metadata?.namespace === namespace);
  workloadNamespaces = () => new Set([...this.objects.values()].map((o) => o.metadata?.namespace ?? ''));
  put(obj: KubernetesObject & { kind: string; apiVersion: string }, rv = '1'): void {
    const slim = slimWorkload({ ...obj, metadata: { ...obj.metadata, resourceVersion: rv } }, obj.apiVersion, obj.kind);
    this.objects.set(`${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`, slim);
  }
  remove(kind: string, namespace: string, name: string): void {
    this.objects.delete(`${kind}/${namespace}/${name}`);
  }
  namespace(name: string, mode?: string): void {
    this.ns.set(name, slimNamespace({ metadata: { name, labels: mode ? { 'gracekeeper.io/mode': mode } : {}, managedFields: [] } } as KubernetesObject));
  }
}

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
  const cache = new Cache();
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

function bareScheduler(opts: { debounceMs: number; writer?: Pick<ReportWriter, 'sync' | 'refresh'> }) {
  const cache = new Cache();
  cache.namespace('shop', 'enforce');
  cache.put(deployment('shop', 'web'));
  const scans: string[] = [];
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
    resyncMs: 3_600_000,
    debounceMs: opts.debounceMs,
    logger: pino({ enabled: false }),
    onScan: (kind, _n, _w, _written, error) => scans.push(`${kind}${error ? ' failed' : ''}`),
  });
  t.teardown(() => scheduler.stop());
  return { scheduler, scans };
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

t.test('a failing API server is not retried in a loop: the next try is the next resync', async (t) => {
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
  const { scheduler, scans } = bareScheduler({ debounceMs: 0, writer: failing });
  scheduler.start();
  await scheduler.idle();
  scheduler.changed('Deployment', 'shop', 'web');
  await new Promise((r) => setTimeout(r, 300));
  await scheduler.idle();
  t.same(scans, ['full failed', 'changes failed'], 'one failed full scan, one failed change scan, no retry storm');
  t.equal(calls, 2);
});

/**
 * Changes of the live cluster view reach the reports after the debounce, not at the next resync: the real
 * LiveClusterViewSource (client-node informers over an in-memory list/watch), the real scheduler and rules, and
 * the in-memory report API. A Service created in one namespace rescans that namespace only, its unchanged
 * workloads evaluated again; a Node's kubelet version triggers a full scan; nothing is told or scanned before the
 * view has synced.
 */
import t from 'tap';
import type { Test } from 'tap';
import pino from 'pino';
import type { KubernetesListObject, KubernetesObject, V1Node, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import type { WatchTransport } from '../../src/cluster/informer-watch.js';
import { LiveClusterViewSource, type ClusterChangeKind, type ResourceFeed } from '../../src/cluster/live-source.js';
import { slimNode, slimPersistentVolumeClaim, slimService } from '../../src/cluster/slim.js';
import type { ClusterViewState } from '../../src/cluster/view.js';
import { parsePolicyConfig } from '../../src/config/policy.js';
import { RULES, RULE_IDS } from '../../src/rules/index.js';
import type { ReportObject } from '../../src/reports/builder.js';
import { REPORT_FORMATS } from '../../src/reports/format.js';
import { ReportScheduler, type ScanSettings } from '../../src/reports/scheduler.js';
import { followClusterView } from '../../src/reports/start.js';
import { ReportWriter } from '../../src/reports/writer.js';
import { FakeReportApi } from '../helpers/fake-report-api.js';
import { reportDeployment } from '../helpers/report-workloads.js';
import { MemoryWorkloadCache } from '../helpers/workload-cache.js';

/** One resource of an in-memory API server: a list, and watches that get every later change. */
class Resource<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly streams = new Set<(type: string, obj: unknown) => void>();
  /** Lists wait for this while set (a slow first list). */
  hold: Promise<void> | undefined;

  constructor(
    private readonly server: { rv: number },
    private readonly path: string,
  ) {}

  put(obj: T): void {
    const copy = structuredClone(obj);
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.server.rv) };
    const key = `${copy.metadata.namespace ?? ''}/${copy.metadata.name}`;
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.objects.set(key, copy);
    for (const deliver of this.streams) deliver(type, structuredClone(copy));
  }

  remove(namespace: string, name: string): void {
    const obj = this.objects.get(`${namespace}/${name}`)!;
    this.objects.delete(`${namespace}/${name}`);
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.server.rv) } };
    for (const deliver of this.streams) deliver('DELETED', structuredClone(gone));
  }

  private readonly transport: WatchTransport = {
    watch: async (_path, _query, callback) => {
      const deliver = (type: string, obj: unknown) => callback(type, obj, { type, object: obj });
      const controller = new AbortController();
      this.streams.add(deliver);
      controller.signal.addEventListener('abort', () => this.streams.delete(deliver));
      return controller;
    },
    cut: () => {},
  };

  feed(slim: (obj: T) => T): ResourceFeed<T> {
    return {
      path: this.path,
      listPage: async (): Promise<KubernetesListObject<T>> => {
        await this.hold;
        return { metadata: { resourceVersion: String(this.server.rv) }, items: [...this.objects.values()].map((o) => structuredClone(o)) };
      },
      slim,
      transport: this.transport,
    };
  }
}

function liveSource(t: Test) {
  const server = { rv: 100 };
  const pvcs = new Resource<V1PersistentVolumeClaim>(server, '/api/v1/persistentvolumeclaims');
  const services = new Resource<V1Service>(server, '/api/v1/services');
  const nodes = new Resource<V1Node>(server, '/api/v1/nodes');
  const source = new LiveClusterViewSource({
    pvcs: pvcs.feed(slimPersistentVolumeClaim),
    services: services.feed(slimService),
    nodes: nodes.feed(slimNode),
    apiServerVersion: async () => 'v1.34.4',
    fallbackKubernetesVersion: '1.30',
    watchTimeoutSeconds: 60,
    requestTimeoutMs: 5000,
    minWatchMs: 0,
    syncTimeoutMs: 10_000,
    retry: { initialMs: 2, maxMs: 10 },
    logger: pino({ enabled: false }),
  });
  t.teardown(() => source.stop());
  return { source, pvcs, services, nodes };
}

const service = (namespace: string, name: string, selector: Record<string, string>): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector, ports: [{ port: 80, targetPort: 8080 }] },
});
const node = (name: string, kubeletVersion: string): V1Node => ({
  metadata: { name },
  status: { nodeInfo: { kubeletVersion } as NonNullable<NonNullable<V1Node['status']>['nodeInfo']> },
});

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('the live view tells changes after the first list, not the objects of that list', async (t) => {
  const { source, services, pvcs, nodes } = liveSource(t);
  services.put(service('a', 'web', { app: 'web' }));
  pvcs.put({ metadata: { name: 'data', namespace: 'a' }, spec: { accessModes: ['ReadWriteOnce'] } });
  nodes.put(node('node-a', 'v1.34.1'));
  const told: string[] = [];
  const unsubscribe = source.onChange((kind: ClusterChangeKind, namespace, name) => told.push(`${kind} ${namespace}/${name}`));

  await source.start();
  t.equal(source.state(), 'synced');
  t.same(told, [], 'the first list is not told object by object');

  services.put(service('b', 'api', { app: 'api' }));
  await until('the new Service is told', () => told.length === 1);
  t.same(told, ['Service b/api']);

  // An update the view does not keep (a status) is no change; one it keeps is.
  services.put({ ...service('b', 'api', { app: 'api' }), status: { loadBalancer: { ingress: [{ ip: '198.18.0.9' }] } } });
  pvcs.put({ metadata: { name: 'data', namespace: 'a' }, spec: { accessModes: ['ReadWriteMany'] } });
  await until('the PVC change is told', () => told.length >= 2);
  t.same(told, ['Service b/api', 'PersistentVolumeClaim a/data'], 'the status-only Service update is not told');

  // A Node matters for its kubelet version only.
  nodes.put({ ...node('node-a', 'v1.34.1'), metadata: { name: 'node-a', labels: { heartbeat: '2' } } });
  nodes.put(node('node-a', 'v1.33.9'));
  services.remove('b', 'api');
  await until('the kubelet change and the deletion are told', () => told.length >= 4);
  t.same(told.slice(2), ['Node /node-a', 'Service b/api']);

  unsubscribe();
  services.put(service('c', 'late', { app: 'late' }));
  await until('the cache has it', () => source.view.getService('c', 'late').found);
  t.equal(told.length, 4, 'nothing after unsubscribing');
});

t.test('a listener that comes after the first list compares with what the cache held then', async (t) => {
  const { source, services, nodes } = liveSource(t);
  services.put(service('a', 'web', { app: 'web' }));
  nodes.put(node('node-a', 'v1.34.1'));
  await source.start();
  const told: string[] = [];
  source.onChange((kind, namespace, name) => told.push(`${kind} ${namespace}/${name}`));

  // Updates of objects listed before the listener came, that change nothing the view reads.
  services.put({ ...service('a', 'web', { app: 'web' }), status: { loadBalancer: { ingress: [{ ip: '198.18.0.9' }] } } });
  nodes.put({ ...node('node-a', 'v1.34.1'), metadata: { name: 'node-a', labels: { heartbeat: '2' } } });
  services.put(service('a', 'web', { app: 'web', tier: 'front' }));
  await until('the selector change is told', () => told.length >= 1);
  t.same(told, ['Service a/web'], 'the status and heartbeat updates are not told');
});

/** A Deployment whose pods serve port 8080 without a readiness probe: fine until a Service routes to them. */
function putDeployment(cache: MemoryWorkloadCache, namespace: string, name: string): void {
  const d = reportDeployment(name, { probe: false, labels: { app: 'web' } });
  cache.put({ apiVersion: 'apps/v1', kind: 'Deployment', ...d, metadata: { name, namespace, uid: `uid-${namespace}-${name}` } });
}

/** The scheduler reading the live view, followed as start.ts does, with a short debounce. */
function reports(t: Test, view: ReturnType<typeof liveSource>, viewState: () => ClusterViewState = () => view.source.state()) {
  const cache = new MemoryWorkloadCache();
  const api = new FakeReportApi();
  const scans: string[] = [];
  const settings: ScanSettings = {
    rules: RULES,
    context: { config: parsePolicyConfig({}, RULE_IDS), cluster: view.source.view },
    modes: { defaultMode: 'off', exemptNamespaces: [], ownNamespace: 'gracekeeper' },
  };
  const scheduler = new ReportScheduler({
    cache,
    writer: new ReportWriter(api),
    settings: () => settings,
    viewState,
    format: REPORT_FORMATS.openreports,
    maxResults: 100,
    resyncMs: 3_600_000,
    debounceMs: 20,
    logger: pino({ enabled: false }),
    onScan: (kind, namespaces) => scans.push(`${kind} ${namespaces}`),
  });
  const unfollow = followClusterView((listener) => view.source.onChange(listener), scheduler);
  t.teardown(async () => {
    unfollow();
    await scheduler.stop();
  });
  const report = (ns: string) => api.stored.get(`${ns}/gracekeeper`) as unknown as ReportObject | undefined;
  const findings = (ns: string) => report(ns)?.results.map((r) => `${r.resources[0]!.name} ${r.policy}: ${r.message}`) ?? [];
  return { cache, api, scans, scheduler, report, findings };
}

t.test('a Service created in one namespace rescans that namespace only, after the debounce', async (t) => {
  const view = liveSource(t);
  view.nodes.put(node('node-a', 'v1.34.1'));
  await view.source.start();
  const { cache, api, scans, scheduler, findings } = reports(t, view);
  for (const ns of ['a', 'b']) {
    cache.namespace(ns, 'enforce');
    putDeployment(cache, ns, 'web');
  }
  scheduler.start();
  await until('the first full scan', () => scans.length === 1);
  await scheduler.idle();
  t.same(scans, ['full 2']);
  t.same(findings('a'), [], 'no Service sends traffic to the pods yet: nothing to drain, no probe needed');
  const before = { a: api.stored.get('a/gracekeeper'), b: api.stored.get('b/gracekeeper') };
  const calls = api.calls.length;

  view.services.put(service('a', 'web', { app: 'web' }));
  await until('a scan of the changes', () => scans.length === 2);
  await scheduler.idle();
  t.same(scans, ['full 2', 'changes 1'], 'one namespace rescanned, not a full scan');
  t.same(api.calls.slice(calls), ['update a'], 'only the report of namespace a is rewritten');
  t.match(findings('a'), [/^web readiness-probe-missing: .*receives traffic from Service 'web'/]);
  t.same(api.stored.get('b/gracekeeper'), before.b, 'namespace b untouched');
  t.not(api.stored.get('a/gracekeeper'), before.a);

  view.services.remove('a', 'web');
  await until('the deletion rescans a', () => scans.length === 3);
  await scheduler.idle();
  t.same(findings('a'), [], 'the finding goes with the Service');
});

t.test('a Node whose kubelet version changes triggers a full scan', async (t) => {
  const view = liveSource(t);
  view.nodes.put(node('node-a', 'v1.34.1'));
  await view.source.start();
  const { cache, scans, scheduler } = reports(t, view);
  for (const ns of ['a', 'b']) {
    cache.namespace(ns, 'enforce');
    putDeployment(cache, ns, 'web');
  }
  scheduler.start();
  await until('the first full scan', () => scans.length === 1);
  await scheduler.idle();

  view.nodes.put({ ...node('node-a', 'v1.34.1'), metadata: { name: 'node-a', labels: { seen: 'again' } } });
  view.nodes.put(node('node-b', 'v1.28.3'));
  await until('a full scan', () => scans.length === 2);
  await scheduler.idle();
  t.same(scans, ['full 2', 'full 2'], 'every namespace rescanned');
  t.equal(view.source.view.versions().minKubelet, '1.28');
});

t.test('nothing is told or scanned before the view has synced; the first scan is one full scan', async (t) => {
  const view = liveSource(t);
  let release!: () => void;
  view.services.hold = new Promise((resolve) => (release = resolve));
  view.services.put(service('a', 'web', { app: 'web' }));
  const told: string[] = [];
  view.source.onChange((kind, namespace, name) => told.push(`${kind} ${namespace}/${name}`));
  const { cache, scans, scheduler, findings } = reports(t, view);
  cache.namespace('a', 'enforce');
  putDeployment(cache, 'a', 'web');
  const started = view.source.start();
  scheduler.start();

  // PVCs and Nodes list while Services wait: the view is syncing, so nothing is scanned.
  await until('the other resources listed', () => view.source.status().filter((s) => s.listed).length === 2);
  view.nodes.put(node('node-a', 'v1.34.1'));
  view.pvcs.put({ metadata: { name: 'data', namespace: 'a' }, spec: { accessModes: ['ReadWriteOnce'] } });
  await until('their changes are told', () => told.length === 2);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(view.source.state(), 'syncing');
  t.same(scans, [], 'no scan while the view syncs');

  release();
  await started;
  await until('the first scan', () => scans.length === 1);
  await scheduler.idle();
  await new Promise((r) => setTimeout(r, 100));
  await scheduler.idle();
  t.same(scans, ['full 1'], 'one full scan, no changes scan for what it already saw');
  t.match(findings('a'), [/receives traffic from Service 'web'/], 'the first scan saw the listed Service');
  t.same(told, ['Node /node-a', 'PersistentVolumeClaim a/data'], 'only the changes made after their resource had listed');
});

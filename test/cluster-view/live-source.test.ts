/**
 * The live view driven through real client-node informers (ListWatch) over an in-memory API server: lists
 * page by page, watches replay from a resourceVersion, answer 410 after compaction, refuse connections or
 * hang. No network.
 */
import t from 'tap';
import type { Test } from 'tap';
import pino from 'pino';
import type { KubernetesListObject, KubernetesObject, V1Node, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import type { WatchTransport } from '../../src/cluster/informer-watch.js';
import { LiveClusterViewSource, retryDelay, type LiveSourceDeps, type ResourceFeed } from '../../src/cluster/live-source.js';
import { slimNode, slimPersistentVolumeClaim, slimService } from '../../src/cluster/slim.js';

const econnrefused = (): Error =>
  Object.assign(new Error('request to https://127.0.0.1:6443/api/v1/x failed, reason: connect ECONNREFUSED 127.0.0.1:6443'), {
    code: 'ECONNREFUSED',
  });

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
interface Stream {
  query: Record<string, unknown>;
  deliver: (type: string, obj: unknown) => void;
  end: (err: unknown) => void;
  ready: boolean;
  ended: boolean;
}

/** One resource of the fake API server: objects, an event log for watches, failure modes. */
class FakeResource<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private events: { type: EventType; object: T; rv: number }[] = [];
  private compactedRv = 0;
  private releaseHang: (() => void) | undefined;
  /** Record changes without sending them to open watches (they are replayed to the next watch). */
  quiet = false;
  listError: unknown = undefined;
  watchMode: 'open' | 'refuse' | 'hang' = 'open';
  listPages = 0;
  cuts = 0;
  readonly streams: Stream[] = [];

  constructor(
    private readonly server: { rv: number },
    readonly path: string,
    private readonly pageSize = 2,
  ) {}

  put(obj: T): void {
    const rv = ++this.server.rv;
    const copy = structuredClone(obj);
    copy.metadata = { ...copy.metadata, resourceVersion: String(rv) };
    const key = `${copy.metadata.namespace ?? ''}/${copy.metadata.name}`;
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.objects.set(key, copy);
    this.record(type, copy, rv);
  }

  remove(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const obj = this.objects.get(key);
    if (!obj) throw new Error(`fake: no ${key}`);
    this.objects.delete(key);
    const rv = ++this.server.rv;
    this.record('DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } }, rv);
  }

  /** Forget the event log, as etcd compaction does: older resourceVersions now get 410 Gone. */
  compact(): void {
    this.compactedRv = this.server.rv;
    this.events = [];
  }

  /** Close every open watch, as the API server does on timeout or restart. */
  closeStreams(err: unknown = null): void {
    // A snapshot: the informer re-watches at once, and those new streams stay open.
    for (const s of this.openStreams()) s.end(err);
  }

  openStreams(): Stream[] {
    return this.streams.filter((s) => !s.ended);
  }

  private record(type: EventType, object: T, rv: number): void {
    this.events.push({ type, object, rv });
    if (this.quiet) return;
    for (const s of this.openStreams()) if (s.ready) s.deliver(type, structuredClone(object));
  }

  async listPage(continueToken: string | undefined): Promise<KubernetesListObject<T>> {
    this.listPages += 1;
    if (this.listError) throw this.listError;
    const all = [...this.objects.values()];
    const start = continueToken ? Number(continueToken) : 0;
    const next = start + this.pageSize < all.length ? String(start + this.pageSize) : undefined;
    return {
      metadata: { resourceVersion: String(this.server.rv), _continue: next },
      items: all.slice(start, start + this.pageSize).map((o) => structuredClone(o)),
    };
  }

  readonly transport: WatchTransport = {
    watch: async (_path, query, callback, done) => {
      const controller = new AbortController();
      const stream: Stream = {
        query,
        deliver: (type, obj) => callback(type, obj, { type, object: obj }),
        ready: false,
        ended: false,
        end: (err) => {
          if (stream.ended) return;
          stream.ended = true;
          controller.abort();
          done(err);
        },
      };
      controller.signal.addEventListener('abort', () => stream.end(new Error('The operation was aborted.')));
      this.streams.push(stream);
      if (this.watchMode === 'refuse') {
        stream.end(econnrefused());
        return controller;
      }
      if (this.watchMode === 'hang') {
        await new Promise<void>((resolve) => (this.releaseHang = resolve));
        stream.end(new Error('socket hang up'));
        return controller;
      }
      // Headers are sent; events follow, starting with those after the requested resourceVersion.
      setImmediate(() => {
        if (stream.ended) return;
        const from = Number(query.resourceVersion ?? 0);
        if (from < this.compactedRv) {
          stream.deliver('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
          stream.end(null);
          return;
        }
        for (const e of this.events) if (e.rv > from) stream.deliver(e.type, structuredClone(e.object));
        stream.ready = true;
      });
      return controller;
    },
    cut: () => {
      this.cuts += 1;
      this.releaseHang?.();
      this.releaseHang = undefined;
    },
  };

  feed(slim: (obj: T) => T): ResourceFeed<T> {
    return { path: this.path, listPage: (c) => this.listPage(c), slim, transport: this.transport };
  }
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function fakeCluster() {
  const server = { rv: 100 };
  const cluster = {
    server,
    pvcs: new FakeResource<V1PersistentVolumeClaim>(server, '/api/v1/persistentvolumeclaims'),
    services: new FakeResource<V1Service>(server, '/api/v1/services'),
    nodes: new FakeResource<V1Node>(server, '/api/v1/nodes'),
    apiServerVersion: 'v1.34.4' as string | undefined,
    logs: [] as LogLine[],
    source(overrides: Partial<LiveSourceDeps> = {}): LiveClusterViewSource {
      const logger = pino({ level: 'debug' }, { write: (line: string) => cluster.logs.push(JSON.parse(line) as LogLine) });
      return new LiveClusterViewSource({
        pvcs: cluster.pvcs.feed(slimPersistentVolumeClaim),
        services: cluster.services.feed(slimService),
        nodes: cluster.nodes.feed(slimNode),
        apiServerVersion: async () => {
          if (!cluster.apiServerVersion) throw econnrefused();
          return cluster.apiServerVersion;
        },
        fallbackKubernetesVersion: '1.30',
        watchTimeoutSeconds: 60,
        requestTimeoutMs: 5000,
        minWatchMs: 0,
        syncTimeoutMs: 10_000,
        retry: { initialMs: 2, maxMs: 10 },
        logger,
        ...overrides,
      });
    },
  };
  return cluster;
}

const service = (namespace: string, name: string, extra: Partial<V1Service['spec']> = {}): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name,
    namespace,
    labels: { app: name },
    managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    annotations: { note: 'x'.repeat(1000) },
  },
  spec: { clusterIP: '10.0.0.10', selector: { app: name }, ports: [{ port: 80 }], ...extra },
});
const pvc = (namespace: string, name: string, modes: string[]): V1PersistentVolumeClaim => ({
  metadata: { name, namespace, managedFields: [{ manager: 'kubectl' }] },
  spec: { accessModes: modes, resources: { requests: { storage: '1Gi' } } },
  status: { phase: 'Bound', accessModes: modes },
});
const node = (name: string, kubeletVersion: string): V1Node => ({
  metadata: { name },
  status: { nodeInfo: { kubeletVersion } as NonNullable<NonNullable<V1Node['status']>['nodeInfo']>, images: [{ names: ['big'] }] },
});

function seed(c: ReturnType<typeof fakeCluster>): void {
  c.pvcs.put(pvc('shop', 'data', ['ReadWriteOnce']));
  c.services.put(service('shop', 'db', { clusterIP: 'None' }));
  c.services.put(service('shop', 'web'));
  c.services.put(service('other', 'web'));
  c.nodes.put(node('node-a', 'v1.33.2'));
  c.nodes.put(node('node-b', 'v1.34.1'));
}

/** Waits (polling) until `check` holds; fails the test with `what` if it never does. */
async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A seeded fake cluster and a view of it that the test tears down. */
function setup(t: Test, overrides: Partial<LiveSourceDeps> = {}) {
  const c = fakeCluster();
  seed(c);
  const source = c.source(overrides);
  t.teardown(() => source.stop());
  return { c, source, view: source.view, resources: [c.pvcs, c.services, c.nodes] };
}

t.test('before the first list nothing can be told; after it, lookups answer from the slimmed cache', async (t) => {
  const { c, source, view } = setup(t);

  t.equal(source.state(), 'syncing');
  t.same(view.getService('shop', 'db'), {
    found: false,
    reason: "cannot tell whether Service 'db' in namespace 'shop' exists: the Service cache has not synced yet",
  });
  t.same(view.listServices('shop'), {
    found: false,
    reason: "cannot tell which Services namespace 'shop' has: the Service cache has not synced yet",
  });
  t.same(view.versions(), { minKubelet: '1.30', source: 'config kubernetesVersion (node kubelet versions not known yet)' });

  await source.start();
  t.equal(source.state(), 'synced');
  t.equal(c.services.listPages, 2, 'three Services came in pages of two');

  const data = view.getPersistentVolumeClaim('shop', 'data');
  t.same(data, {
    found: true,
    value: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'shop', resourceVersion: '101' },
      spec: { accessModes: ['ReadWriteOnce'] },
      status: { accessModes: ['ReadWriteOnce'] },
    },
  });
  const db = view.getService('shop', 'db');
  t.equal(db.found && db.value.spec?.clusterIP, 'None');
  t.equal(db.found && db.value.metadata?.managedFields, undefined, 'managedFields are not kept');
  t.equal(db.found && db.value.metadata?.annotations, undefined, 'annotations are not kept');

  const shop = view.listServices('shop');
  t.same(shop.found && shop.value.map((s) => s.metadata?.name).sort(), ['db', 'web']);
  t.same(view.listServices('empty'), { found: true, value: [] }, 'a synced cache knows a namespace has no Services');
  t.same(view.getService('shop', 'nope'), {
    found: false,
    reason: "Service 'nope' in namespace 'shop' does not exist (the Service cache is in sync)",
  });
  t.same(view.getPersistentVolumeClaim('', 'data'), {
    found: false,
    reason: "PersistentVolumeClaim 'data' in namespace 'default' does not exist (the PersistentVolumeClaim cache is in sync)",
  });
  t.same(view.versions(), { minKubelet: '1.33', source: 'nodes: lowest kubelet of 2 nodes (node-a)' });
  t.same(
    source.status().map((s) => [s.kind, s.listed, s.objects, s.failing]),
    [
      ['PersistentVolumeClaim', true, 1, undefined],
      ['Service', true, 3, undefined],
      ['Node', true, 2, undefined],
    ],
  );
  t.ok(c.logs.some((l) => l.msg === 'cluster view synced'), 'the transition to synced is logged');
});

t.test('watches resume from the listed resourceVersion and keep the cache and versions current', async (t) => {
  const { c, source, view } = setup(t);
  await source.start();

  const [watch] = c.services.streams;
  t.match(watch?.query, { resourceVersion: String(c.server.rv), allowWatchBookmarks: true, timeoutSeconds: 60 });

  c.services.put(service('shop', 'cache'));
  await until('the added Service is seen', () => view.getService('shop', 'cache').found);
  const added = view.getService('shop', 'cache');
  t.equal(added.found && added.value.metadata?.managedFields, undefined, 'objects from watch events are slimmed too');

  c.services.put({ ...service('shop', 'cache'), metadata: { name: 'cache', namespace: 'shop', labels: { app: 'cache', tier: 'hot' } } });
  await until('the modified labels are seen', () => {
    const l = view.getService('shop', 'cache');
    return l.found && l.value.metadata?.labels?.tier === 'hot';
  });

  c.services.remove('shop', 'cache');
  await until('the deleted Service is gone', () => !view.getService('shop', 'cache').found);
  t.match(view.getService('shop', 'cache'), { found: false, reason: /does not exist \(the Service cache is in sync\)/ });

  c.nodes.put(node('node-old', 'v1.31.7'));
  await until('an older node lowers minKubelet', () => view.versions().minKubelet === '1.31');
  t.equal(view.versions().source, 'nodes: lowest kubelet of 3 nodes (node-old)');
  c.nodes.put(node('node-old', 'v1.34.0'));
  await until('an upgraded kubelet raises it', () => view.versions().minKubelet === '1.33');
  c.nodes.remove('', 'node-a');
  await until('removing the oldest node raises it', () => view.versions().minKubelet === '1.34');
  c.nodes.remove('', 'node-b');
  c.nodes.remove('', 'node-old');
  await until('no nodes left', () => view.versions().source.startsWith('API server'));
  t.same(view.versions(), { minKubelet: '1.34', source: 'API server /version (no nodes: a control plane without kubelets)' });
});

t.test('API server gone mid-run: degraded, the stale cache keeps answering, and it recovers', async (t) => {
  const { c, source, view, resources } = setup(t);
  await source.start();

  for (const r of resources) {
    r.watchMode = 'refuse';
    r.closeStreams();
  }
  await until('degraded', () => source.state() === 'degraded');
  c.services.quiet = true;
  c.services.put(service('shop', 'late'));

  t.match(view.getService('shop', 'db'), { found: true }, 'the cache still answers');
  t.match(view.listServices('shop'), { found: true });
  t.match(view.getService('shop', 'late'), {
    found: false,
    reason: /^Service 'late' in namespace 'shop' is not in the Service cache, which may be stale \(API server failing since \d{4}-\d\d-\d\dT[\d:.]+Z: connect ECONNREFUSED 127\.0\.0\.1:6443\)$/,
  });
  t.equal(view.versions().minKubelet, '1.33', 'versions come from the cached nodes');
  await until('retries with backoff', () => (source.status()[1]?.failing?.attempts ?? 0) >= 3);
  const warned = c.logs.filter((l) => l.msg === 'cluster view degraded');
  t.equal(warned.length, 1, 'the transition is logged once, not every retry');

  for (const r of resources) r.watchMode = 'open';
  await until('synced again', () => source.state() === 'synced');
  await until('the change made during the outage arrives', () => view.getService('shop', 'late').found);
  t.equal(c.services.listPages, 2, 'resumed from the resourceVersion, no relist');
  t.same(source.status().map((s) => s.failing), [undefined, undefined, undefined]);
});

t.test('API server unreachable at start: start() gives up after syncTimeoutMs, lookups cannot tell, then it syncs', async (t) => {
  const { c, source, view, resources } = setup(t, { syncTimeoutMs: 50 });
  for (const r of resources) r.listError = econnrefused();
  c.apiServerVersion = undefined;

  await source.start();
  t.equal(source.state(), 'degraded');
  t.match(view.getPersistentVolumeClaim('shop', 'data'), {
    found: false,
    reason: /^cannot tell whether PersistentVolumeClaim 'data' in namespace 'shop' exists: the PersistentVolumeClaim cache could not be loaded \(API server failing since .*: connect ECONNREFUSED 127\.0\.0\.1:6443\)$/,
  });
  t.match(view.listServices('shop'), { found: false, reason: /^cannot tell/ });
  t.same(view.versions(), { minKubelet: '1.30', source: 'config kubernetesVersion (node kubelet versions not known yet)' });
  t.ok(c.logs.some((l) => l.msg.startsWith('cluster view not synced in time')), 'giving up is logged');

  for (const r of resources) r.listError = undefined;
  c.apiServerVersion = 'v1.34.4';
  await until('synced once the API server answers', () => source.state() === 'synced');
  t.match(view.getPersistentVolumeClaim('shop', 'data'), { found: true });
  await until('kubelet versions replace the fallback', () => view.versions().minKubelet === '1.33');
});

t.test('a watch the API server never answers is cut and reported, then retried', async (t) => {
  const { c, source } = setup(t, { requestTimeoutMs: 30 });
  await source.start();

  c.nodes.watchMode = 'hang';
  c.nodes.closeStreams();
  await until('degraded', () => source.state() === 'degraded');
  t.match(source.status()[2]?.failing?.message, /^watch \/api\/v1\/nodes: no answer within 30 ms$/);
  t.ok(c.nodes.cuts >= 1, 'the hung connection was cut');
  t.match(source.view.getService('shop', 'db'), { found: true }, 'other resources are unaffected');

  c.nodes.watchMode = 'open';
  await until('synced again', () => source.state() === 'synced');
});

t.test('a watch that outlives its timeout is taken as hung', async (t) => {
  // timeoutSeconds 0: the stream must end within twice requestTimeoutMs; the fake never ends it.
  const { source } = setup(t, { watchTimeoutSeconds: 0, requestTimeoutMs: 10 });
  await source.start();
  await until('degraded', () => source.state() === 'degraded');
  t.match(source.status().find((s) => s.failing)?.failing?.message, /stream still open 20 ms after it was opened, past its 0 s timeout$/);
});

t.test('a watch the API server closes at once is re-opened only after minWatchMs, without degrading', async (t) => {
  const { c, source, view } = setup(t, { minWatchMs: 100 });
  await source.start();
  const opened = c.services.streams.length;
  c.services.closeStreams();
  await new Promise((r) => setImmediate(r));
  t.equal(c.services.streams.length, opened, 'not re-opened in the same turn');
  t.equal(source.state(), 'synced', 'a clean close is not a failure');
  await until('re-opened after the delay', () => c.services.openStreams().length === 1);
  c.services.put(service('shop', 'again'));
  await until('the new watch delivers', () => view.getService('shop', 'again').found);
});

t.test('an expired resourceVersion (410 Gone) relists without degrading', async (t) => {
  const { c, source, view } = setup(t);
  await source.start();

  c.services.quiet = true;
  c.services.remove('shop', 'web');
  c.services.put(service('shop', 'fresh'));
  c.services.compact();
  c.services.closeStreams();

  await until('relisted', () => view.getService('shop', 'fresh').found);
  t.match(view.getService('shop', 'web'), { found: false, reason: /does not exist/ }, 'deleted during the gap: gone after the relist');
  t.equal(c.services.listPages, 4, 'a second full list (two pages)');
  t.equal(source.state(), 'synced');
  t.notOk(c.logs.some((l) => l.level >= 40), 'no warnings: a 410 is routine');
});

t.test('stop() ends watches and retries: nothing more is asked of the API server', async (t) => {
  const { source, resources } = setup(t);
  await source.start();
  for (const r of resources) {
    r.watchMode = 'refuse';
    r.closeStreams();
  }
  await until('degraded', () => source.state() === 'degraded');
  await source.stop();
  const asked = (): number[] => resources.flatMap((r) => [r.listPages, r.streams.length]);
  const before = asked();
  // Ten times the longest retry delay: a retry still scheduled would have run by now.
  await new Promise((r) => setTimeout(r, 100));
  t.same(asked(), before);
  t.same(resources.map((r) => r.openStreams().length), [0, 0, 0]);
  await source.start();
  t.same(asked(), before, 'start() after stop() does not restart');
  t.match(source.view.getService('shop', 'db'), { found: true }, 'lookups still answer after stop');
});

t.test('retry delays double up to the cap, with jitter', async (t) => {
  const policy = { initialMs: 1000, maxMs: 30_000 };
  t.same([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, policy, () => 0.5)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  t.equal(retryDelay(1, policy, () => 0), 800);
  t.equal(retryDelay(1, policy, () => 1), 1200);
});

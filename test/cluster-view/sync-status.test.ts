import t from 'tap';
import { ResourceSync, overallState } from '../../src/cluster/sync-status.js';

const clock = (): { now: () => Date; set: (iso: string) => void } => {
  let current = new Date('2026-03-01T10:00:00.000Z');
  return { now: () => current, set: (iso) => (current = new Date(iso)) };
};

t.test('before the first list nothing can be told, and the reason says whether the API server fails', async (t) => {
  const c = clock();
  const r = new ResourceSync('Service', c.now);
  t.equal(r.missReason("Service 'db' in namespace 'shop'"), "cannot tell whether Service 'db' in namespace 'shop' exists: the Service cache has not synced yet");
  r.markFailed('connect ECONNREFUSED 127.0.0.1:6443');
  t.equal(
    r.missReason("Service 'db' in namespace 'shop'"),
    "cannot tell whether Service 'db' in namespace 'shop' exists: the Service cache could not be loaded (API server failing since 2026-03-01T10:00:00.000Z: connect ECONNREFUSED 127.0.0.1:6443)",
  );
});

t.test('after the first list a miss is an absence, marked stale while the API server fails', async (t) => {
  const c = clock();
  const r = new ResourceSync('PersistentVolumeClaim', c.now);
  r.markListed();
  t.equal(r.missReason("PersistentVolumeClaim 'data'"), "PersistentVolumeClaim 'data' does not exist (the PersistentVolumeClaim cache is in sync)");
  r.markFailed('HTTP 503: Service Unavailable');
  c.set('2026-03-01T10:00:05.000Z');
  r.markFailed('connect ECONNREFUSED 127.0.0.1:6443');
  t.equal(r.failing?.attempts, 2);
  t.equal(r.failing?.since.toISOString(), '2026-03-01T10:00:00.000Z', 'since is the start of the outage');
  t.equal(
    r.missReason("PersistentVolumeClaim 'data'"),
    "PersistentVolumeClaim 'data' is not in the PersistentVolumeClaim cache, which may be stale (API server failing since 2026-03-01T10:00:00.000Z: connect ECONNREFUSED 127.0.0.1:6443)",
  );
  r.markHealthy();
  t.equal(r.failing, undefined);
  t.match(r.missReason('x'), /does not exist/);
});

t.test('overall state: degraded beats syncing beats synced', async (t) => {
  const a = new ResourceSync('A');
  const b = new ResourceSync('B');
  t.equal(overallState([a, b]), 'syncing');
  a.markListed();
  t.equal(overallState([a, b]), 'syncing');
  b.markFailed('down');
  t.equal(overallState([a, b]), 'degraded', 'failing before its first list');
  b.markHealthy();
  b.markListed();
  t.equal(overallState([a, b]), 'synced');
  a.markFailed('down');
  t.equal(overallState([a, b]), 'degraded');
  a.markHealthy();
  t.equal(overallState([a, b]), 'synced');
});

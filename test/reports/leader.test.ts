/**
 * Leader election on a Lease, with an in-memory Lease that behaves like the API server's (conditional writes,
 * 409 on a stale resourceVersion or an existing name) and a clock the test moves: one replica holds it, another
 * takes over only after the holder stopped renewing for the lease duration (by its own clock) or released it.
 */
import t from 'tap';
import pino from 'pino';
import { LeaderElector, type LeaseApi, type LeaseRecord } from '../../src/reports/leader.js';

class FakeLease implements LeaseApi {
  lease: LeaseRecord | undefined;
  private rv = 1;
  async read() {
    return this.lease ? structuredClone(this.lease) : undefined;
  }
  async create(l: LeaseRecord) {
    if (this.lease) throw Object.assign(new Error('already exists'), { status: 409 });
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  async replace(l: LeaseRecord) {
    if (!this.lease || l.metadata.resourceVersion !== this.lease.metadata.resourceVersion) throw Object.assign(new Error('conflict'), { status: 409 });
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

let clock = 1_000_000;
const now = () => clock;
const events: string[] = [];
function elector(api: LeaseApi, identity: string): LeaderElector {
  return new LeaderElector({
    api,
    name: 'gracekeeper-reports',
    namespace: 'gk',
    identity,
    leaseDurationMs: 15_000,
    retryMs: 2_000,
    onStartedLeading: () => events.push(`${identity} leads`),
    onStoppedLeading: () => events.push(`${identity} stops`),
    logger: pino({ enabled: false }),
    now,
  });
}

t.test('one leader; a takeover only after the holder stops renewing for the lease duration', async (t) => {
  events.length = 0;
  const api = new FakeLease();
  const a = elector(api, 'a');
  const b = elector(api, 'b');
  await a.tick();
  await b.tick();
  t.same(events, ['a leads']);
  t.equal(api.lease!.spec.holderIdentity, 'a');
  t.equal(api.lease!.spec.leaseTransitions, 0);

  // a renews; b keeps seeing new resourceVersions and never takes over.
  for (let i = 0; i < 20; i++) {
    clock += 2_000;
    await a.tick();
    await b.tick();
  }
  t.same(events, ['a leads']);
  t.ok(a.isLeader() && !b.isLeader());

  // a hangs (no more renewals): b waits a full lease duration from when it last saw a change.
  clock += 14_000;
  await b.tick();
  t.notOk(b.isLeader(), 'not before the lease duration');
  clock += 2_000;
  await b.tick();
  t.ok(b.isLeader(), 'after it');
  t.equal(api.lease!.spec.holderIdentity, 'b');
  t.equal(api.lease!.spec.leaseTransitions, 1);

  // a comes back: its renewal is refused (it reads b as holder), and it steps down.
  await a.tick();
  t.notOk(a.isLeader());
  t.same(events, ['a leads', 'b leads', 'a stops']);
});

t.test('a holder that cannot reach the API server for the lease duration steps down', async (t) => {
  events.length = 0;
  const api = new FakeLease();
  const a = elector(api, 'a');
  await a.tick();
  const broken: LeaseApi = {
    read: () => Promise.reject(new Error('connection refused')),
    create: () => Promise.reject(new Error('connection refused')),
    replace: () => Promise.reject(new Error('connection refused')),
  };
  (a as unknown as { options: { api: LeaseApi } }).options.api = broken;
  clock += 10_000;
  await a.tick();
  t.ok(a.isLeader(), 'within the lease duration it keeps leading');
  clock += 6_000;
  await a.tick();
  t.notOk(a.isLeader());
  t.same(events, ['a leads', 'a stops']);
});

t.test('stop releases the Lease: the next replica takes it at its next try', async (t) => {
  events.length = 0;
  const api = new FakeLease();
  const a = elector(api, 'a');
  const b = elector(api, 'b');
  await a.tick();
  await b.tick();
  await a.stop();
  t.equal(api.lease!.spec.holderIdentity, '');
  clock += 2_000;
  await b.tick();
  t.ok(b.isLeader());
  t.same(events, ['a leads', 'a stops', 'b leads']);
});

t.test('two replicas starting together: the conditional create lets one win', async (t) => {
  events.length = 0;
  const api = new FakeLease();
  const a = elector(api, 'a');
  const b = elector(api, 'b');
  await Promise.all([a.tick(), b.tick()]);
  t.equal([a.isLeader(), b.isLeader()].filter(Boolean).length, 1);
});

import t from 'tap';
import { deploymentStrategy, desiredReplicas, resolveRollingUpdate, scaleIntOrPercent } from '../../src/engine/replicas.js';
import type { KubeObject } from '../../src/engine/types.js';
import { toWorkload } from '../../src/engine/workload.js';

const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'a' }] } };
const workload = (kind: string, spec: Record<string, unknown>) =>
  toWorkload({ apiVersion: 'apps/v1', kind, metadata: { name: 'a' }, spec: { ...spec, template } } as KubeObject)!;

t.test('scaleIntOrPercent rounds like Kubernetes', async (t) => {
  t.equal(scaleIntOrPercent('25%', 1, true), 1);
  t.equal(scaleIntOrPercent('25%', 1, false), 0);
  t.equal(scaleIntOrPercent('25%', 10, true), 3);
  t.equal(scaleIntOrPercent('25%', 10, false), 2);
  t.equal(scaleIntOrPercent(2, 10, false), 2);
  t.ok(Number.isNaN(scaleIntOrPercent('2', 10, false)), 'a string must be a percentage');
  t.ok(Number.isNaN(scaleIntOrPercent(-1, 10, false)), 'negative');
  t.ok(Number.isNaN(scaleIntOrPercent('abc%', 10, false)));
});

t.test('replicas and strategy defaults', async (t) => {
  t.equal(desiredReplicas(workload('Deployment', {})), 1);
  t.equal(desiredReplicas(workload('StatefulSet', { replicas: 0 })), 0);
  t.equal(desiredReplicas(workload('DaemonSet', {})), undefined);
  t.equal(deploymentStrategy(workload('Deployment', {})), 'RollingUpdate');
  t.equal(deploymentStrategy(workload('Deployment', { strategy: { type: '' } })), 'RollingUpdate');
  t.equal(deploymentStrategy(workload('Deployment', { strategy: { type: 'Recreate' } })), 'Recreate');
  t.equal(resolveRollingUpdate(workload('Deployment', { strategy: { type: 'Recreate' } })), undefined);
  t.equal(resolveRollingUpdate(workload('ReplicaSet', {})), undefined);
});

t.test('resolveRollingUpdate follows ResolveFenceposts', async (t) => {
  const ru = (replicas: number | undefined, rollingUpdate?: Record<string, unknown>) =>
    resolveRollingUpdate(workload('Deployment', { ...(replicas === undefined ? {} : { replicas }), strategy: { rollingUpdate } }))!;
  t.match(ru(undefined), { replicas: 1, surge: 1, unavailable: 0, bothZero: false, maxSurge: '25%', maxUnavailable: '25%' });
  t.match(ru(10), { surge: 3, unavailable: 2 });
  t.match(ru(1, { maxSurge: 0 }), { surge: 0, unavailable: 1, bothZero: true }, 'both 0: one may be unavailable');
  t.match(ru(3, { maxSurge: '0%', maxUnavailable: '10%' }), { surge: 0, unavailable: 1, bothZero: true });
  t.match(ru(4, { maxSurge: 0, maxUnavailable: '50%' }), { surge: 0, unavailable: 2, bothZero: false });
  t.match(ru(2, { maxUnavailable: null }), { unavailable: 0 }, 'null (an empty YAML key) is the default');
});

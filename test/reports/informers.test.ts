/**
 * What counts as a change for the scan: the digest of the slimmed object without its resourceVersion. Status
 * updates (dropped by the slim copy) and a stub's status are no change; spec, labels and annotations are.
 */
import t from 'tap';
import type { KubernetesObject } from '@kubernetes/client-node';
import { digestOf } from '../../src/reports/informers.js';
import { slimWorkload } from '../../src/reports/slim.js';

const deployment = (rv: string, extra: Record<string, unknown> = {}) =>
  slimWorkload(
    {
      metadata: { name: 'web', namespace: 'shop', resourceVersion: rv, labels: { app: 'web' }, managedFields: [{ manager: rv }] },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'web:1' }] } } },
      status: { readyReplicas: Number(rv) },
      ...extra,
    } as KubernetesObject,
    'apps/v1',
    'Deployment',
  );

t.test('status, managedFields and resourceVersion changes are no change; spec and labels are', async (t) => {
  t.equal(digestOf(deployment('1')), digestOf(deployment('2')));
  t.not(digestOf(deployment('1')), digestOf(deployment('2', { spec: { replicas: 3, template: { spec: { containers: [] } } } })));
  const relabelled = deployment('2');
  relabelled.metadata!.labels = { app: 'web', tier: 'front' };
  t.not(digestOf(deployment('1')), digestOf(relabelled));
});

t.test("a controller's Pod is a stub: its status updates are no change", async (t) => {
  const pod = (rv: string, phase: string) =>
    slimWorkload(
      {
        metadata: { name: 'web-1', namespace: 'shop', resourceVersion: rv, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u', controller: true }] },
        spec: { containers: [{ name: 'app', image: 'web:1' }] },
        status: { phase },
      } as KubernetesObject,
      'v1',
      'Pod',
    );
  t.notOk('spec' in pod('1', 'Pending'), 'stub: no spec kept');
  t.equal(digestOf(pod('1', 'Pending')), digestOf(pod('2', 'Running')));
});

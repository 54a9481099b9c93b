import t from 'tap';
import { computeVersions } from '../../src/cluster/versions.js';

const nodes = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));

t.test('the lowest kubelet minor across nodes wins, whatever the API server says', async (t) => {
  const v = computeVersions({
    kubelets: nodes({ 'node-b': 'v1.34.1', 'node-a': 'v1.33.5-eks-1234', 'node-c': 'v1.34.0' }),
    apiServer: 'v1.34.4',
    fallback: '1.30',
  });
  t.equal(v.minKubelet, '1.33');
  t.match(v.source, /^nodes: lowest kubelet of 3 nodes \(node-a\)$/);
});

t.test('nodes without a readable kubeletVersion are skipped and counted', async (t) => {
  const v = computeVersions({ kubelets: nodes({ a: 'v1.32.1', b: '', c: 'banana' }), apiServer: undefined, fallback: '1.34' });
  t.equal(v.minKubelet, '1.32');
  t.match(v.source, /1 node \(a\); 2 without a readable kubeletVersion/);
});

t.test('no nodes: the API server version stands in, and the source says why', async (t) => {
  const v = computeVersions({ kubelets: nodes({}), apiServer: 'v1.31.2', fallback: '1.34' });
  t.equal(v.minKubelet, '1.31');
  t.match(v.source, /API server \/version \(no nodes: a control plane without kubelets\)/);
});

t.test('nodes but none readable: the API server version stands in', async (t) => {
  const v = computeVersions({ kubelets: nodes({ a: '' }), apiServer: 'v1.33.0', fallback: '1.34' });
  t.equal(v.minKubelet, '1.33');
  t.match(v.source, /no node reports a readable kubeletVersion/);
});

t.test('no nodes and no API server version: the configured fallback', async (t) => {
  const v = computeVersions({ kubelets: nodes({}), apiServer: undefined, fallback: 'v1.29.3' });
  t.equal(v.minKubelet, '1.29');
  t.match(v.source, /config kubernetesVersion \(no nodes and API server version unknown\)/);
});

t.test('nodes not listed yet: the fallback, capped at an older API server', async (t) => {
  const older = computeVersions({ kubelets: undefined, apiServer: 'v1.30.1', fallback: '1.34' });
  t.equal(older.minKubelet, '1.30', 'no kubelet can be newer than its API server');
  t.match(older.source, /API server \/version \(node kubelet versions not known yet\)/);

  const newer = computeVersions({ kubelets: undefined, apiServer: 'v1.35.0', fallback: '1.33' });
  t.equal(newer.minKubelet, '1.33', 'a newer API server says nothing about the kubelets');
  t.match(newer.source, /config kubernetesVersion \(node kubelet versions not known yet\)/);

  const nothing = computeVersions({ kubelets: undefined, apiServer: undefined, fallback: '1.34' });
  t.equal(nothing.minKubelet, '1.34');
});

t.test('an API server version that cannot be read is ignored', async (t) => {
  const v = computeVersions({ kubelets: nodes({}), apiServer: 'weird', fallback: '1.32' });
  t.equal(v.minKubelet, '1.32');
  t.match(v.source, /config kubernetesVersion/);
});

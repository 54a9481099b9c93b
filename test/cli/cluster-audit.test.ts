import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { auditCluster, loadKubeConfig, reportable } from '../../src/cli/cluster-audit.js';
import type { CliIO } from '../../src/cli/io.js';
import { listAll, type ApiGet, type ListedResource } from '../../src/cluster/list-pages.js';
import { SnapshotClusterView } from '../../src/cluster/snapshot.js';
import { defaultPolicyConfig } from '../../src/config/policy.js';
import type { KubeObject } from '../../src/engine/types.js';
import { cli } from '../helpers/cli.js';

const DEPLOYMENTS: ListedResource = { resource: 'deployments', group: 'apps', version: 'v1', kind: 'Deployment', namespaced: true };
const NODES: ListedResource = { resource: 'nodes', group: '', version: 'v1', kind: 'Node', namespaced: false };

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'shop', uid: `uid-${name}`, ...extra });
const owned = (kind: string, owner: string) => ({ ownerReferences: [{ apiVersion: 'v1', kind, name: owner, uid: `uid-${owner}`, controller: true }] });

/** A fake API server answering GETs from `objects` (by list path), in pages of the limit asked for. */
function fakeApi(objects: Record<string, KubeObject[]>, refuse: Record<string, number> = {}): { get: ApiGet; paths: string[] } {
  const paths: string[] = [];
  const get: ApiGet = async (path) => {
    paths.push(path);
    if (path === '/version') return { status: 200, body: JSON.stringify({ gitVersion: 'v1.37.2' }) };
    const url = new URL(path, 'https://api.invalid');
    const status = refuse[url.pathname];
    if (status) return { status, body: JSON.stringify({ kind: 'Status', message: `${url.pathname} is forbidden: User "u" cannot list` }) };
    const all = objects[url.pathname] ?? [];
    const limit = Number(url.searchParams.get('limit'));
    const start = Number(url.searchParams.get('continue') ?? 0);
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : undefined;
    return { status: 200, body: JSON.stringify({ items, metadata: next ? { continue: next } : {} }) };
  };
  return { get, paths };
}

function io(stderrIsTerminal = false): CliIO & { err: () => string } {
  let err = '';
  return {
    readStdin: async () => '',
    stdout: { write: () => true },
    stderr: { write: (s: string) => (err += s) },
    colour: false,
    stderrIsTerminal,
    err: () => err,
  };
}

const kubeConfig = () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u', namespace: 'shop' }],
    currentContext: 'ctx',
  });
  return kc;
};

const SERVING = { containers: [{ name: 'web', image: 'registry.example/web:1', ports: [{ containerPort: 8080 }] }] };
const deployment = (name: string, replicas = 2): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: meta(name),
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: SERVING } },
});

t.test('listAll reads every page with limit and continue, and sets apiVersion and kind on items', async (t) => {
  const items = Array.from({ length: 5 }, (_, i) => ({ metadata: meta(`d${i}`) }));
  const { get, paths } = fakeApi({ '/apis/apps/v1/namespaces/shop/deployments': items });
  const pages: number[] = [];
  const listed = await listAll(get, DEPLOYMENTS, { namespace: 'shop' }, { limit: 2, onPage: (n) => pages.push(n) });
  t.equal(listed.length, 5);
  t.same(pages, [2, 4, 5]);
  t.same(paths, [
    '/apis/apps/v1/namespaces/shop/deployments?limit=2',
    '/apis/apps/v1/namespaces/shop/deployments?limit=2&continue=2',
    '/apis/apps/v1/namespaces/shop/deployments?limit=2&continue=4',
  ]);
  t.ok(listed.every((o) => o.apiVersion === 'apps/v1' && o.kind === 'Deployment'));
  const all = fakeApi({ '/apis/apps/v1/deployments': items });
  t.equal((await listAll(all.get, DEPLOYMENTS, { allNamespaces: true })).length, 5, 'all namespaces: the cluster-wide path');
  const nodes = fakeApi({ '/api/v1/nodes': [{ metadata: { name: 'n' } }] });
  t.equal((await listAll(nodes.get, NODES, { namespace: 'shop' })).length, 1, 'cluster-scoped resources ignore the namespace');
});

t.test('refusals name the verb, the resource and where; other failures say what happened', async (t) => {
  const forbidden = fakeApi({}, { '/apis/apps/v1/namespaces/shop/deployments': 403 });
  await t.rejects(listAll(forbidden.get, DEPLOYMENTS, { namespace: 'shop' }), {
    code: 'CLUSTER_FORBIDDEN',
    message: /^forbidden: cannot list deployments\.apps in namespace 'shop': RBAC must allow verb 'list' on resource 'deployments\.apps' \(API server: .*is forbidden/,
  });
  const nodes = fakeApi({}, { '/api/v1/nodes': 403 });
  await t.rejects(listAll(nodes.get, NODES, { allNamespaces: true }), { message: /cannot list nodes at the cluster scope/ });
  const unauthorized = fakeApi({}, { '/apis/apps/v1/deployments': 401 });
  await t.rejects(listAll(unauthorized.get, DEPLOYMENTS, { allNamespaces: true }), { code: 'CLUSTER_FORBIDDEN', message: /^unauthorized: the credentials/ });
  const expired = fakeApi({}, { '/apis/apps/v1/deployments': 410 });
  await t.rejects(listAll(expired.get, DEPLOYMENTS, { allNamespaces: true }), { code: 'CLUSTER_UNAVAILABLE', message: /continue token expired/ });
  await t.rejects(listAll(async () => ({ status: 200, body: '<html>' }), DEPLOYMENTS, { allNamespaces: true }), { message: /not JSON/ });
  await t.rejects(
    listAll(async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')), DEPLOYMENTS, { allNamespaces: true }),
    { code: 'CLUSTER_UNAVAILABLE', message: 'cannot list deployments.apps: connect ECONNREFUSED 127.0.0.1:1' },
  );
  const loop: ApiGet = async () => ({ status: 200, body: JSON.stringify({ items: [], metadata: { continue: 'same' } }) });
  await t.rejects(listAll(loop, DEPLOYMENTS, { allNamespaces: true }), { message: /same continue token twice/ }, 'never loops');
});

t.test('Pods, ReplicaSets and Jobs of a listed controller are reported through it', async (t) => {
  const objects: KubeObject[] = [
    { kind: 'Deployment', metadata: meta('web') },
    { kind: 'ReplicaSet', metadata: meta('web-1', owned('Deployment', 'web')) },
    { kind: 'Pod', metadata: meta('web-1-a', owned('ReplicaSet', 'web-1')) },
    { kind: 'CronJob', metadata: meta('nightly') },
    { kind: 'Job', metadata: meta('nightly-1', owned('CronJob', 'nightly')) },
    { kind: 'Pod', metadata: meta('nightly-1-a', owned('Job', 'nightly-1')) },
    { kind: 'Pod', metadata: meta('bare') },
    { kind: 'Pod', metadata: meta('operated', owned('Database', 'pg')) },
    { kind: 'ReplicaSet', metadata: meta('orphan', owned('Deployment', 'gone')) },
    { kind: 'StatefulSet', metadata: meta('db') },
    { kind: 'Pod', metadata: meta('db-0', owned('StatefulSet', 'db')) },
  ];
  const { report, throughOwner } = reportable(objects);
  t.same(
    report.map((o) => (o.metadata as { name: string }).name),
    ['web', 'nightly', 'bare', 'operated', 'orphan', 'db'],
    'controllers, bare Pods, and what an unlisted owner owns',
  );
  t.equal(throughOwner, 5);
});

t.test('the snapshot view: Services and PVCs by namespace, kubelet versions from Nodes as the live view computes them', async (t) => {
  const view = new SnapshotClusterView({
    services: [{ kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: 'None' } }],
    pvcs: [{ kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'shop' }, spec: { accessModes: ['ReadWriteOnce'] } }],
    nodes: [
      { kind: 'Node', metadata: { name: 'a' }, status: { nodeInfo: { kubeletVersion: 'v1.33.1' } } },
      { kind: 'Node', metadata: { name: 'b' }, status: { nodeInfo: { kubeletVersion: 'v1.29.4' } } },
    ],
    apiServer: 'v1.37.2',
    fallbackKubernetesVersion: '1.37',
    namespaces: new Set(['shop']),
  });
  t.equal(view.getService('shop', 'web').found, true);
  t.equal(view.getPersistentVolumeClaim('shop', 'data').found, true);
  t.match(view.getService('shop', 'nope'), { found: false, reason: "Service 'nope' in namespace 'shop' does not exist (listed from the cluster)" });
  t.match(view.getService('other', 'web'), { found: false, reason: /cannot tell .* namespace 'other' was not listed/ });
  t.match(view.listServices('other'), { found: false });
  t.equal((view.listServices('shop') as { value: unknown[] }).value.length, 1);
  t.same(view.versions(), { minKubelet: '1.29', source: 'nodes: lowest kubelet of 2 nodes (b)' });
  const noNodes = new SnapshotClusterView({ services: [], pvcs: [], nodes: undefined, apiServer: 'v1.31.0', fallbackKubernetesVersion: '1.37' });
  t.equal(noNodes.versions().minKubelet, '1.31', 'Nodes unreadable: the API server version bounds it');
});

t.test('auditCluster: findings from the engine, owned objects left out, a progress line only on a terminal', async (t) => {
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-1', owned('Deployment', 'web')), spec: { template: { spec: SERVING } } };
  const { get } = fakeApi({
    '/apis/apps/v1/namespaces/shop/deployments': [deployment('web'), deployment('api')],
    '/apis/apps/v1/namespaces/shop/replicasets': [rs],
    '/api/v1/namespaces/shop/services': [
      { metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
    ],
    '/api/v1/nodes': [{ metadata: { name: 'n' }, status: { nodeInfo: { kubeletVersion: 'v1.30.0' } } }],
  });
  const args = { kubeconfig: undefined, context: undefined, namespace: undefined, allNamespaces: false };
  const quiet = io(false);
  const report = await auditCluster(args, defaultPolicyConfig(), quiet, { get, kubeConfig: kubeConfig(), pageSize: 1 });
  t.same(
    report.workloads.map((w) => `${w.kind}/${w.name}`),
    ['Deployment/web', 'Deployment/api'],
    "the context's namespace; the ReplicaSet goes through its Deployment",
  );
  t.equal(report.scope, "cluster 'ctx', namespace 'shop', 1 more reported through their controllers");
  t.ok(report.workloads[0]!.findings.some((f) => f.rule === 'readiness-probe-missing' && f.file === null && f.line === null));
  t.equal(quiet.err(), '', 'nothing on a stderr that is not a terminal');

  const tty = io(true);
  await auditCluster(args, defaultPolicyConfig(), tty, { get, kubeConfig: kubeConfig(), pageSize: 1 });
  t.match(tty.err(), '\r\u001b[Kgracekeeper: listing deployments.apps: 1\r\u001b[Kgracekeeper: listing deployments.apps: 2');
  t.match(tty.err(), /\r\u001b\[K$/, 'the progress line is cleared at the end');
});

t.test('loadKubeConfig finds the kubeconfig as kubectl does and names what is wrong', async (t) => {
  const kc = kubeConfig();
  const dir = t.testdir({
    'a.yaml': kc.exportConfig(),
    'b.yaml': kc.exportConfig().replaceAll('ctx', 'second').replaceAll("name: c\n", 'name: c2\n').replaceAll('cluster: c\n', 'cluster: c2\n'),
    home: { '.kube': { config: kc.exportConfig().replaceAll('ctx', 'home-ctx') } },
    empty: {},
  });
  t.equal(loadKubeConfig({ kubeconfig: join(dir, 'a.yaml'), context: undefined }, {}).getCurrentContext(), 'ctx', '--kubeconfig');
  const merged = loadKubeConfig({ kubeconfig: undefined, context: 'second' }, { KUBECONFIG: `${join(dir, 'a.yaml')}:${join(dir, 'b.yaml')}` });
  t.equal(merged.getCurrentContext(), 'second', 'KUBECONFIG files are merged; --context picks one of them');
  t.equal(loadKubeConfig({ kubeconfig: undefined, context: undefined }, {}, join(dir, 'home')).getCurrentContext(), 'home-ctx', '~/.kube/config');
  t.throws(() => loadKubeConfig({ kubeconfig: undefined, context: undefined }, {}, join(dir, 'empty')), {
    message: /^no kubeconfig: give --kubeconfig, set KUBECONFIG, or create .*\.kube\/config/,
  });
  t.throws(() => loadKubeConfig({ kubeconfig: join(dir, 'missing.yaml'), context: undefined }, {}), {
    message: /^cannot load the kubeconfig \(--kubeconfig\): .*missing\.yaml: no such file/,
  });
  t.throws(() => loadKubeConfig({ kubeconfig: join(dir, 'a.yaml'), context: 'prod' }, {}), {
    message: "--context: context 'prod' is not in the kubeconfig (contexts: ctx)",
  });
});

t.test('usage: cluster options need --cluster, -n and -A exclude each other, --cluster takes no files', async (t) => {
  for (const [args, message] of [
    [['audit', '-n', 'shop', 'x.yaml'], '--namespace needs --cluster'],
    [['audit', '--context', 'c', 'x.yaml'], '--context needs --cluster'],
    [['audit', '--cluster', '-n', 'shop', '-A'], '-n/--namespace and -A/--all-namespaces cannot be used together'],
    [['audit', '--cluster', 'x.yaml'], "audit --cluster takes no files (got 'x.yaml')"],
    [['rules', '--output', 'sarif'], "--output must be one of text, json (got 'sarif')"],
    [['audit', '--output', 'pdf', 'x.yaml'], "--output must be one of text, json, sarif, html (got 'pdf')"],
  ] as const) {
    const r = await cli([...args]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, `error: ${message}\n`);
  }
  const unreachable = t.testdir({ 'kc.yaml': kubeConfig().exportConfig() });
  const r = await cli(['audit', '--cluster', '--kubeconfig', join(unreachable, 'kc.yaml')]);
  t.equal(r.code, 2, 'an API server that cannot be reached: exit 2');
  t.match(r.stderr, /^error: cannot list deployments\.apps: .*ECONNREFUSED/);
});

/**
 * `gracekeeper audit --cluster` against a real kube-apiserver (with kube-controller-manager, so Deployments get
 * ReplicaSets and Pods, Jobs get Pods). A namespace with known workloads gives through --cluster exactly the
 * findings of the offline audit of the same objects as the API server holds them, with the kubelet version of the
 * cluster's Node; controllers' ReplicaSets and Pods are reported once, through the controller; lists go in pages;
 * a user without list rights gets an error naming the resource and the verb.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { auditCluster, PVCS, SERVICES, WORKLOAD_RESOURCES } from '../../src/cli/cluster-audit.js';
import { defaultPolicyConfig } from '../../src/config/policy.js';
import { kubeConfigGet } from '../../src/cluster/list-pages.js';
import { startControlPlane } from '../cluster/controlPlane.js';
import type { ControlPlane } from '../cluster/controlPlane.js';
import { waitFor } from '../cluster/processes.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';
import { nodeWithKubelet } from '../cluster/workloads.js';
import { cli } from '../helpers/cli.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const NS = 'audit-shop';
const OTHER = 'audit-other';
const OLD_KUBELET = 'v1.28.15';

// Known workloads: each line of the comment says what the audit must find there.
const MANIFESTS = `
# rwo-volume-shared-by-replicas (deny): one RWO claim, three replicas
apiVersion: apps/v1
kind: Deployment
metadata: {name: uploads, labels: {app: uploads}}
spec:
  replicas: 3
  selector: {matchLabels: {app: uploads}}
  template:
    metadata: {labels: {app: uploads}}
    spec:
      containers:
        - name: api
          image: registry.example/uploads:1.0
          volumeMounts: [{name: data, mountPath: /data}]
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: uploads}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: uploads}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
# proxy-sidecar-no-prestop, app-no-drain-delay, readiness-probe-missing, grace-period-too-short (warn, fixed):
# on a 1.28 kubelet the proxy gets a preStop delay instead of becoming a native sidecar
apiVersion: apps/v1
kind: Deployment
metadata: {name: storefront, labels: {app: storefront}}
spec:
  replicas: 2
  strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}
  selector: {matchLabels: {app: storefront}}
  template:
    metadata: {labels: {app: storefront}}
    spec:
      containers:
        - name: web
          image: registry.example/storefront:2.3
          ports: [{name: http, containerPort: 8080}]
        - name: cloud-sql-proxy
          image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1-alpine
          args: [--port=5432, acme:europe-west1:db]
---
apiVersion: v1
kind: Service
metadata: {name: storefront}
spec:
  selector: {app: storefront}
  ports: [{port: 80, targetPort: http}]
---
# statefulset-service-not-headless (deny)
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: orders-db}
spec:
  replicas: 2
  serviceName: orders-db
  selector: {matchLabels: {app: orders-db}}
  template:
    metadata: {labels: {app: orders-db}}
    spec:
      containers:
        - name: postgres
          image: postgres:16
          env: [{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]
          ports: [{containerPort: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: orders-db}
spec:
  selector: {app: orders-db}
  ports: [{port: 5432}]
---
# job-sidecar-blocks-completion (warn): its Jobs (none yet) would be reported through it
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: registry.example/report:1.0
            - name: cloud-sql-proxy
              image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1
---
# A Job of its own: reported, its Pod is not
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example/migrate:1.0
          env: [{name: DB_PASSWORD, value: s3cr3t}]
---
# A bare Pod: reported itself (plaintext-secret-env)
apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  containers:
    - name: shell
      image: registry.example/tools:1.0
      env: [{name: API_TOKEN, value: abc123}]
`;

const objects = parseAllDocuments(MANIFESTS).map((d) => d.toJS() as KubernetesObject);
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'CronJob', 'Job', 'Pod']);
const created = objects.filter((o) => WORKLOAD_KINDS.has(o.kind!)).map((o) => `${o.kind}/${o.metadata!.name}`);

const cp: ControlPlane = await startControlPlane({ log: (m) => t.comment(m) });
t.teardown(() => cp.stop());
const admin = cp.kubeConfig.makeApiClient(CoreV1Api);
const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
const api = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
const work = mkdtempSync(join(tmpdir(), 'gk-audit-cluster-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

for (const name of [NS, OTHER]) await admin.createNamespace({ body: { metadata: { name } } });
await waitFor(`default ServiceAccount in ${NS}`, async () => admin.readNamespacedServiceAccount({ name: 'default', namespace: NS }).catch(() => undefined), {
  timeoutMs: 60_000,
});
for (const obj of objects) await api.create({ ...obj, metadata: { ...obj.metadata, namespace: NS } });
await api.create({ ...objects[0]!, metadata: { ...objects[0]!.metadata, namespace: OTHER } });
await admin.createNode({ body: nodeWithKubelet('node-old', OLD_KUBELET) });
await admin.patchNodeStatus({ name: 'node-old', body: [{ op: 'add', path: '/status/nodeInfo', value: { kubeletVersion: OLD_KUBELET } }] });

// Controllers at work: ReplicaSets and their Pods, the Job's Pod.
await waitFor(
  'ReplicaSets and Pods of the Deployments and the Job',
  async () => {
    const pods = (await admin.listNamespacedPod({ namespace: NS })).items;
    const owners = new Set(pods.flatMap((p) => p.metadata?.ownerReferences?.map((o) => o.kind) ?? []));
    return owners.has('ReplicaSet') && owners.has('Job') && owners.has('StatefulSet') && pods.length >= 7 ? true : undefined;
  },
  { timeoutMs: 120_000, intervalMs: 500 },
);

/** The objects as the API server holds them (defaults applied, raw JSON), as `kubectl get -o yaml` prints them. */
async function asStored(namespace: string): Promise<string> {
  const get = kubeConfigGet(cp.kubeConfig, 10_000);
  const items = [];
  for (const obj of objects) {
    const res = [...WORKLOAD_RESOURCES, SERVICES, PVCS].find((r) => r.kind === obj.kind)!;
    const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
    const answer = await get(`${base}/namespaces/${namespace}/${res.resource}/${obj.metadata!.name}`);
    if (answer.status !== 200) throw new Error(`GET ${obj.kind} ${obj.metadata!.name}: ${answer.status} ${answer.body}`);
    items.push(JSON.parse(answer.body) as unknown);
  }
  return stringify({ apiVersion: 'v1', kind: 'List', items });
}

interface JsonFinding {
  rule: string;
  action: string;
  kind: string;
  namespace: string;
  name: string;
  container: string | null;
  message: string;
  path: string;
  fixable: boolean;
  file: string | null;
  line: number | null;
}
const comparable = (findings: JsonFinding[]) =>
  findings.map(({ file: _f, line: _l, ...rest }) => JSON.stringify(rest)).sort();
/** Messages say where the kubelet version came from: the cluster's Node, or the config offline. */
const LIVE_SOURCE = 'nodes: lowest kubelet of 1 node (node-old)';
const OFFLINE_SOURCE = 'config kubernetesVersion';

const kubeconfigFile = cp.kubeconfigPath;
const policy = (version?: string) => {
  const file = join(work, `policy-${version ?? 'default'}.yaml`);
  writeFileSync(file, version ? `policy:\n  kubernetesVersion: "${version}"\n` : 'policy: {}\n');
  return file;
};

t.test('--cluster finds what the offline audit finds on the same objects, with the cluster kubelet version', async (t) => {
  const live = await cli(['audit', '--cluster', '--kubeconfig', kubeconfigFile, '-n', NS, '--output', 'json']);
  t.equal(live.code, 1, `exit 1: deny findings (stderr: ${live.stderr})`);
  const liveReport = JSON.parse(live.stdout) as { findings: JsonFinding[]; summary: { workloads: number; deny: number } };

  const dump = join(work, 'stored.yaml');
  writeFileSync(dump, await asStored(NS));
  const offline = await cli(['audit', '--output', 'json', '-c', policy('1.28'), dump]);
  t.equal(offline.code, live.code, 'same exit code offline');
  const offlineReport = JSON.parse(offline.stdout) as { findings: JsonFinding[] };

  t.ok(
    liveReport.findings.some((f) => f.message.includes(`kubelet 1.28 (${LIVE_SOURCE})`)),
    'messages name the Node the kubelet version came from',
  );
  const asOffline = liveReport.findings.map((f) => ({ ...f, message: f.message.replaceAll(LIVE_SOURCE, OFFLINE_SOURCE) }));
  t.same(comparable(asOffline), comparable(offlineReport.findings), 'the same findings, field for field (but for where the version came from)');
  t.ok(liveReport.findings.every((f) => f.file === null && f.line === null), 'no file or line for cluster objects');
  const rules = new Set(liveReport.findings.map((f) => `${f.kind}/${f.name}:${f.rule}:${f.action}`));
  for (const expected of [
    'Deployment/uploads:rwo-volume-shared-by-replicas:deny',
    'StatefulSet/orders-db:statefulset-service-not-headless:deny',
    'Deployment/storefront:proxy-sidecar-no-prestop:warn',
    'Deployment/storefront:app-no-drain-delay:warn',
    'CronJob/nightly:job-sidecar-blocks-completion:warn',
    'Job/migrate:plaintext-secret-env:warn',
    'Pod/debug:plaintext-secret-env:warn',
  ]) {
    t.ok(rules.has(expected), `found ${expected}`);
  }
  t.equal(liveReport.summary.workloads, created.length, `one entry per workload created (${created.join(', ')}), none for their ReplicaSets and Pods`);

  // The Node's kubelet (1.28: no native sidecars) made the difference: the audit that assumes 1.37 says otherwise.
  const assumed = JSON.parse((await cli(['audit', '--output', 'json', '-c', policy('1.37'), dump])).stdout) as { findings: JsonFinding[] };
  t.notSame(comparable(assumed.findings), comparable(liveReport.findings), 'with the default version the findings differ (the Node told)');
});

t.test('text output names the cluster and namespace; -A audits every namespace', async (t) => {
  const text = await cli(['audit', '--cluster', '--kubeconfig', kubeconfigFile, '-n', NS]);
  t.comment(`audit --cluster -n ${NS}:\n${text.stdout}`);
  t.equal(text.code, 1);
  t.match(text.stdout, /^Deployment audit-shop\/uploads$/m, 'workload heading without a file');
  t.match(text.stdout, /^ {8}at \/spec\/template\/spec\/volumes\/0\/persistentVolumeClaim\/claimName$/m, 'the field');
  t.match(
    text.stdout,
    new RegExp(`in \\d+ of ${created.length} workloads in cluster '[^']+', namespace 'audit-shop', \\d+ more reported through their controllers\\.\\n$`),
  );
  t.equal(text.stderr, '', 'no progress line when stderr is not a terminal');

  const all = JSON.parse((await cli(['audit', '--cluster', '--kubeconfig', kubeconfigFile, '-A', '--output', 'json'])).stdout) as {
    findings: JsonFinding[];
  };
  t.ok(all.findings.some((f) => f.namespace === OTHER && f.name === 'uploads'), 'the other namespace too');
  t.notOk(all.findings.some((f) => f.kind === 'ReplicaSet' || (f.kind === 'Pod' && f.name !== 'debug')), 'no controller-owned ReplicaSet or Pod');
});

t.test('lists go in pages (limit/continue) and give the same report in pages of 2', async (t) => {
  const paths: string[] = [];
  const get = kubeConfigGet(cp.kubeConfig, 10_000);
  const counting = (path: string) => {
    paths.push(path);
    return get(path);
  };
  const io = { readStdin: async () => '', stdout: { write: () => true }, stderr: { write: () => true }, colour: false };
  const args = { kubeconfig: undefined, context: undefined, namespace: NS, allNamespaces: false };
  const small = await auditCluster(args, defaultPolicyConfig(), io, { get: counting, pageSize: 2, kubeConfig: cp.kubeConfig });
  const whole = await auditCluster(args, defaultPolicyConfig(), io, { kubeConfig: cp.kubeConfig });
  t.ok(paths.some((p) => p.startsWith(`/api/v1/namespaces/${NS}/pods?`) && p.includes('continue=')), 'Pods were read in several pages');
  t.ok(paths.every((p) => p === '/version' || p.includes('limit=2')), 'every list asked for 2 at a time');
  const strip = (r: typeof small) => r.workloads.map((w) => ({ ...w, fix: undefined }));
  t.same(strip(small), strip(whole), 'the same workloads and findings');
});

/** A kubeconfig file for a new ServiceAccount in NS, with its token; optionally bound to `rules` in NS. */
async function serviceAccountKubeconfig(name: string, rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>): Promise<string> {
  await admin.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } });
  if (rules) {
    await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name }, rules } });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: NS }] },
    });
  }
  const tr = await admin.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'e2e', server: cp.server, caData: Buffer.from(cp.ca.certPem).toString('base64') }],
    users: [{ name, token: tr.status!.token! }],
    contexts: [{ name: `as-${name}`, cluster: 'e2e', user: name, namespace: NS }],
    currentContext: `as-${name}`,
  });
  const file = join(work, `${name}.kubeconfig`);
  writeFileSync(file, kc.exportConfig());
  return file;
}

t.test('a user without list rights gets an error naming the resource and the verb', async (t) => {
  const file = await serviceAccountKubeconfig('nobody');
  const r = await cli(['audit', '--cluster', '--kubeconfig', file]);
  t.comment(`as a ServiceAccount without rights: ${r.stderr}`);
  t.equal(r.code, 2, 'exit 2, as for an input error');
  t.equal(r.stdout, '', 'no report');
  t.match(
    r.stderr,
    /^error: forbidden: cannot list deployments\.apps in namespace 'audit-shop': RBAC must allow verb 'list' on resource 'deployments\.apps' \(API server: .*system:serviceaccount:audit-shop:nobody.*\)\n$/,
  );
  const everywhere = await cli(['audit', '--cluster', '--kubeconfig', file, '-A']);
  t.match(everywhere.stderr, /cannot list deployments\.apps in all namespaces \(cluster scope\)/);
});

t.test('a user who may list the namespace but not Nodes is audited, with a warning', async (t) => {
  const all = ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'replicationcontrollers', 'jobs', 'cronjobs', 'pods', 'services', 'persistentvolumeclaims'];
  const file = await serviceAccountKubeconfig('reader', [{ apiGroups: ['', 'apps', 'batch'], resources: all, verbs: ['list'] }]);
  const r = await cli(['audit', '--cluster', '--kubeconfig', file, '--output', 'json']);
  t.equal(r.code, 1, 'audited (deny findings); the context namespace was used');
  t.match(r.stderr, /^warning: forbidden: cannot list nodes at the cluster scope: RBAC must allow verb 'list' on resource 'nodes'/m);
  t.match(r.stderr, /^warning: kubelet version assumed 1\.\d+ \(/m);
  const report = JSON.parse(r.stdout) as { findings: JsonFinding[] };
  t.ok(report.findings.every((f) => f.namespace === NS));
});

t.test('--context picks a context of the kubeconfig; an unknown one is named', async (t) => {
  const r = await cli(['audit', '--cluster', '--kubeconfig', kubeconfigFile, '--context', 'nope', '-n', NS]);
  t.equal(r.code, 2);
  t.match(r.stderr, /^error: --context: context 'nope' is not in the kubeconfig \(contexts: /);
  const ok = await cli(['audit', '--cluster', '--kubeconfig', kubeconfigFile, '--context', cp.kubeConfig.getCurrentContext(), '-n', NS]);
  t.equal(ok.code, 1);
});

/**
 * AdmissionReviews as the API server sends them: defaults filled in (grace period 30, imagePullPolicy,
 * termination message fields, probe defaults, the service-account volume and mounts, tolerations) and
 * managedFields, which make up a good share of real request bodies.
 */
import { randomUUID } from 'node:crypto';

type Json = Record<string, unknown>;

export interface Payload {
  /** Short id used in the report, e.g. `typical-pod`. */
  id: string;
  description: string;
  review: Json;
  body: Buffer;
  uid: string;
  containers: number;
}

const NAMESPACE = 'shop';
const SA_VOLUME = 'kube-api-access-7vq2k';
const CREATED = '2025-06-02T09:14:07Z';

const probeDefaults = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
const containerDefaults = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  imagePullPolicy: 'IfNotPresent',
};
const saMount = { name: SA_VOLUME, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };

function serviceAccountVolume(): Json {
  return {
    name: SA_VOLUME,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
      defaultMode: 420,
    },
  };
}

/** What defaulting fills in on any pod spec, a controller's template included. */
function templateSpecDefaults(): Json {
  return { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {}, schedulerName: 'default-scheduler' };
}

/** ...and what Pod creation adds (service account, toleration-seconds and priority admission plugins). */
function podSpecDefaults(): Json {
  return {
    ...templateSpecDefaults(),
    serviceAccountName: 'default',
    serviceAccount: 'default',
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
  };
}

/** A serving app container: port, env, resources, readiness probe. `env` sets how many variables it carries. */
function appContainer(name: string, env: number): Json {
  return {
    name,
    image: `ghcr.io/example/${name}:1.8.2`,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: Array.from({ length: env }, (_, i) => ({ name: `SETTING_${i}`, value: `value-${i}-${name}` })),
    resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
    volumeMounts: [saMount],
    readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, ...probeDefaults },
    ...containerDefaults,
  };
}

/** cloud-sql-proxy v2 as the usual manifest has it (distroless image: no shell, no sleep). */
function proxyContainer(): Json {
  return {
    name: 'cloud-sql-proxy',
    image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1',
    args: ['--structured-logs', '--port=5432', '--http-address=0.0.0.0', '--health-check', 'example-project:europe-west1:shop-db'],
    env: [{ name: 'CSQL_PROXY_MAX_CONNECTIONS', value: '100' }],
    resources: { requests: { cpu: '100m', memory: '64Mi' } },
    volumeMounts: [saMount],
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
    ...containerDefaults,
  };
}

/** managedFields entry of the controller that wrote these containers (one field set per container). */
function managedFields(manager: string, containers: Json[], prefix: Json): Json[] {
  const containerFields: Json = {};
  for (const c of containers) {
    const env: Json = {};
    for (const e of (c.env as Json[] | undefined) ?? []) env[`k:{"name":"${String(e.name)}"}`] = { '.': {}, 'f:name': {}, 'f:value': {} };
    containerFields[`k:{"name":"${String(c.name)}"}`] = {
      '.': {},
      'f:env': { '.': {}, ...env },
      'f:image': {},
      'f:imagePullPolicy': {},
      'f:name': {},
      'f:resources': {},
      'f:terminationMessagePath': {},
      'f:terminationMessagePolicy': {},
    };
  }
  return [
    {
      manager,
      operation: 'Update',
      apiVersion: 'v1',
      time: CREATED,
      fieldsType: 'FieldsV1',
      fieldsV1: { ...prefix, 'f:spec': { 'f:containers': containerFields, 'f:restartPolicy': {}, 'f:terminationGracePeriodSeconds': {} } },
    },
  ];
}

function podObject(containers: Json[], owner: boolean): Json {
  const metadata: Json = owner
    ? {
        generateName: 'web-7c9d5b8f6d-',
        namespace: NAMESPACE,
        creationTimestamp: null,
        labels: { app: 'web', 'pod-template-hash': '7c9d5b8f6d' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7c9d5b8f6d', uid: randomUUID(), controller: true, blockOwnerDeletion: true },
        ],
        managedFields: managedFields('kube-controller-manager', containers, { 'f:metadata': { 'f:generateName': {}, 'f:labels': {}, 'f:ownerReferences': {} } }),
      }
    : { name: 'worker', namespace: NAMESPACE, creationTimestamp: null, labels: { app: 'worker' } };
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata,
    spec: { volumes: [serviceAccountVolume()], containers, ...podSpecDefaults() },
    status: {},
  };
}

const GVK = {
  Pod: { kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' } },
  Deployment: { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } },
} as const;

function review(kindName: keyof typeof GVK, operation: 'CREATE' | 'UPDATE', object: Json, oldObject?: Json, name = ''): { review: Json; uid: string } {
  const uid = randomUUID();
  const gvk = GVK[kindName];
  const user =
    kindName === 'Pod'
      ? { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] }
      : { username: 'deployer@example.com', groups: ['system:authenticated'] };
  const request: Json = {
    uid,
    kind: gvk.kind,
    resource: gvk.resource,
    requestKind: gvk.kind,
    requestResource: gvk.resource,
    ...(name ? { name } : {}),
    namespace: NAMESPACE,
    operation,
    userInfo: { ...user, uid: randomUUID() },
    object,
    oldObject: oldObject ?? null,
    dryRun: false,
    options: { kind: operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' },
  };
  return { review: { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request }, uid };
}

function payload(id: string, description: string, made: { review: Json; uid: string }, containers: number): Payload {
  return { id, description, ...made, body: Buffer.from(JSON.stringify(made.review)), containers };
}

/** A Pod with `count` app containers of ~3.5 KB each (with their managedFields), created by a ReplicaSet. */
export function podWithContainers(count: number): Payload {
  const containers = Array.from({ length: count }, (_, i) => appContainer(`app-${i}`, 24));
  return payload(`pod-${count}c`, `ReplicaSet Pod, ${count} app container(s)`, review('Pod', 'CREATE', podObject(containers, true)), count);
}

function deployment(image: string, replicas: number, generation: number): Json {
  const containers = [{ ...appContainer('web', 8), image }, proxyContainer()];
  const volumes = [{ name: 'config', configMap: { name: 'web-config', defaultMode: 420 } }];
  const template = { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { volumes, containers, ...templateSpecDefaults() } };
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      name: 'web',
      namespace: NAMESPACE,
      uid: 'b3c1f0e2-7a4d-4e8b-9f6a-5d2c1e0b9a87',
      resourceVersion: String(48_213 + generation),
      generation,
      creationTimestamp: CREATED,
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': String(generation) },
      managedFields: managedFields('kubectl-client-side-apply', containers, { 'f:metadata': { 'f:labels': {} } }),
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: { observedGeneration: generation - 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
  };
}

/** The four payloads of the main table. */
export function mainCorpus(): Payload[] {
  const small = review('Pod', 'CREATE', podObject([appContainer('worker', 1)], false));
  const typical = review('Pod', 'CREATE', podObject([appContainer('web', 8), proxyContainer()], true));
  const update = review('Deployment', 'UPDATE', deployment('ghcr.io/example/web:1.9.0', 3, 8), deployment('ghcr.io/example/web:1.8.2', 3, 7), 'web');
  return [
    payload('small-pod', 'bare Pod, one container', small, 1),
    payload('typical-pod', 'ReplicaSet Pod: app + cloud-sql-proxy', typical, 2),
    { ...podWithContainers(43), id: 'large-pod', description: 'ReplicaSet Pod, 43 app containers' },
    payload('deployment-update', 'Deployment UPDATE (object + oldObject), app + proxy', update, 2),
  ];
}

/** Container counts of the scaling line. */
export const SCALING_CONTAINERS = [1, 10, 40, 100] as const;

/**
 * The workloads of the cluster-scan benchmark (bench/cluster-scan.ts): a mix as a cluster of thousands of
 * workloads has it, spread evenly over namespaces. Per 20 workloads: 14 Deployments, 2 StatefulSets, 1 DaemonSet,
 * 2 CronJobs, 1 Job; every Deployment and StatefulSet has a Service, some Deployments a ReadWriteOnce PVC. Most are
 * built right (the Deployment of test/helpers/report-workloads.ts: probe, preStop delay, grace period, a rollout
 * that keeps a pod); a known share carries one problem each, so the reader can see the scans did their work.
 */
import type { KubernetesObject, V1Container, V1CronJob, V1DaemonSet, V1Deployment, V1Job, V1PersistentVolumeClaim, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { reportDeployment } from '../test/helpers/report-workloads.js';

/** One workload and the objects it needs, with the rule it is built to break (none: built right). */
export interface PlannedWorkload {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Job';
  namespace: string;
  name: string;
  /** The rule it is built to break, and its default action; undefined when it is built right. */
  breaks?: { rule: string; action: 'deny' | 'warn' };
  /** Pods its controller makes on this control plane (no scheduler, no kubelet: none become ready). */
  pods: number;
  /** The workload first, then its Service and PVC. */
  objects: KubernetesObject[];
}

const SLOT_KINDS: ReadonlyArray<PlannedWorkload['kind']> = [
  ...Array<'Deployment'>(14).fill('Deployment'),
  'StatefulSet',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
  'CronJob',
  'Job',
];

const PROXY: V1Container = {
  name: 'cloud-sql-proxy',
  image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1',
  args: ['--port=5432', 'shop-project:europe-west1:shop-db'],
};

/** A container that neither serves nor has secrets: nothing for the rules to say. */
const worker = (name: string, env?: V1Container['env']): V1Container => ({ name, image: 'registry.example/worker:1.0', ...(env ? { env } : {}) });

const PLAINTEXT_TOKEN = [{ name: 'API_TOKEN', value: 'x7Kq9vT2mWp4' }];

function service(name: string, labels: Record<string, string>, port: number, headless = false): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ...(headless ? { clusterIP: 'None' } : {}), selector: labels, ports: [{ port, targetPort: port }] },
  };
}

function deployment(name: string, variant: number): PlannedWorkload & { objects: KubernetesObject[] } {
  const labels = { app: name };
  const base = (opts: { dropsAllPods?: boolean; probe?: boolean } = {}): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    ...reportDeployment(name, { ...opts, labels }),
  });
  const svc = service(name, labels, 8080);
  const plan = (d: V1Deployment, breaks: PlannedWorkload['breaks'], extra: KubernetesObject[] = []) => ({
    kind: 'Deployment' as const,
    namespace: '',
    name,
    breaks,
    pods: d.spec?.replicas ?? 1,
    objects: [d, svc, ...extra],
  });
  switch (variant % 20) {
    case 0:
    case 10:
      return plan(base({ dropsAllPods: true }), { rule: 'rollout-drops-all-pods', action: 'deny' });
    case 1:
    case 11:
      return plan(base({ probe: false }), { rule: 'readiness-probe-missing', action: 'warn' });
    case 2:
    case 12: {
      const d = base();
      d.spec!.template.spec!.containers.push(PROXY);
      return plan(d, { rule: 'proxy-sidecar-no-prestop', action: 'warn' });
    }
    case 3: {
      // Two replicas on one ReadWriteOnce claim.
      const d = base();
      d.spec!.replicas = 2;
      d.spec!.template.spec!.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: name } }];
      d.spec!.template.spec!.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/data' }];
      const pvc: V1PersistentVolumeClaim = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      };
      return plan(d, { rule: 'rwo-volume-shared-by-replicas', action: 'deny' }, [pvc]);
    }
    default:
      return plan(base(), undefined);
  }
}

function statefulSet(name: string, variant: number): PlannedWorkload {
  const labels = { app: name };
  const clusterIp = variant % 5 === 0;
  const sts: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: 2,
      serviceName: name,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 35,
          containers: [
            {
              name: 'queue',
              image: 'registry.example/queue:1.0',
              ports: [{ containerPort: 9000 }],
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              readinessProbe: { tcpSocket: { port: 9000 } },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
  return {
    kind: 'StatefulSet',
    namespace: '',
    name,
    breaks: clusterIp ? { rule: 'statefulset-service-not-headless', action: 'deny' } : undefined,
    // OrderedReady: pod-1 waits for pod-0 to be ready, which it never is here.
    pods: 1,
    objects: [sts, service(name, labels, 9000, !clusterIp)],
  };
}

function daemonSet(name: string, variant: number): PlannedWorkload {
  const labels = { app: name };
  const secret = variant % 2 === 0;
  const ds: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [worker('agent', secret ? PLAINTEXT_TOKEN : undefined)] } } },
  };
  // No daemonset controller and no Nodes: no pods.
  return { kind: 'DaemonSet', namespace: '', name, breaks: secret ? { rule: 'plaintext-secret-env', action: 'warn' } : undefined, pods: 0, objects: [ds] };
}

function cronJob(name: string, variant: number): PlannedWorkload {
  const proxy = variant % 2 === 0;
  const cj: V1CronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      // Never due while the benchmark runs (the 31st of February).
      schedule: '0 3 31 2 *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [worker('report'), ...(proxy ? [PROXY] : [])] } } } },
    },
  };
  return { kind: 'CronJob', namespace: '', name, breaks: proxy ? { rule: 'job-sidecar-blocks-completion', action: 'warn' } : undefined, pods: 0, objects: [cj] };
}

function job(name: string, variant: number): PlannedWorkload {
  const secret = variant % 2 === 0;
  const j: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [worker('migrate', secret ? PLAINTEXT_TOKEN : undefined)] } } },
  };
  return { kind: 'Job', namespace: '', name, breaks: secret ? { rule: 'plaintext-secret-env', action: 'warn' } : undefined, pods: 1, objects: [j] };
}

const BUILD = { Deployment: deployment, StatefulSet: statefulSet, DaemonSet: daemonSet, CronJob: cronJob, Job: job } as const;

/** `total` workloads over `namespaces` namespaces named `<prefix>-NN`, as evenly as the count allows. */
export function planWorkloads(total: number, namespaces: readonly string[]): PlannedWorkload[] {
  const planned: PlannedWorkload[] = [];
  namespaces.forEach((namespace, n) => {
    const count = Math.floor(total / namespaces.length) + (n < total % namespaces.length ? 1 : 0);
    const perKind = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const kind = SLOT_KINDS[i % SLOT_KINDS.length]!;
      const variant = perKind.get(kind) ?? 0;
      perKind.set(kind, variant + 1);
      const w = BUILD[kind](`${kind.toLowerCase()}-${String(variant).padStart(3, '0')}`, variant);
      w.namespace = namespace;
      for (const o of w.objects) o.metadata = { ...o.metadata, namespace };
      planned.push(w);
    }
  });
  return planned;
}

/** Counts of the plan: by kind, the objects to create, the pods the controllers make, the workloads built to break a rule. */
export function describePlan(planned: readonly PlannedWorkload[]): {
  byKind: Record<string, number>;
  objects: Record<string, number>;
  pods: number;
  broken: { deny: number; warn: number; byRule: Record<string, number> };
} {
  const byKind: Record<string, number> = {};
  const objects: Record<string, number> = {};
  const byRule: Record<string, number> = {};
  let pods = 0;
  let deny = 0;
  let warn = 0;
  for (const w of planned) {
    byKind[w.kind] = (byKind[w.kind] ?? 0) + 1;
    for (const o of w.objects) objects[o.kind!] = (objects[o.kind!] ?? 0) + 1;
    pods += w.pods;
    if (w.breaks) {
      byRule[w.breaks.rule] = (byRule[w.breaks.rule] ?? 0) + 1;
      if (w.breaks.action === 'deny') deny++;
      else warn++;
    }
  }
  return { byKind, objects, pods, broken: { deny, warn, byRule } };
}

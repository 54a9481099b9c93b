import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  apiServerVersion,
  kubeConfigGet,
  listAll,
  qualifiedName,
  type ApiGet,
  type ListedResource,
  type ListScope,
} from '../cluster/list-pages.js';
import { SnapshotClusterView } from '../cluster/snapshot.js';
import type { Environment } from '../config/env.js';
import type { PolicyConfig } from '../config/policy.js';
import { evaluate } from '../engine/evaluate.js';
import type { KubeObject, RuleContext } from '../engine/types.js';
import { isObject } from '../engine/workload.js';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { RULES } from '../rules/index.js';
import type { ClusterArgs } from './args.js';
import { auditedWorkload, type AuditReport } from './audit.js';
import type { CliIO } from './io.js';

const r = (resource: string, group: string, version: string, kind: string, namespaced = true): ListedResource => ({
  resource,
  group,
  version,
  kind,
  namespaced,
});

/** Workload kinds in report order: controllers first, then what they may own, Pods last. */
export const WORKLOAD_RESOURCES: readonly ListedResource[] = [
  r('deployments', 'apps', 'v1', 'Deployment'),
  r('statefulsets', 'apps', 'v1', 'StatefulSet'),
  r('daemonsets', 'apps', 'v1', 'DaemonSet'),
  r('cronjobs', 'batch', 'v1', 'CronJob'),
  r('replicationcontrollers', '', 'v1', 'ReplicationController'),
  r('replicasets', 'apps', 'v1', 'ReplicaSet'),
  r('jobs', 'batch', 'v1', 'Job'),
  r('pods', '', 'v1', 'Pod'),
];
export const SERVICES = r('services', '', 'v1', 'Service');
export const PVCS = r('persistentvolumeclaims', '', 'v1', 'PersistentVolumeClaim');
export const NODES = r('nodes', '', 'v1', 'Node', false);

/** Kinds reported through their owner when that owner was listed too. */
const OWNED_KINDS = new Set(['Pod', 'ReplicaSet', 'Job']);

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The kubeconfig as kubectl finds it: --kubeconfig, else the files in KUBECONFIG (merged, the first one's
 * current context wins), else ~/.kube/config, else the in-cluster service account. --context picks another
 * context of it.
 */
export function loadKubeConfig(args: Pick<ClusterArgs, 'kubeconfig' | 'context'>, env: Environment, home = homedir()): KubeConfig {
  const kc = new KubeConfig();
  const files = args.kubeconfig !== undefined ? [args.kubeconfig] : (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const fallback = join(home, '.kube', 'config');
  const from = files.length > 0 ? files : existsSync(fallback) ? [fallback] : [];
  const source = args.kubeconfig !== undefined ? '--kubeconfig' : files.length > 0 ? 'KUBECONFIG' : fallback;
  try {
    if (from.length > 0) {
      kc.loadFromFile(from[0]!);
      // kubectl's merge: the first file to name a cluster, user or context wins; the first current-context too.
      for (const file of from.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        const add = <T extends { name: string }>(have: readonly T[], extra: readonly T[]) => [
          ...have,
          ...extra.filter((x) => !have.some((h) => h.name === x.name)),
        ];
        kc.loadFromOptions({
          clusters: add(kc.getClusters(), more.getClusters()),
          users: add(kc.getUsers(), more.getUsers()),
          contexts: add(kc.getContexts(), more.getContexts()),
          currentContext: kc.getCurrentContext() || more.getCurrentContext(),
        });
      }
    } else if (env.KUBERNETES_SERVICE_HOST !== undefined) {
      kc.loadFromCluster();
    } else {
      throw new GracekeeperError(
        ErrorCode.ClusterUnavailable,
        `no kubeconfig: give --kubeconfig, set KUBECONFIG, or create ${fallback} (as kubectl reads them)`,
      );
    }
  } catch (e) {
    if (e instanceof GracekeeperError) throw e;
    const file = from.find((f) => !existsSync(f));
    const reason = file ? `${file}: no such file` : (e as Error).message.split('\n')[0];
    throw new GracekeeperError(ErrorCode.ClusterUnavailable, `cannot load the kubeconfig (${source}): ${reason}`);
  }
  if (args.context !== undefined) {
    if (!kc.getContextObject(args.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new GracekeeperError(
        ErrorCode.ClusterUnavailable,
        `context '${args.context}' is not in the kubeconfig (${known.length ? `contexts: ${known.join(', ')}` : 'it has no contexts'})`,
        '--context',
      );
    }
    kc.setCurrentContext(args.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new GracekeeperError(ErrorCode.ClusterUnavailable, `kubeconfig context '${kc.getCurrentContext()}' names no cluster`);
  }
  return kc;
}

const uidOf = (obj: KubeObject): string | undefined => {
  const uid = isObject(obj.metadata) ? obj.metadata.uid : undefined;
  return typeof uid === 'string' ? uid : undefined;
};

function ownerUids(obj: KubeObject): string[] {
  const refs = isObject(obj.metadata) ? obj.metadata.ownerReferences : undefined;
  if (!Array.isArray(refs)) return [];
  return refs.flatMap((ref) => (isObject(ref) && typeof ref.uid === 'string' ? [ref.uid] : []));
}

/**
 * The workloads to evaluate: controllers' Pods, ReplicaSets and Jobs are left out when their owner was listed
 * (it is reported once, through the owner: a Deployment's template, not each of its Pods).
 */
export function reportable(workloads: readonly KubeObject[]): { report: KubeObject[]; throughOwner: number } {
  const listed = new Set(workloads.filter((w) => w.kind !== 'Pod').flatMap((w) => uidOf(w) ?? []));
  const report: KubeObject[] = [];
  let throughOwner = 0;
  for (const w of workloads) {
    if (OWNED_KINDS.has(String(w.kind)) && ownerUids(w).some((uid) => listed.has(uid))) throughOwner++;
    else report.push(w);
  }
  return { report, throughOwner };
}

/** A progress line on standard error, rewritten in place; only when it is a terminal. */
function progress(io: CliIO): { show(text: string): void; done(): void } {
  if (!io.stderrIsTerminal) return { show: () => {}, done: () => {} };
  let shown = false;
  return {
    show: (text) => {
      io.stderr.write(`\r\u001b[K${text}`);
      shown = true;
    },
    done: () => {
      if (shown) io.stderr.write('\r\u001b[K');
    },
  };
}

export interface ClusterAuditDeps {
  /** The API client; default: GETs with the kubeconfig found as kubectl finds it. */
  get?: ApiGet;
  /** Items per list page (the API's limit). Default 500, as kubectl. */
  pageSize?: number;
  /** Kubeconfig used for the scope's default namespace and name; loaded when not given. */
  kubeConfig?: KubeConfig;
}

/**
 * `gracekeeper audit --cluster`: lists workloads, Services, PVCs and Nodes in pages, builds the view the
 * webhook's live view would have, and runs the same engine on every workload not owned by a listed controller.
 * A refused list (RBAC) or an unreachable API server throws GracekeeperError naming the resource and verb.
 */
export async function auditCluster(args: ClusterArgs, config: PolicyConfig, io: CliIO, deps: ClusterAuditDeps = {}): Promise<AuditReport> {
  const kc = deps.kubeConfig ?? loadKubeConfig(args, io.env ?? {});
  const get = deps.get ?? kubeConfigGet(kc, REQUEST_TIMEOUT_MS);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = args.allNamespaces ? undefined : (args.namespace ?? (contextNamespace || 'default'));
  const scope: ListScope = namespace === undefined ? { allNamespaces: true } : { namespace };
  const show = progress(io);
  const list = (res: ListedResource) =>
    listAll(get, res, scope, { limit: deps.pageSize, onPage: (n) => show.show(`gracekeeper: listing ${qualifiedName(res)}: ${n}`) });

  let workloads: KubeObject[];
  let services: KubeObject[];
  let pvcs: KubeObject[];
  let nodes: KubeObject[] | undefined;
  let apiServer: string | undefined;
  try {
    workloads = [];
    for (const res of WORKLOAD_RESOURCES) workloads.push(...(await list(res)));
    services = await list(SERVICES);
    pvcs = await list(PVCS);
    try {
      nodes = await list(NODES);
    } catch (e) {
      // A user limited to a namespace may not read Nodes: audit with the API server's version instead, and say so.
      if (!(e instanceof GracekeeperError && e.code === ErrorCode.ClusterForbidden)) throw e;
      nodes = undefined;
      show.done();
      io.stderr.write(`warning: ${e.message}; kubelet versions unknown\n`);
    }
    apiServer = await apiServerVersion(get);
  } finally {
    show.done();
  }

  const view = new SnapshotClusterView({
    services,
    pvcs,
    nodes,
    apiServer,
    fallbackKubernetesVersion: config.kubernetesVersion,
    namespaces: namespace === undefined ? undefined : new Set([namespace]),
  });
  if (!nodes) io.stderr.write(`warning: kubelet version assumed ${view.versions().minKubelet} (${view.versions().source})\n`);
  const ctx: RuleContext = { config, cluster: view };
  const { report: toAudit, throughOwner } = reportable(workloads);
  const where = namespace === undefined ? 'all namespaces' : `namespace '${namespace}'`;
  const owned = throughOwner > 0 ? `, ${throughOwner} more reported through their controllers` : '';
  const report: AuditReport = { workloads: [], files: 0, errors: [], scope: `cluster '${kc.getCurrentContext()}', ${where}${owned}` };
  for (const obj of toAudit) {
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    const label = `${String(obj.kind)} ${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${String(meta.name)}`;
    try {
      const result = evaluate(obj, RULES, ctx, { fix: true });
      if (result) report.workloads.push(auditedWorkload(result, null, null, () => null));
    } catch (e) {
      if (e instanceof GracekeeperError && e.code === ErrorCode.WorkloadUnreadable) {
        report.errors.push(new GracekeeperError(e.code, e.detail, `${label} ${e.where ?? ''}`.trim()));
      } else {
        report.errors.push(new GracekeeperError(ErrorCode.EvaluationFailed, `rules could not evaluate this workload: ${(e as Error).message}`, label));
      }
    }
  }
  return report;
}

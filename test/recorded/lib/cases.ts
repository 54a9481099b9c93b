/**
 * Every admission review whose answer is recorded (test/recorded/answers.test.ts): the fixture reviews, the bench
 * corpus, and reviews made from every workload of the rule, engine and real-world fixtures as the API server would
 * send them (the object on CREATE; for a controller, also a Pod of its template). Each is answered on both
 * endpoints in enforce and audit, with the policies that change what the engine does (kubelet versions).
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DisabledClusterView } from '../../../src/cluster/disabled.js';
import { OfflineClusterView } from '../../../src/cluster/offline.js';
import type { ClusterView } from '../../../src/cluster/view.js';
import { parsePolicyConfig, type PolicyConfig } from '../../../src/config/policy.js';
import type { KubeObject } from '../../../src/engine/types.js';
import { toWorkload, POD_SPEC_POINTER, atPointer, isWorkloadKind } from '../../../src/engine/workload.js';
import { parseManifests } from '../../../src/manifests/parse.js';
import { RULE_IDS } from '../../../src/rules/index.js';
import { mainCorpus, podWithContainers, SCALING_CONTAINERS } from '../../../bench/corpus.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(REPO, 'test', 'fixtures');

export interface RecordedCase {
  /** Unique and stable: where the review came from and how it is answered. */
  key: string;
  endpoint: 'mutate' | 'validate';
  mode: 'enforce' | 'audit';
  review: unknown;
  policy: PolicyConfig;
  cluster: ClusterView;
}

type Json = Record<string, unknown>;

const repoPath = (p: string) => relative(REPO, p).split(sep).join('/');

function policyOf(overrides: unknown): PolicyConfig {
  return parsePolicyConfig(overrides, RULE_IDS);
}

/** Policies every review is answered with: the default (native sidecars, sleep action) and an old kubelet (preStop methods). */
const POLICIES: ReadonlyArray<[string, unknown]> = [
  ['default', {}],
  ['kubelet-1.28', { kubernetesVersion: '1.28' }],
];

function answered(key: string, review: unknown, endpoints: readonly RecordedCase['endpoint'][], policy: PolicyConfig, cluster: ClusterView): RecordedCase[] {
  return endpoints.flatMap((endpoint) =>
    (['enforce', 'audit'] as const).map((mode) => ({ key: `${key} /${endpoint}/${mode}`, endpoint, mode, review, policy, cluster })),
  );
}

const GROUP_VERSION: Record<string, [string, string, string]> = {
  Pod: ['', 'v1', 'pods'],
  Deployment: ['apps', 'v1', 'deployments'],
  ReplicaSet: ['apps', 'v1', 'replicasets'],
  StatefulSet: ['apps', 'v1', 'statefulsets'],
  DaemonSet: ['apps', 'v1', 'daemonsets'],
  ReplicationController: ['', 'v1', 'replicationcontrollers'],
  Job: ['batch', 'v1', 'jobs'],
  CronJob: ['batch', 'v1', 'cronjobs'],
};

/** A CREATE review of `object` as the API server sends it (fixed uid, so answers are comparable). */
export function createReview(object: KubeObject, uid: string, namespace: string): Json {
  const [group, version, resource] = GROUP_VERSION[String(object.kind)]!;
  const kind = { group, version, kind: object.kind };
  const name = (object.metadata as Json | undefined)?.name;
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind,
      resource: { group, version, resource },
      requestKind: kind,
      requestResource: { group, version, resource },
      ...(typeof name === 'string' ? { name } : {}),
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'recorded@example.com', groups: ['system:authenticated'] },
      object: { ...object, metadata: { ...(object.metadata as Json | undefined), namespace } },
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

/** A Pod of a controller's template, as its controller creates it (owned, generateName, template labels). */
export function podOf(controller: KubeObject, namespace: string): KubeObject | undefined {
  const pointer = POD_SPEC_POINTER[controller.kind as keyof typeof POD_SPEC_POINTER];
  const spec = atPointer(controller, pointer);
  if (!spec || typeof spec !== 'object') return undefined;
  const template = (atPointer(controller, `${pointer.slice(0, -'/spec'.length)}/metadata`) ?? {}) as Json;
  const name = String((controller.metadata as Json | undefined)?.name ?? 'unnamed');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...template,
      generateName: `${name}-`,
      namespace,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-5d8f7c9b6d`, uid: '00000000-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

function isDir(p: string): boolean {
  return statSync(p).isDirectory();
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      if (e.startsWith('.')) return [];
      if (isDir(p)) return yamlFiles(p);
      return /\.ya?ml$/.test(e) && !e.endsWith('.expect.yaml') && !/^expected-/.test(e) ? [p] : [];
    });
}

interface FolderCases {
  /** Folder whose files form one offline view (a rule's fixtures, one real-world source). */
  dir: string;
  /** One view per file (rule fixtures: each file is its own cluster) or per folder. */
  viewPerFile: boolean;
  policies: ReadonlyArray<[string, unknown]>;
}

function manifestCases({ dir, viewPerFile, policies }: FolderCases): RecordedCase[] {
  const files = yamlFiles(dir).map((path) => {
    const parsed = parseManifests(readFileSync(path, 'utf8'), repoPath(path));
    return { path, parsed };
  });
  const groups = viewPerFile ? files.map((f) => [f]) : [files];
  const cases: RecordedCase[] = [];
  for (const group of groups) {
    for (const [policyName, baseOverrides] of policies) {
      for (const { path, parsed } of group) {
        const expectFile = path.replace(/\.yaml$/, '.expect.yaml');
        const fixtureConfig = viewPerFile && existsSync(expectFile) ? ((parse(readFileSync(expectFile, 'utf8')) ?? {}) as Json).config : undefined;
        const policy = policyOf({ ...(fixtureConfig as Json | undefined), ...(baseOverrides as Json) });
        const objects = group.flatMap((f) => f.parsed.manifests.map((m) => ({ object: m.object, file: m.file })));
        const view = new OfflineClusterView(objects, policy.kubernetesVersion);
        for (const m of parsed.manifests) {
          if (!isWorkloadKind(m.object.kind)) continue;
          const namespace = String((m.object.metadata as Json | undefined)?.namespace ?? 'default');
          const where = `${m.source}#${m.pointer || '/'} ${String(m.object.kind)} [${policyName}]`;
          const cluster = view.forFile(m.file);
          const uid = `recorded-${cases.length}`;
          const isPod = m.object.kind === 'Pod';
          cases.push(...answered(`${where} create`, createReview(m.object, uid, namespace), isPod ? ['mutate', 'validate'] : ['validate'], policy, cluster));
          let readable = true;
          try {
            readable = toWorkload(m.object) !== null;
          } catch {
            readable = false;
          }
          const pod = !isPod && readable ? podOf(m.object, namespace) : undefined;
          if (pod) cases.push(...answered(`${where} pod`, createReview(pod, `${uid}-pod`, namespace), ['mutate', 'validate'], policy, cluster));
        }
      }
    }
  }
  return cases;
}

function reviewFileCases(): RecordedCase[] {
  const dir = join(FIXTURES, 'reviews');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const review = JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
      return POLICIES.flatMap(([name, overrides]) => {
        const policy = policyOf(overrides);
        return answered(`reviews/${file} [${name}]`, review, ['mutate', 'validate'], policy, new DisabledClusterView(policy.kubernetesVersion));
      });
    });
}

function benchCases(): RecordedCase[] {
  const payloads = [...mainCorpus(), ...SCALING_CONTAINERS.map((n) => podWithContainers(n))];
  return payloads.flatMap((p) => {
    const review = p.review as { request: Json };
    const fixed = { ...review, request: { ...review.request, uid: `bench-${p.id}` } };
    return POLICIES.flatMap(([name, overrides]) => {
      const policy = policyOf(overrides);
      return answered(`bench/${p.id} [${name}]`, fixed, ['mutate', 'validate'], policy, new DisabledClusterView(policy.kubernetesVersion));
    });
  });
}

export function recordedCases(): RecordedCase[] {
  const rules = join(FIXTURES, 'rules');
  const realWorld = join(FIXTURES, 'real-world');
  const ruleDirs = readdirSync(rules).sort().map((d) => join(rules, d)).filter(isDir);
  const realWorldDirs = readdirSync(realWorld)
    .sort()
    .filter((d) => isDir(join(realWorld, d)))
    .flatMap((d) => (d === 'charts' ? readdirSync(join(realWorld, d)).sort().map((c) => join(realWorld, d, c)) : [join(realWorld, d)]))
    .filter(isDir);
  return [
    ...reviewFileCases(),
    ...benchCases(),
    ...ruleDirs.flatMap((dir) => manifestCases({ dir, viewPerFile: true, policies: POLICIES })),
    ...manifestCases({ dir: join(FIXTURES, 'engine'), viewPerFile: true, policies: POLICIES }),
    ...realWorldDirs.flatMap((dir) => manifestCases({ dir, viewPerFile: false, policies: [POLICIES[0]!] })),
  ];
}

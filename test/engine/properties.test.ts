import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import t, { type Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { preStopSeconds } from '../../src/engine/containers.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { gracePeriodSeconds } from '../../src/engine/shutdown.js';
import { WORKLOAD_KINDS, type KubeObject, type WorkloadKind } from '../../src/engine/types.js';
import { toWorkload } from '../../src/engine/workload.js';
import { RULES } from '../../src/rules/index.js';
import { contextFor } from '../helpers/engine.js';

/**
 * Properties of the engine with every rule on, over generated pod specs wrapped in every workload kind:
 * it never throws, its patch applies to the input and gives the fixed object, fixing is idempotent, the fixed
 * pod is one the API server accepts (no sleep longer than the grace period) and a fix never shortens the
 * grace period.
 */

const IMAGES = [
  'example/shop-web:1.4.2',
  'nginx:1.27-alpine',
  'gcr.io/distroless/java21:nonroot',
  'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1',
  'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1-alpine',
  'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.4',
  'gcr.io/cloud-sql-connectors/cloud-sql-proxy@sha256:0f3c',
  'gcr.io/cloudsql-docker/gce-proxy:1.33.16',
  'envoyproxy/envoy:distroless-v1.31.2',
  'bitnami/pgbouncer:1.23.1',
  'quay.io/oauth2-proxy/oauth2-proxy:v7.7.1-alpine',
];

const seconds = fc.integer({ min: 0, max: 90 });
const preStop = fc.oneof(
  seconds.map((s) => ({ sleep: { seconds: s } })),
  seconds.map((s) => ({ exec: { command: ['sleep', String(s)] } })),
  seconds.map((s) => ({ exec: { command: ['/bin/sh', '-c', `sleep ${s}`] } })),
  fc.constant({ httpGet: { path: '/drain', port: 8080 } }),
);
const delay = fc.constantFrom('0s', '30s', '1m', '500ms', 'soon', '');
/** Mostly absent, so that the rules have something to find. */
const mostlyAbsent = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });
const args = mostlyAbsent(fc.oneof(
  delay.map((d) => ['--port=5432', `--min-sigterm-delay=${d}`, 'p:r:i']),
  delay.map((d) => ['--min-sigterm-delay', d, 'p:r:i']),
  fc.constant(['--quitquitquit', 'p:r:i']),
));
const env = mostlyAbsent(fc.oneof(
  delay.map((d) => [{ name: 'CSQL_PROXY_MIN_SIGTERM_DELAY', value: d }]),
  fc.constant([{ name: 'CSQL_PROXY_MIN_SIGTERM_DELAY', valueFrom: { configMapKeyRef: { name: 'proxy', key: 'delay' } } }]),
  fc.constant([{ name: 'DB_HOST', value: '127.0.0.1' }]),
));
const ports = fc.option(
  fc.array(
    fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom(undefined, 'TCP', 'UDP') }),
    { minLength: 1, maxLength: 2 },
  ),
  { nil: undefined },
);

const container = fc.record({
  image: fc.constantFrom(...IMAGES),
  ports,
  args,
  env,
  preStop: mostlyAbsent(preStop),
  readiness: fc.boolean(),
});
type Generated = typeof container extends fc.Arbitrary<infer T> ? T : never;

function toContainer(name: string, g: Generated, restartPolicy?: string) {
  return {
    name,
    image: g.image,
    args: g.args,
    env: g.env,
    ports: g.ports,
    lifecycle: g.preStop ? { preStop: g.preStop } : undefined,
    readinessProbe: g.readiness ? { tcpSocket: { port: 8080 } } : undefined,
    restartPolicy,
  };
}

const podSpec = fc
  .record({
    containers: fc.array(container, { minLength: 1, maxLength: 4 }),
    sidecars: fc.array(container, { maxLength: 2 }),
    inits: fc.array(fc.constantFrom('example/migrate:1.0', 'busybox:1.36'), { maxLength: 2 }),
    sidecarsFirst: fc.boolean(),
    grace: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
    restartPolicy: fc.constantFrom(undefined, 'Always', 'Never', 'OnFailure'),
  })
  .map((g) => {
    const sidecars = g.sidecars.map((s, i) => toContainer(`sidecar-${i}`, s, 'Always'));
    const inits = g.inits.map((image, i) => ({ name: `init-${i}`, image, command: ['true'] }));
    const initContainers = g.sidecarsFirst ? [...sidecars, ...inits] : [...inits, ...sidecars];
    return {
      containers: g.containers.map((c, i) => toContainer(`c-${i}`, c)),
      initContainers: initContainers.length > 0 ? initContainers : undefined,
      terminationGracePeriodSeconds: g.grace,
      restartPolicy: g.restartPolicy,
    };
  });

function wrap(kind: WorkloadKind, spec: unknown, annotations: Record<string, string> | undefined): KubeObject {
  const metadata = { name: 'subject', namespace: 'props', annotations };
  const template = { metadata: { labels: { app: 'subject' }, annotations }, spec };
  switch (kind) {
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata, spec };
    case 'CronJob':
      return { apiVersion: 'batch/v1', kind, metadata, spec: { schedule: '* * * * *', jobTemplate: { spec: { template } } } };
    case 'Job':
      return { apiVersion: 'batch/v1', kind, metadata, spec: { template } };
    case 'ReplicationController':
      return { apiVersion: 'v1', kind, metadata, spec: { replicas: 2, template } };
    default:
      return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: 2, selector: { matchLabels: { app: 'subject' } }, template } };
  }
}

/** Generated objects as JSON would carry them: no undefined-valued keys. */
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const subject = fc
  .record({
    kind: fc.constantFrom(...WORKLOAD_KINDS),
    spec: podSpec,
    proxyAnnotation: fc.constantFrom(undefined, 'c-0', 'c-1,sidecar-0'),
  })
  .map(({ kind, spec, proxyAnnotation }) =>
    json(wrap(kind, spec, proxyAnnotation ? { 'gracekeeper.io/proxy-containers': proxyAnnotation } : undefined)),
  );

type PolicyOverrides = { proxy: { strategy: string }; kubernetesVersion: string };
const config: fc.Arbitrary<PolicyOverrides> = fc.record({
  proxy: fc.record({ strategy: fc.constantFrom('auto', 'prestop', 'native-sidecar') }),
  kubernetesVersion: fc.constantFrom('1.27', '1.28', '1.29', '1.30', '1.34'),
});

const RUNS = { numRuns: 400 };

/** fast-check throws with the seed and the shrunk counterexample; tap shows it. */
const holds = (t: Test, name: string, property: fc.IProperty<[KubeObject, PolicyOverrides]>) =>
  t.doesNotThrow(() => fc.assert(property, RUNS), name);

t.test('evaluate never throws; its patch applies to the input (validated) and gives the fixed object', async (t) => {
  holds(
    t,
    'patch applies',
    fc.property(subject, config, (obj, cfg) => {
      const result = evaluate(obj, RULES, contextFor([], cfg), { fix: true })!;
      const applied = jsonpatch.applyPatch(structuredClone(obj), result.patch, true, false).newDocument;
      return isDeepStrictEqual(applied, result.fixed ?? obj);
    }),
  );
});

t.test('fixing the fixed object yields an empty patch', async (t) => {
  holds(
    t,
    'idempotent',
    fc.property(subject, config, (obj, cfg) => {
      const ctx = contextFor([], cfg);
      const fixed = evaluate(obj, RULES, ctx, { fix: true })!.fixed ?? obj;
      return evaluate(structuredClone(fixed), RULES, ctx, { fix: true })!.patch.length === 0;
    }),
  );
});

t.test('the fixed pod sleeps no longer than its grace period, which a fix never lowers', async (t) => {
  holds(
    t,
    'grace covers every sleep and is never lowered',
    fc.property(subject, config, (obj, cfg) => {
      const before = toWorkload(obj)!;
      const fixed = evaluate(obj, RULES, contextFor([], cfg), { fix: true })!.fixed ?? obj;
      const after = toWorkload(fixed)!;
      const grace = gracePeriodSeconds(after.podSpec);
      const hooks = [...after.podSpec.containers, ...(after.podSpec.initContainers ?? [])];
      // The API server rejects a sleep action longer than the grace period; an exec sleep would be killed.
      const longest = Math.max(0, ...hooks.map((c) => preStopSeconds(c, 0) ?? 0));
      return grace >= longest && grace >= gracePeriodSeconds(before.podSpec);
    }),
  );
});

import { readFileSync } from 'node:fs';
import jsonpatch from 'fast-json-patch';
import t from 'tap';
import { parse } from 'yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import { goDurationSeconds, ownSigtermDelaySeconds, requiredGrace } from '../../src/engine/shutdown.js';
import type { KubeObject } from '../../src/engine/types.js';
import { toWorkload } from '../../src/engine/workload.js';
import { RULES } from '../../src/rules/index.js';
import { contextFor } from '../helpers/engine.js';

const fixture = (name: string) => parse(readFileSync(new URL(`../fixtures/engine/${name}`, import.meta.url), 'utf8'));
const pod = fixture('web-with-cloud-sql-proxy.pod.yaml') as KubeObject;
// The Service that routes to the Pod, as the live view would know it: traffic reaches port 'http' of 'web'.
const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
} as KubeObject;
const SHUTDOWN_RULES = ['proxy-sidecar-no-prestop', 'app-no-drain-delay', 'readiness-probe-missing', 'grace-period-too-short'];

for (const variant of ['native-sidecar', 'prestop', 'kubelet-1.28']) {
  t.test(`every rule on the defaulted app + cloud-sql-proxy Pod (${variant})`, async (t) => {
    const { config, fixed } = fixture(`web-with-cloud-sql-proxy.${variant}.fixed.yaml`);
    const result = evaluate(pod, RULES, contextFor([service], config), { fix: true })!;
    const applied = jsonpatch.applyPatch(structuredClone(pod), result.patch, true, false).newDocument;
    t.same(applied, fixed, 'one patch gives the expected Pod');
    t.same(result.fixed, fixed, 'the engine returns the same fixed Pod');
    const again = evaluate(applied, RULES, contextFor([service], config), { fix: true })!;
    t.same(again.patch, [], 're-evaluating the fixed Pod yields an empty patch');
    if (variant === 'kubelet-1.28') {
      // No sleep action and no shell in the app image: the app's finding stays, and is not listed as a fix.
      t.same(result.fixes.map((f) => f.rule), ['proxy-sidecar-no-prestop', 'readiness-probe-missing', 'grace-period-too-short']);
      t.same(again.findings.map((f) => f.rule), ['app-no-drain-delay']);
    } else {
      t.same(result.fixes.map((f) => f.rule), SHUTDOWN_RULES, 'fixes in catalogue order');
      t.same(again.findings, [], 'the fixed Pod has no findings');
    }
  });
}

function podWith(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec };
}
const need = (spec: Record<string, unknown>, objects: KubeObject[] = []) => requiredGrace(toWorkload(podWith(spec))!, contextFor(objects));
// No Service given: a declared TCP port is assumed to receive traffic, so the app drains.
const app = { name: 'app', image: 'example/app:1', ports: [{ containerPort: 8080 }], lifecycle: { preStop: { sleep: { seconds: 5 } } } };
const proxy = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1',
  ...extra,
});

t.test('required grace follows the kubelet termination order', async (t) => {
  t.equal(need({ containers: [app] }).seconds, 30, 'app alone: preStop 5 + drain 25');
  t.equal(need({ containers: [{ name: 'worker', image: 'w:1' }] }).seconds, 0, 'worker without port or preStop: nothing to wait for');
  t.equal(
    need({ containers: [{ name: 'worker', image: 'w:1', lifecycle: { preStop: { sleep: { seconds: 5 } } } }] }).seconds,
    6,
    'worker with a preStop but no traffic: the hook must end before the grace period',
  );
  const other = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other' }, spec: { selector: { app: 'other' }, ports: [{ port: 80 }] } };
  t.equal(need({ containers: [app] }, [other]).seconds, 6, 'known Services route nothing to the app: no drain, only its hook');
  t.equal(
    need({ containers: [app, proxy('db', { lifecycle: { preStop: { sleep: { seconds: 30 } } } })] }).seconds,
    35,
    'proxy sidecar: preStop 30 + shutdown 5',
  );
  t.equal(
    need({ containers: [app, proxy('db', { args: ['--min-sigterm-delay', '1m'] })] }).seconds,
    65,
    'proxy sidecar with its own 1m delay: 60 + 5',
  );
  t.equal(
    need({ initContainers: [proxy('a', { restartPolicy: 'Always' }), proxy('b', { restartPolicy: 'Always' })], containers: [app] })
      .seconds,
    40,
    'native sidecars stop one after the other after the app: 30 + 5 + 5',
  );
  t.equal(
    need({
      initContainers: [
        proxy('a', { restartPolicy: 'Always', lifecycle: { preStop: { sleep: { seconds: 50 } } } }),
        { name: 'migrate', image: 'example/migrate:1' },
      ],
      containers: [app],
    }).seconds,
    55,
    "a native sidecar's preStop runs from the start, alongside the app's: max(50, 30) + 5",
  );
  t.equal(
    need({ initContainers: [{ name: 'log', image: 'fluent-bit:3', restartPolicy: 'Always' }], containers: [app] }).seconds,
    30,
    'a non-proxy native sidecar without preStop adds nothing',
  );
  const pgbouncer = { name: 'pgbouncer', image: 'bitnami/pgbouncer:1.23.1', ports: [{ containerPort: 6432 }] };
  t.equal(need({ containers: [pgbouncer] }).seconds, 25, 'a pod made of a proxy alone drains like an app');
});

t.test('reads Go durations and the proxy delay', async (t) => {
  t.equal(goDurationSeconds('30s'), 30);
  t.equal(goDurationSeconds('1m30s'), 90);
  t.equal(goDurationSeconds('1500ms'), 2, 'rounded up');
  t.equal(goDurationSeconds('0'), 0);
  t.equal(goDurationSeconds('30'), undefined, 'Go refuses a number without unit');
  t.equal(ownSigtermDelaySeconds(proxy('p', { args: ['--min-sigterm-delay=20s'] }), 5), 20);
  t.equal(ownSigtermDelaySeconds(proxy('p', { env: [{ name: 'CSQL_PROXY_MIN_SIGTERM_DELAY', value: '0s' }] }), 5), 0);
  t.equal(ownSigtermDelaySeconds(proxy('p', { env: [{ name: 'CSQL_PROXY_MIN_SIGTERM_DELAY', valueFrom: {} }] }), 5), 5, 'unknown');
  t.equal(ownSigtermDelaySeconds(proxy('p'), 5), 0);
});

t.test('a Job Pod: only job-sidecar-blocks-completion fires, and its fix makes the proxy a native sidecar', async (t) => {
  const job = podWith({
    restartPolicy: 'Never',
    containers: [{ name: 'migrate', image: 'example/migrate:1' }, proxy('cloud-sql-proxy')],
  });
  const result = evaluate(job, RULES, contextFor(), { fix: true })!;
  t.same(result.findings.map((f) => f.rule), ['job-sidecar-blocks-completion'], 'proxy-sidecar-no-prestop stays silent');
  const fixed = result.fixed as { spec: { containers: unknown[]; initContainers: Array<{ name: string; restartPolicy: string }> } };
  t.same(fixed.spec.initContainers.map((c) => [c.name, c.restartPolicy]), [['cloud-sql-proxy', 'Always']]);
  t.equal(fixed.spec.containers.length, 1);
  t.same(evaluate(fixed as KubeObject, RULES, contextFor(), { fix: true })!.patch, []);
});

t.test('a sleep action never exceeds the grace period, even with grace-period-too-short off', async (t) => {
  const config = { proxy: { strategy: 'prestop' }, timings: { drainSeconds: 60 }, rules: { 'grace-period-too-short': 'off' } };
  const result = evaluate(podWith({ containers: [app, proxy('db')] }), RULES, contextFor([], config), { fix: true })!;
  const spec = (result.fixed as { spec: { terminationGracePeriodSeconds: number; containers: Array<{ lifecycle?: unknown }> } }).spec;
  t.same(spec.containers[1]!.lifecycle, { preStop: { sleep: { seconds: 65 } } }, 'the proxy outlives preStop 5 + drain 60');
  t.equal(spec.terminationGracePeriodSeconds, 65, 'raised to the sleep, which the API server requires');
});

t.test('audit states the grace period mutate writes, sized after the other fixes', async (t) => {
  // The app has no preStop yet: on the object as given the default 30s covers a 30s drain, but the fix adds a 5s
  // preStop first, so mutate writes 5 + 30. Audit must say that number, not 30 or nothing.
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'example/web:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  } as KubeObject;
  const ctx = contextFor([{ ...service, metadata: { name: 'web', namespace: 'shop' } } as KubeObject], { timings: { drainSeconds: 30 } });
  const audited = evaluate(deployment, RULES, ctx)!;
  const mutated = evaluate(deployment, RULES, ctx, { fix: true })!;
  const written = (mutated.fixed as { spec: { template: { spec: { terminationGracePeriodSeconds: number } } } }).spec.template.spec
    .terminationGracePeriodSeconds;
  t.equal(written, 35, 'mutate writes preStop 5 + drain 30');
  const grace = audited.findings.filter((f) => f.rule === 'grace-period-too-short');
  t.equal(grace.length, 1, 'audit reports the grace period although 30s covers the drain as given');
  t.match(grace[0]!.message, `Fix: set it to ${written}.`);
  t.same(audited.fixes, [], 'audit lists no fixes and makes no patch');
  t.same(audited.patch, []);
});

t.test('the grace finding states the grace period as given, not as an earlier fix raised it', async (t) => {
  // The istio curl sample: grace 0 on purpose, and a Service whose targetPort 80 the container does not declare.
  // The drain fix adds a sleep of 5 and must raise the grace period to 5 for the API server to accept the sleep;
  // the grace finding then sizes the pod as fixed, but the user wrote 0, not "5s (set explicitly)".
  const curl = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'curl', namespace: 'mesh' },
    spec: {
      selector: { matchLabels: { app: 'curl' } },
      template: {
        metadata: { labels: { app: 'curl' } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'curl', image: 'curlimages/curl:8.16.0', command: ['/bin/sleep', 'infinity'] }],
        },
      },
    },
  } as KubeObject;
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'curl', namespace: 'mesh' },
    spec: { selector: { app: 'curl' }, ports: [{ port: 80 }] },
  } as KubeObject;
  for (const fix of [false, true]) {
    const result = evaluate(curl, RULES, contextFor([svc]), { fix })!;
    const grace = result.findings.find((f) => f.rule === 'grace-period-too-short');
    t.match(
      grace?.message,
      /^terminationGracePeriodSeconds 0s \(set explicitly\) is shorter than the 30s shutdown may take with the other fixes applied: 'curl' preStop 5s/,
      `fix ${fix}: the message names the value in the manifest`,
    );
  }
});

t.test('an explicit grace period keeps its time after the preStop a fix adds (microservices-demo sets 5s)', async (t) => {
  const spec = (grace: number) => ({
    terminationGracePeriodSeconds: grace,
    containers: [{ name: 'web', image: 'example/web:1', ports: [{ containerPort: 8080 }] }],
  });
  const run = (grace: number) => evaluate(podWith(spec(grace)), RULES, contextFor(), { fix: true })!;
  const five = run(5);
  const fixed = (five.fixed as { spec: { terminationGracePeriodSeconds: number; containers: Array<{ lifecycle?: unknown }> } }).spec;
  t.same(fixed.containers[0]!.lifecycle, { preStop: { sleep: { seconds: 5 } } }, 'the drain delay is added');
  t.equal(fixed.terminationGracePeriodSeconds, 10, "5s after the new 5s preStop: the person's choice, not Gracekeeper's 30");
  const messages = five.findings.filter((f) => f.rule === 'grace-period-too-short').map((f) => `${f.action}: ${f.message}`);
  t.match(messages, [/^warn: .* must grow by the 5s of preStop the other fixes add.* Fix: set it to 10\.$/, /^warn: .*Raise it to 30 if so; the fix keeps an explicit value \(plus the preStop it adds: 10s\)\.$/]);
  t.same(five.fixes.map((f) => f.rule), ['app-no-drain-delay', 'grace-period-too-short'], 'audit marks the grace period fixable');
  t.same(evaluate(five.fixed!, RULES, contextFor(), { fix: true })!.patch, [], 'idempotent');
  // 25s + 5s would come out as 30, which reads as the API server default next time: the whole need is set.
  t.equal((run(25).fixed as { spec: { terminationGracePeriodSeconds: number } }).spec.terminationGracePeriodSeconds, 30);
  t.same(evaluate(run(25).fixed!, RULES, contextFor(), { fix: true })!.patch, [], 'idempotent at 30 too');
});

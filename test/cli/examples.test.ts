import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cli } from '../helpers/cli.js';

/**
 * examples/ is what README's audit example runs on: each manifest shows one family of problems, and checkout shows
 * what passes. This keeps them honest as rules change.
 */
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

const EXPECTED: Record<string, Record<string, 'deny' | 'warn'>> = {
  'Deployment/storefront': {
    'proxy-sidecar-no-prestop': 'warn',
    'app-no-drain-delay': 'warn',
    'readiness-probe-missing': 'warn',
    // Sized after the other fixes: the native sidecar stops after the app's 5 + 25 s, plus its own 5 s.
    'grace-period-too-short': 'warn',
    'plaintext-secret-env': 'warn',
  },
  // The Service targets 5432, which postgres never declares: traffic still reaches it.
  'StatefulSet/orders-db': { 'statefulset-service-not-headless': 'deny', 'app-no-drain-delay': 'warn', 'readiness-probe-missing': 'warn' },
  'Deployment/uploads-api': { 'rwo-volume-shared-by-replicas': 'deny' },
  'Deployment/catalog': { 'init-container-never-completes': 'deny' },
  'CronJob/nightly-report': { 'job-sidecar-blocks-completion': 'warn' },
  'Deployment/admin': { 'rollout-drops-all-pods': 'deny', 'service-target-port-unmatched': 'warn' },
  'Deployment/checkout': {},
};

t.test('gracekeeper audit examples/ reports what each example is about, and checkout passes', async (t) => {
  const r = await cli(['audit', '-o', 'json', examples]);
  t.equal(r.code, 1, 'deny findings');
  t.equal(r.stderr, '');
  const out = JSON.parse(r.stdout);
  t.equal(out.summary.workloads, Object.keys(EXPECTED).length);
  for (const [workload, rules] of Object.entries(EXPECTED)) {
    const got: Record<string, string> = {};
    for (const f of out.findings) if (`${f.kind}/${f.name}` === workload) got[f.rule] = f.action;
    t.same(got, rules, workload);
  }
});

t.test('mutate fixes every fixable finding of the examples', async (t) => {
  for (const file of ['storefront/storefront.yaml', 'reports/nightly-report.yaml']) {
    const fixed = await cli(['mutate', `${examples}${file}`]);
    t.equal(fixed.code, 0, fixed.stderr);
    const after = JSON.parse((await cli(['audit', '-o', 'json', '-'], { stdin: fixed.stdout })).stdout);
    t.same(after.findings.filter((f: { fixable: boolean }) => f.fixable), [], file);
  }
});

import jsonpatch from 'fast-json-patch';
import t from 'tap';
import { evaluate } from '../../src/engine/evaluate.js';
import type { KubeObject } from '../../src/engine/types.js';
import { RULES } from '../../src/rules/index.js';
import { contextFor } from '../helpers/engine.js';

const RULE = 'init-container-never-completes';
/** The rules that judge proxies: after the fix none of them may report the proxy that became a native sidecar. */
const PROXY_RULES = [RULE, 'proxy-sidecar-no-prestop', 'job-sidecar-blocks-completion'];

function withProxyInit(kind: 'Deployment' | 'Job'): KubeObject {
  const spec = {
    ...(kind === 'Job' ? { restartPolicy: 'Never' } : {}),
    initContainers: [
      { name: 'cloud-sql-proxy', image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1', args: ['--port=5432', 'p:r:db'] },
      { name: 'migrate', image: 'example/migrate:1.0' },
    ],
    containers: [{ name: 'app', image: 'example/app:1.0' }],
  };
  return kind === 'Job'
    ? { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'export', namespace: 'shop' }, spec: { template: { spec } } }
    : {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'orders', namespace: 'shop' },
        spec: { selector: { matchLabels: { app: 'orders' } }, template: { metadata: { labels: { app: 'orders' } }, spec } },
      };
}

t.test('no fix where kubelets lack native sidecars or the strategy excludes them: the finding says why', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ kubernetesVersion: '1.28' }, /Not fixed automatically \(kubelet 1\.28 \(config kubernetesVersion\) predates native sidecars/],
    [{ proxy: { strategy: 'prestop' } }, /Not fixed automatically \(proxy\.strategy is prestop\)/],
  ];
  for (const [config, advice] of cases) {
    const obj = withProxyInit('Deployment');
    const result = evaluate(obj, RULES, contextFor([obj], config), { fix: true, only: [RULE] })!;
    t.same(result.patch, [], `no patch with ${JSON.stringify(config)}`);
    t.equal(result.findings.length, 1);
    t.match(result.findings[0]!.message, advice);
    t.match(result.findings[0]!.message, /By hand: run it as a regular container/);
  }
});

t.test('the fix makes the proxy a native sidecar that no proxy rule reports, and is idempotent with the whole catalogue', async (t) => {
  for (const kind of ['Deployment', 'Job'] as const) {
    const obj = withProxyInit(kind);
    const ctx = contextFor([obj]);
    const first = evaluate(obj, RULES, ctx, { fix: true })!;
    t.ok(first.findings.some((f) => f.rule === RULE), `${kind}: reported before`);
    const fixed = jsonpatch.applyPatch(structuredClone(obj), first.patch, true, false).newDocument as KubeObject;
    // Deployment and Job both keep the pod spec at spec.template.spec.
    const spec = (fixed.spec as { template: { spec: { initContainers: Array<{ name: string; restartPolicy?: string }> } } })
      .template.spec;
    t.same(
      spec.initContainers.map((c) => [c.name, c.restartPolicy]),
      [
        ['cloud-sql-proxy', 'Always'],
        ['migrate', undefined],
      ],
      `${kind}: only the proxy became a native sidecar, in place`,
    );
    const again = evaluate(fixed, RULES, contextFor([fixed]), { fix: true })!;
    t.same(
      again.findings.filter((f) => PROXY_RULES.includes(f.rule)),
      [],
      `${kind}: no proxy rule reports the native sidecar`,
    );
    const proxyOnly = evaluate(fixed, RULES, contextFor([fixed]), { fix: true, only: PROXY_RULES })!;
    t.same(proxyOnly.patch, [], `${kind}: the proxy rules change nothing more`);
  }
});

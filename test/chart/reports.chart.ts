/**
 * The chart's reports values: nothing by default; with reports.enabled, the config the server reads turns the
 * scan on, a second ClusterRole grants exactly what the scan needs (read the workload kinds and Namespaces,
 * write the reports of the chosen format), and reports.installCRD renders that format's CRD with the
 * upstream names, and the same schema and columns as openreports/reports-api's own CRD (fetched through the Go
 * module proxy by scripts/report-crds.sh). A combination the server would refuse (no cluster view) fails at render
 * time.
 */
import t from 'tap';
import type { V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1CustomResourceDefinition, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { buildServerConfig } from '../../src/config/server.js';
import { RULE_IDS } from '../../src/rules/index.js';
import { SCANNED_RESOURCES, NAMESPACES } from '../../src/reports/informers.js';
import { upstreamReportCrd } from './lib/report-crd.js';
import { CHART_DIR, findObject, helm, renderChart, tryRenderChart, type K8sObject } from './lib/helm.js';
import { SPAWNING_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(SPAWNING_FILE_TIMEOUT_MS);

const NS = 'gk-system';
const render = (set: Record<string, unknown>) => renderChart({ releaseName: 'gk', namespace: NS, set });
const config = (docs: K8sObject[]) => buildServerConfig(parse(findObject<V1ConfigMap>(docs, 'ConfigMap').data!['config.yaml']!), [], RULE_IDS);
const ofKind = (docs: K8sObject[], kind: string) => docs.filter((d) => d.kind === kind);

t.test('defaults: no scan, no extra RBAC, no CRD', async (t) => {
  const docs = render({});
  t.same(config(docs).reports, { enabled: false, format: 'openreports', resyncSeconds: 300, debounceSeconds: 5, maxResults: 1000, leaseName: 'gk-gracekeeper-reports' });
  t.equal(ofKind(docs, 'ClusterRole').length, 1);
  t.equal(ofKind(docs, 'Role').length, 0);
  t.equal(ofKind(docs, 'CustomResourceDefinition').length, 0);
});

t.test('reports.enabled: the config turns it on; the reports ClusterRole covers every informer and the reports', async (t) => {
  const docs = render({ 'reports.enabled': true, 'reports.resyncSeconds': 120, 'reports.maxResults': 50 });
  t.same(config(docs).reports, { enabled: true, format: 'openreports', resyncSeconds: 120, debounceSeconds: 5, maxResults: 50, leaseName: 'gk-gracekeeper-reports' });
  const lease = findObject<V1Role>(docs, 'Role', 'gk-gracekeeper-reports');
  t.equal(lease.metadata!.namespace, NS);
  t.same(lease.rules, [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['gk-gracekeeper-reports'], verbs: ['get', 'update'] },
  ], 'the Lease named in the config, nothing else');
  t.same(findObject<V1RoleBinding>(docs, 'RoleBinding', 'gk-gracekeeper-reports').subjects, [{ kind: 'ServiceAccount', name: 'gk-gracekeeper', namespace: NS }]);
  const role = findObject<V1ClusterRole>(docs, 'ClusterRole', 'gk-gracekeeper-reports');
  const allowed = (group: string, resource: string, verb: string) =>
    role.rules!.some((r) => r.apiGroups!.includes(group) && r.resources!.includes(resource) && r.verbs.includes(verb));
  for (const res of [...SCANNED_RESOURCES, NAMESPACES]) {
    for (const verb of ['list', 'watch']) t.ok(allowed(res.group, res.resource, verb), `${verb} ${res.resource}`);
  }
  for (const verb of ['list', 'create', 'update', 'delete']) t.ok(allowed('openreports.io', 'reports', verb), `${verb} reports`);
  t.notOk(role.rules!.some((r) => r.verbs.some((v) => ['create', 'update', 'delete', 'patch'].includes(v)) && !r.apiGroups!.includes('openreports.io')), 'writes only reports');
  const binding = findObject<V1ClusterRoleBinding>(docs, 'ClusterRoleBinding', 'gk-gracekeeper-reports');
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gk-gracekeeper-reports' });
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'gk-gracekeeper', namespace: NS }]);
  t.equal(ofKind(docs, 'CustomResourceDefinition').length, 0, 'the CRD only when asked');
});

t.test('reports.installCRD: the CRD of the format, with the upstream names and columns, kept on uninstall', async (t) => {
  const crd = findObject<V1CustomResourceDefinition>(render({ 'reports.enabled': true, 'reports.installCRD': true }), 'CustomResourceDefinition');
  t.equal(crd.metadata!.name, 'reports.openreports.io');
  t.same(crd.spec.names, { kind: 'Report', listKind: 'ReportList', plural: 'reports', singular: 'report', shortNames: ['reps'] });
  t.equal(crd.spec.scope, 'Namespaced');
  t.equal(crd.metadata!.annotations!['helm.sh/resource-policy'], 'keep');
  const version = crd.spec.versions[0]!;
  t.equal(version.name, 'v1alpha1');
  t.same(version.additionalPrinterColumns!.map((c) => c.name), ['Kind', 'Name', 'Pass', 'Fail', 'Warn', 'Error', 'Skip', 'Age']);
  const props = version.schema!.openAPIV3Schema!.properties!;
  t.same(Object.keys(props).sort(), ['apiVersion', 'configuration', 'kind', 'metadata', 'results', 'scope', 'scopeSelector', 'source', 'summary']);
  t.same(props.results!.items!.required, ['policy']);

  const old = render({ 'reports.enabled': true, 'reports.installCRD': true, 'reports.format': 'wgpolicyk8s' });
  const polr = findObject<V1CustomResourceDefinition>(old, 'CustomResourceDefinition');
  t.equal(polr.metadata!.name, 'policyreports.wgpolicyk8s.io');
  t.same(polr.spec.names.shortNames, ['polr']);
  t.equal(polr.spec.versions[0]!.name, 'v1alpha2');
  t.notOk('source' in polr.spec.versions[0]!.schema!.openAPIV3Schema!.properties!);
  const role = findObject<V1ClusterRole>(old, 'ClusterRole', 'gk-gracekeeper-reports');
  t.ok(role.rules!.some((r) => r.apiGroups!.includes('wgpolicyk8s.io') && r.resources!.includes('policyreports') && r.verbs.includes('update')));
  t.equal(config(old).reports.format, 'wgpolicyk8s');
});

t.test('refused: reports without the cluster view; bad values fail the schema', async (t) => {
  const noView = tryRenderChart({ set: { 'reports.enabled': true, 'config.clusterView.enabled': false } });
  t.not(noView.status, 0);
  t.match(noView.stderr, /reports.enabled needs the live cluster view/);
  const badFormat = tryRenderChart({ set: { 'reports.format': 'kyverno' } });
  t.not(badFormat.status, 0);
  t.match(badFormat.stderr, /reports\/format/);
  const tooFast = tryRenderChart({ set: { 'reports.resyncSeconds': 1 } });
  t.not(tooFast.status, 0);
});

t.test('helm lint --strict with the scan and the CRD on', async (t) => {
  const r = helm(['lint', '--strict', CHART_DIR, '--set', 'reports.enabled=true', '--set', 'reports.installCRD=true']);
  t.equal(r.status, 0, r.stdout + r.stderr);
});

/** A schema without its descriptions (written anew for the chart) and with keys in one order. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .filter((k) => k !== 'description')
      .sort()
      .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
  );
}

t.test("the chart's Report CRD is openreports/reports-api's: names, scope, columns and schema (descriptions aside)", async (t) => {
  const ours = findObject<V1CustomResourceDefinition>(render({ 'reports.installCRD': true }), 'CustomResourceDefinition');
  const upstream = upstreamReportCrd();
  t.equal(ours.metadata!.name, upstream.metadata!.name);
  t.same(ours.spec.names, upstream.spec.names);
  t.equal(ours.spec.scope, upstream.spec.scope);
  t.equal(ours.spec.group, upstream.spec.group);
  t.same(ours.spec.versions.map((v) => v.name), upstream.spec.versions.map((v) => v.name));
  t.same(shape(ours.spec.versions[0]!.additionalPrinterColumns), shape(upstream.spec.versions[0]!.additionalPrinterColumns));
  t.same(shape(ours.spec.versions[0]!.schema), shape(upstream.spec.versions[0]!.schema));
});

/**
 * The namespaceSelectors the chart renders, evaluated as the API server evaluates them: a decision
 * table of namespace label sets in, the webhook entries that select the namespace out.
 */
import t, { type Test } from 'tap';
import type { V1LabelSelector } from '@kubernetes/client-node';
import { findObject, renderChart, type RenderOptions, type WebhookConfiguration } from './lib/helm.js';
import { selects } from './lib/selector.js';
import { SPAWNING_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(SPAWNING_FILE_TIMEOUT_MS);

const RELEASE_NS = 'gk-system';
const MODE_LABEL = 'gracekeeper.io/mode';

/** Labels a namespace carries in the API server: kubernetes.io/metadata.name is always set. */
function namespaceLabels(name: string, mode?: string): Record<string, string> {
  return { 'kubernetes.io/metadata.name': name, ...(mode === undefined ? {} : { [MODE_LABEL]: mode }) };
}

interface Selected {
  mutate: string[];
  validate: string[];
}

function render(set: Record<string, unknown>): { mutating: WebhookConfiguration; validating: WebhookConfiguration } {
  const opts: RenderOptions = { namespace: RELEASE_NS, set };
  const docs = renderChart(opts);
  return {
    mutating: findObject<WebhookConfiguration>(docs, 'MutatingWebhookConfiguration'),
    validating: findObject<WebhookConfiguration>(docs, 'ValidatingWebhookConfiguration'),
  };
}

/** The modes (first label of the webhook name) whose entry selects a namespace with these labels. */
function selectedModes(config: WebhookConfiguration, labels: Record<string, string>): string[] {
  return (config.webhooks ?? [])
    .filter((w) => selects(w.namespaceSelector as V1LabelSelector | undefined, labels))
    .map((w) => w.name.split('.')[0]!);
}

function decide(rendered: ReturnType<typeof render>, labels: Record<string, string>): Selected {
  return { mutate: selectedModes(rendered.mutating, labels), validate: selectedModes(rendered.validating, labels) };
}

type Row = [namespace: string, modeLabel: string | undefined, expected: 'enforce' | 'audit' | 'none'];

function checkTable(t: Test, rendered: ReturnType<typeof render>, rows: readonly Row[]): void {
  for (const [ns, mode, expected] of rows) {
    const want = expected === 'none' ? [] : [expected];
    const got = decide(rendered, namespaceLabels(ns, mode));
    const label = `${ns} ${mode === undefined ? '(no label)' : `${MODE_LABEL}=${mode}`} -> ${expected}`;
    t.same(got, { mutate: want, validate: want }, label);
  }
}

t.test('opt-in: only labelled namespaces, never the exempt ones or the release namespace', async (t) => {
  const rendered = render({ mode: 'opt-in' });
  checkTable(t, rendered, [
    ['team-a', undefined, 'none'],
    ['team-a', 'enforce', 'enforce'],
    ['team-a', 'audit', 'audit'],
    ['team-a', 'off', 'none'],
    ['team-a', 'Enforce', 'none'],
    ['team-a', '', 'none'],
    ['default', 'enforce', 'enforce'],
    ['kube-system', 'enforce', 'none'],
    ['kube-public', 'audit', 'none'],
    ['kube-node-lease', 'enforce', 'none'],
    [RELEASE_NS, 'enforce', 'none'],
    [RELEASE_NS, 'audit', 'none'],
  ]);
});

t.test('cluster, default enforce: everything but exempt, release and off namespaces; a label lowers to audit', async (t) => {
  const rendered = render({ mode: 'cluster', clusterDefaultMode: 'enforce', exemptNamespaces: ['kube-system', 'monitoring'] });
  checkTable(t, rendered, [
    ['team-a', undefined, 'enforce'],
    ['team-a', 'enforce', 'enforce'],
    ['team-a', 'audit', 'audit'],
    ['team-a', 'off', 'none'],
    // An unknown value is not an opt-out: the namespace keeps the cluster default.
    ['team-a', 'of', 'enforce'],
    ['default', undefined, 'enforce'],
    ['kube-system', undefined, 'none'],
    ['kube-system', 'enforce', 'none'],
    ['monitoring', undefined, 'none'],
    ['monitoring', 'audit', 'none'],
    // Not in this release's exempt list, so it is treated like any other namespace.
    ['kube-public', undefined, 'enforce'],
    [RELEASE_NS, undefined, 'none'],
    [RELEASE_NS, 'enforce', 'none'],
  ]);
});

t.test('cluster, default audit: unlabelled namespaces are audited; a label raises to enforce', async (t) => {
  const rendered = render({ mode: 'cluster', clusterDefaultMode: 'audit' });
  checkTable(t, rendered, [
    ['team-a', undefined, 'audit'],
    ['team-a', 'audit', 'audit'],
    ['team-a', 'enforce', 'enforce'],
    ['team-a', 'off', 'none'],
    ['team-a', 'unknown', 'audit'],
    ['kube-system', undefined, 'none'],
    ['kube-node-lease', 'enforce', 'none'],
    [RELEASE_NS, undefined, 'none'],
  ]);
});

t.test('every mode setting: at most one entry per configuration selects any namespace, and the same one in both', async (t) => {
  const settings = [
    { mode: 'opt-in' },
    { mode: 'cluster', clusterDefaultMode: 'enforce' },
    { mode: 'cluster', clusterDefaultMode: 'audit' },
  ];
  const names = ['team-a', 'default', 'kube-system', RELEASE_NS];
  const labelValues = [undefined, 'enforce', 'audit', 'off', 'other', ''];
  for (const set of settings) {
    const rendered = render(set);
    for (const ns of names) {
      for (const mode of labelValues) {
        const got = decide(rendered, namespaceLabels(ns, mode));
        const where = `${JSON.stringify(set)} ${ns} ${String(mode)}`;
        t.ok(got.mutate.length <= 1, `${where}: one mutating entry at most`);
        t.same(got.validate, got.mutate, `${where}: validating matches mutating`);
        if (ns === RELEASE_NS || ns === 'kube-system') t.same(got.mutate, [], `${where}: never selected`);
        if (mode === 'off') t.same(got.mutate, [], `${where}: off is off`);
      }
    }
  }
});

t.test('the release namespace is excluded even when it is also in the exempt list, or the list is empty', async (t) => {
  for (const exemptNamespaces of [[], [RELEASE_NS, 'kube-system']]) {
    const rendered = render({ mode: 'cluster', exemptNamespaces });
    for (const hook of rendered.validating.webhooks ?? []) {
      const names = hook.namespaceSelector?.matchExpressions?.find((e) => e.key === 'kubernetes.io/metadata.name');
      t.equal(names?.operator, 'NotIn');
      t.same(names?.values, [...new Set([...exemptNamespaces, RELEASE_NS])], `${hook.name} with ${JSON.stringify(exemptNamespaces)}`);
    }
    t.same(decide(rendered, namespaceLabels(RELEASE_NS)), { mutate: [], validate: [] });
    t.same(decide(rendered, namespaceLabels('team-a')), { mutate: ['enforce'], validate: ['enforce'] });
  }
});

/**
 * helm lint and helm template for the defaults and every ci/*-values.yaml, and what the rendered
 * objects must hold for the webhook to work: Service, ports, certificates and caBundle agree with
 * each other; the Deployment is restricted and shuts down gracefully; the config parses.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1NetworkPolicy,
  V1PodDisruptionBudget,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { parsePolicyConfig } from '../../src/config/policy.js';
import { buildServerConfig, parseCommandLine } from '../../src/config/server.js';
import { RULE_IDS } from '../../src/rules/index.js';
import {
  CHART_DIR,
  ciValues,
  ciValuesNames,
  findObject,
  helm,
  renderChart,
  tryRenderChart,
  webhooksAtUrl,
  type K8sObject,
  type WebhookConfiguration,
} from './lib/helm.js';
import { selects } from './lib/selector.js';
import { SPAWNING_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(SPAWNING_FILE_TIMEOUT_MS);

const NS = 'gk-system';
const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- values files are free-form YAML
const readValues = (file: string): Record<string, any> => parse(readFileSync(file, 'utf8')) as Record<string, any>;

/** The defaults plus every ci values file, as the cases all checks run over. */
const cases: Array<{ name: string; valuesFiles: string[] }> = [
  { name: 'defaults', valuesFiles: [] },
  ...ciValuesNames().map((name) => ({ name, valuesFiles: [ciValues(name)] })),
];

t.test('there is a ci values file for each mode and each certificate source', async (t) => {
  const rendered = ciValuesNames().map((name) => readValues(ciValues(name)));
  const modes = new Set(rendered.map((v) => (v.mode === 'cluster' ? `cluster/${v.clusterDefaultMode ?? 'enforce'}` : v.mode)));
  const sources = new Set(rendered.map((v) => v.certificates?.source));
  t.same([...modes].sort(), ['cluster/audit', 'cluster/enforce', 'opt-in']);
  t.same([...sources].sort(), ['cert-manager', 'helm', 'secret']);
});

for (const c of cases) {
  t.test(`helm lint --strict: ${c.name}`, async (t) => {
    const r = helm(['lint', CHART_DIR, '--strict', '--namespace', NS, ...c.valuesFiles.flatMap((f) => ['--values', f])]);
    t.equal(r.status, 0, r.stderr || r.stdout);
    t.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  t.test(`helm template: ${c.name}`, async (t) => {
    const docs = renderChart({ namespace: NS, valuesFiles: c.valuesFiles });
    const values = c.valuesFiles.length ? readValues(c.valuesFiles[0]!) : {};
    checkNamespaces(t, docs);
    checkWebhooks(t, docs);
    checkCertificates(t, docs, values.certificates ?? { source: 'helm' });
    checkDeployment(t, docs);
    checkRbac(t, docs);
    checkConfig(t, docs);
    checkOptional(t, docs, values);
  });
}

function checkNamespaces(t: Test, docs: K8sObject[]): void {
  for (const d of docs) {
    if (CLUSTER_SCOPED.has(d.kind)) t.equal(d.metadata.namespace, undefined, `${d.kind} is cluster-scoped`);
    else t.equal(d.metadata.namespace, NS, `${d.kind}/${d.metadata.name} in the release namespace`);
  }
}

function serviceAndDeployment(docs: K8sObject[]): { service: V1Service; deployment: V1Deployment; container: V1Container } {
  const service = findObject<V1Service>(docs, 'Service');
  const deployment = findObject<V1Deployment>(docs, 'Deployment');
  const container = deployment.spec!.template.spec!.containers[0]!;
  return { service, deployment, container };
}

function checkWebhooks(t: Test, docs: K8sObject[]): void {
  const { service, deployment, container } = serviceAndDeployment(docs);
  const https = service.spec!.ports!.find((p) => p.targetPort === 'https');
  t.ok(https, 'the Service forwards to the container port named https');
  t.ok(container.ports?.some((p) => p.name === 'https'), 'the container has a port named https');
  t.ok(selects({ matchLabels: service.spec!.selector! }, deployment.spec!.template.metadata!.labels!), 'the Service selects the webhook Pods');

  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    const config = findObject<WebhookConfiguration>(docs, kind);
    const verb = kind.startsWith('Mutating') ? 'mutate' : 'validate';
    t.same(
      config.webhooks!.map((w) => w.name),
      [`enforce.${verb}.gracekeeper.io`, `audit.${verb}.gracekeeper.io`],
      `${kind}: one stable entry per mode`,
    );
    for (const w of config.webhooks!) {
      const mode = w.name.split('.')[0]!;
      t.same(w.admissionReviewVersions, ['v1']);
      t.equal(w.sideEffects, 'None', 'dry-run requests are allowed');
      t.equal(w.matchPolicy, 'Equivalent');
      t.ok(w.timeoutSeconds! >= 1 && w.timeoutSeconds! <= 30, 'timeoutSeconds in 1..30');
      t.ok(['Fail', 'Ignore'].includes(w.failurePolicy!));
      t.same(w.clientConfig.service, { name: service.metadata!.name, namespace: NS, path: `/${verb}/${mode}`, port: https!.port });
      t.ok(w.matchConditions?.some((m) => m.name === 'not-terminating'), 'objects being deleted are skipped');
      const rules = w.rules!;
      t.ok(rules.every((r) => r.scope === 'Namespaced'));
      if (verb === 'mutate') {
        t.equal((w as { reinvocationPolicy?: string }).reinvocationPolicy, 'IfNeeded');
        t.same(rules.map((r) => [r.apiGroups, r.resources, r.operations]), [[[''], ['pods'], ['CREATE']]], 'Pods on CREATE only');
      } else {
        const covered = rules.flatMap((r) => r.resources!.map((res) => `${r.apiGroups![0] || 'core'}/${res}:${r.operations!.join(',')}`));
        t.same(covered.sort(), [
          'apps/daemonsets:CREATE,UPDATE',
          'apps/deployments:CREATE,UPDATE',
          'apps/replicasets:CREATE,UPDATE',
          'apps/statefulsets:CREATE,UPDATE',
          'batch/cronjobs:CREATE,UPDATE',
          'batch/jobs:CREATE,UPDATE',
          'core/pods:CREATE',
          'core/replicationcontrollers:CREATE,UPDATE',
        ]);
      }
    }
  }
}

function tlsSecretName(docs: K8sObject[]): string {
  const { deployment } = serviceAndDeployment(docs);
  return deployment.spec!.template.spec!.volumes!.find((v) => v.name === 'tls')!.secret!.secretName!;
}

function caBundles(docs: K8sObject[]): Array<string | undefined> {
  return ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].flatMap((kind) =>
    findObject<WebhookConfiguration>(docs, kind).webhooks!.map((w) => w.clientConfig.caBundle),
  );
}

function checkCertificates(t: Test, docs: K8sObject[], certificates: { source: string; secret?: Record<string, string>; certManager?: any }): void {
  const { service } = serviceAndDeployment(docs);
  const dnsName = `${service.metadata!.name}.${NS}.svc`;
  const secretName = tlsSecretName(docs);
  const bundles = caBundles(docs);

  if (certificates.source === 'helm') {
    const secret = findObject<V1Secret>(docs, 'Secret', secretName);
    t.equal(secret.type, 'kubernetes.io/tls');
    const pem = (key: string) => Buffer.from(secret.data![key]!, 'base64');
    const ca = new X509Certificate(pem('ca.crt'));
    const leaf = new X509Certificate(pem('tls.crt'));
    t.ok(ca.ca, 'ca.crt is a CA');
    t.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), 'the serving certificate is signed by ca.crt');
    t.equal(leaf.checkHost(dnsName), dnsName, `the serving certificate is valid for ${dnsName}`);
    t.ok(leaf.checkPrivateKey(createPrivateKey(pem('tls.key'))), 'tls.key belongs to tls.crt');
    t.same(new Set(bundles), new Set([secret.data!['ca.crt']]), 'every webhook trusts the CA in the Secret (one CA per render)');
  } else if (certificates.source === 'secret') {
    t.equal(secretName, certificates.secret!.name, 'the Pods mount the given Secret');
    t.notOk(docs.some((d) => d.kind === 'Secret'), 'the chart makes no Secret of its own');
    t.same(new Set(bundles), new Set([certificates.secret!.caBundle]), 'every webhook carries the given caBundle');
    t.ok(new X509Certificate(Buffer.from(certificates.secret!.caBundle!, 'base64')).ca, 'the ci caBundle is a CA certificate');
  } else {
    const certs = docs.filter((d) => d.kind === 'Certificate') as Array<K8sObject & { spec: any }>;
    const serving = certs.find((c) => c.spec.secretName === secretName);
    t.ok(serving, 'a Certificate writes the Secret the Pods mount');
    t.ok(serving!.spec.dnsNames.includes(dnsName), `the Certificate covers ${dnsName}`);
    t.same(new Set(bundles), new Set([undefined]), 'no caBundle in the manifests: cainjector writes it');
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      t.equal(findObject(docs, kind).metadata.annotations?.['cert-manager.io/inject-ca-from'], `${NS}/${serving!.metadata.name}`);
    }
    const issuerRef = serving!.spec.issuerRef;
    if (certificates.certManager?.issuerRef) {
      t.same(issuerRef, certificates.certManager.issuerRef, 'the given issuer is used');
      t.notOk(docs.some((d) => d.kind === 'Issuer'), 'and no Issuer is made');
    } else {
      const issuer = findObject<K8sObject & { spec: any }>(docs, 'Issuer', issuerRef.name);
      const ca = certs.find((c) => c.spec.secretName === issuer.spec.ca?.secretName);
      t.ok(ca?.spec.isCA, 'the serving certificate comes from a CA Issuer backed by a CA Certificate');
      t.equal(findObject<K8sObject & { spec: any }>(docs, 'Issuer', ca!.spec.issuerRef.name).spec.selfSigned !== undefined, true, 'rooted in a self-signed Issuer');
    }
  }
}

function checkDeployment(t: Test, docs: K8sObject[]): void {
  const { deployment, container } = serviceAndDeployment(docs);
  const spec = deployment.spec!;
  const pod = spec.template.spec!;
  t.equal(spec.replicas, 2);
  t.same(spec.strategy?.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 }, 'a rollout never drops a ready replica');
  t.equal(pod.securityContext?.runAsNonRoot, true);
  t.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  t.match(container.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  });
  const healthPort = container.ports!.find((p) => p.name === 'health');
  t.ok(healthPort, 'a health port');
  t.same([container.livenessProbe?.httpGet?.port, container.livenessProbe?.httpGet?.path], ['health', '/healthz']);
  t.same([container.readinessProbe?.httpGet?.port, container.readinessProbe?.httpGet?.path], ['health', '/readyz']);
  t.ok(container.resources?.requests?.cpu && container.resources.requests.memory && container.resources.limits?.memory, 'resources');
  t.ok(
    pod.topologySpreadConstraints?.some((c) => c.topologyKey === 'kubernetes.io/hostname' && selects(c.labelSelector, spec.template.metadata!.labels!)),
    'replicas spread across nodes',
  );

  const env = container.env?.find((e) => e.name === 'POD_NAMESPACE');
  t.equal(env?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace', 'POD_NAMESPACE from the downward API');

  // The flags point into the mounts, and no mount uses subPath (the kubelet never updates those).
  const arg = (flag: string) => container.args!.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
  const mountOf = (volume: string) => container.volumeMounts!.find((m) => m.name === volume)!.mountPath;
  t.equal(arg('config'), `${mountOf('config')}/config.yaml`);
  t.equal(arg('tls-cert'), `${mountOf('tls')}/tls.crt`);
  t.equal(arg('tls-key'), `${mountOf('tls')}/tls.key`);
  t.notOk(container.volumeMounts!.some((m) => m.subPath), 'no subPath mounts');
  t.equal(pod.volumes!.find((v) => v.name === 'config')?.configMap?.name, findObject(docs, 'ConfigMap').metadata.name);

  // Termination: preStop sleep, then the server's own drain, all inside the grace period.
  const server = parse(findObject<V1ConfigMap>(docs, 'ConfigMap').data!['config.yaml']!).server;
  const preStop = container.lifecycle?.preStop?.sleep?.seconds;
  t.ok(preStop && preStop > 0, 'preStop sleep');
  t.ok(pod.terminationGracePeriodSeconds! >= preStop! + server.shutdownTimeoutSeconds, 'grace period covers preStop + shutdown timeout');
  t.equal(healthPort!.containerPort, server.healthPort, 'the health port is the one the server listens on');
  t.equal(container.ports!.find((p) => p.name === 'https')!.containerPort, server.port);

  const pdb = findObject<V1PodDisruptionBudget>(docs, 'PodDisruptionBudget');
  t.ok(selects(pdb.spec!.selector, spec.template.metadata!.labels!), 'the PDB covers the webhook Pods');
  t.ok(pdb.spec!.maxUnavailable !== undefined && pdb.spec!.minAvailable === undefined, 'maxUnavailable, so a single replica can still be drained');
}

function checkRbac(t: Test, docs: K8sObject[]): void {
  const role = findObject<V1ClusterRole>(docs, 'ClusterRole');
  t.same(role.rules, [{ apiGroups: [''], resources: ['persistentvolumeclaims', 'services', 'nodes'], verbs: ['get', 'list', 'watch'] }]);
  const binding = findObject<V1ClusterRoleBinding>(docs, 'ClusterRoleBinding');
  const sa = findObject(docs, 'ServiceAccount');
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name });
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NS }]);
  t.equal(findObject<V1Deployment>(docs, 'Deployment').spec!.template.spec!.serviceAccountName, sa.metadata.name);
}

/** The server itself reads the rendered config with the Deployment's arguments: both must be valid. */
function checkConfig(t: Test, docs: K8sObject[]): void {
  const { container } = serviceAndDeployment(docs);
  const file = parse(findObject<V1ConfigMap>(docs, 'ConfigMap').data!['config.yaml']!);
  const commandLine = parseCommandLine(container.args!);
  const config = buildServerConfig(file, commandLine.overrides, RULE_IDS);
  t.equal(commandLine.configFile, '/etc/gracekeeper/config/config.yaml');
  t.equal(config.tls.certFile, '/etc/gracekeeper/tls/tls.crt');
  t.equal(config.tls.keyFile, '/etc/gracekeeper/tls/tls.key');
  t.same([config.server.port, config.server.healthPort], container.ports!.map((p) => p.containerPort), 'ports agree with the container');
  t.same(config.policy, parsePolicyConfig(file.policy, RULE_IDS), 'the policy section is the engine\'s');
  t.ok(config.exemptNamespaces.length > 0);
}

function checkOptional(t: Test, docs: K8sObject[], values: Record<string, any>): void {
  const { service, container } = serviceAndDeployment(docs);
  const netpol = docs.find((d) => d.kind === 'NetworkPolicy') as V1NetworkPolicy | undefined;
  t.equal(Boolean(netpol), Boolean(values.networkPolicy?.enabled), 'NetworkPolicy only when enabled');
  if (netpol) {
    const ports = netpol.spec!.ingress!.flatMap((i) => i.ports!.map((p) => p.port));
    t.same(ports, ['https', 'health']);
    for (const p of ports) t.ok(container.ports!.some((c) => c.name === p), `port ${p} exists on the container`);
  }
  const monitor = docs.find((d) => d.kind === 'ServiceMonitor') as (K8sObject & { spec: any }) | undefined;
  t.equal(Boolean(monitor), Boolean(values.serviceMonitor?.enabled), 'ServiceMonitor only when enabled');
  if (monitor) {
    const port = service.spec!.ports!.find((p) => p.name === monitor.spec.endpoints[0].port);
    t.equal(port?.targetPort, 'health', 'the ServiceMonitor scrapes the health port');
    t.ok(selects(monitor.spec.selector, service.metadata!.labels!), 'and selects the Service');
  }
}

t.test('wrong values fail at install with a message naming them', async (t) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ mode: 'everywhere' }, /\/mode': value must be one of 'opt-in', 'cluster'/],
    [{ clusterDefaultMode: 'off' }, /\/clusterDefaultMode'/],
    [{ 'webhooks.timeoutSeconds': 31 }, /\/webhooks\/timeoutSeconds': maximum: got 31, want 30/],
    [{ 'webhooks.failurePolicy.audit': 'Block' }, /\/webhooks\/failurePolicy\/audit'/],
    [{ 'certificates.source': 'vault' }, /\/certificates\/source'/],
    [{ 'certificates.source': 'secret' }, /\/certificates\/secret\/name': minLength/],
    [{ 'config.policy.rules': { 'grace-period-too-short': 'block' } }, /\/config\/policy\/rules\/grace-period-too-short'/],
    [{ 'config.policy.proxy.strategy': 'sidecar' }, /\/config\/policy\/proxy\/strategy'/],
    [{ 'config.policy.timings.drainSeconds': -1 }, /\/config\/policy\/timings\/drainSeconds'/],
    [{ 'podSecurityContext.runAsNonRoot': false }, /\/podSecurityContext\/runAsNonRoot'/],
    [{ 'service.type': 'LoadBalancer' }, /\/service\/type'/],
    [{ typo: true }, /additional properties 'typo' not allowed/],
    [{ terminationGracePeriodSeconds: 20 }, /terminationGracePeriodSeconds \(20\) must cover preStopSleepSeconds \+ server.shutdownTimeoutSeconds \(25\)/],
  ];
  for (const [set, message] of bad) {
    const r = tryRenderChart({ namespace: NS, set });
    t.not(r.status, 0, JSON.stringify(set));
    t.match(r.stderr, message, JSON.stringify(set));
  }
});

t.test('the chart refuses clusters older than 1.30 (matchConditions GA, preStop sleep on by default)', async (t) => {
  const old = tryRenderChart({ namespace: NS, kubeVersion: '1.29.9' });
  t.not(old.status, 0);
  t.match(old.stderr, /kubeVersion: >=1.30.0-0 which is incompatible with Kubernetes v1.29.9/);
  t.equal(tryRenderChart({ namespace: NS, kubeVersion: '1.37.2' }).status, 0);
});

t.test('webhooksAtUrl swaps only clientConfig, keeping every other field as rendered', async (t) => {
  const docs = renderChart({ namespace: NS, valuesFiles: [ciValues('cluster-enforce-cert-manager')] });
  const swapped = webhooksAtUrl(docs, 'https://127.0.0.1:9443/', 'Q0E=');
  t.same(swapped.map((c) => c.kind), ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
  for (const config of swapped) {
    const original = findObject<WebhookConfiguration>(docs, config.kind!);
    t.equal(config.metadata?.annotations?.['cert-manager.io/inject-ca-from'], undefined);
    config.webhooks!.forEach((hook, i) => {
      const before = original.webhooks![i]!;
      t.same(hook.clientConfig, { url: `https://127.0.0.1:9443${before.clientConfig.service!.path}`, caBundle: 'Q0E=' });
      t.same({ ...hook, clientConfig: before.clientConfig }, before, `${hook.name}: nothing else changed`);
    });
  }
});

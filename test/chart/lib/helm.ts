/**
 * The chart as the tests and the e2e harness see it: helm (built from the Go module proxy by
 * scripts/helm-build.sh on first use), `helm template` into parsed objects or a directory of files,
 * and the rendered webhook configurations with clientConfig pointed at a URL.
 *
 *   const docs = renderChart({ valuesFiles: [ciValues('opt-in-helm')], namespace: 'gk' });
 *   const files = renderChartToDir({ namespace: 'gk' }, dir);   // for server-side dry-run apply
 *   const hooks = webhooksAtUrl(docs, 'https://127.0.0.1:8443', caBundle);
 *   const crds = chartCrdFiles();   // cert-manager and ServiceMonitor CRDs for a dry run
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { parseManifests as parseRendered } from '../../../src/manifests/parse.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'charts', 'gracekeeper');
const CI_DIR = join(CHART_DIR, 'ci');

/** A rendered Kubernetes object: enough typing to find things, the rest is checked by the tests. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

let helmPath: string | undefined;

/** The helm binary: $GRACEKEEPER_HELM, or the cached build (built now when missing, which takes a minute or more). */
export function helmBinary(): string {
  helmPath ??= execFileSync('bash', [join(REPO_ROOT, 'scripts', 'helm-build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .at(-1)!;
  return helmPath;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs helm; never throws on a non-zero exit (tests look at it). */
export function helm(args: readonly string[]): HelmResult {
  try {
    const stdout = execFileSync(helmBinary(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { status: err.status ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e) };
  }
}

/** Names of the ci/*-values.yaml files, without the suffix: e.g. `opt-in-helm`. */
export function ciValuesNames(): string[] {
  return readdirSync(CI_DIR)
    .filter((f) => f.endsWith('-values.yaml'))
    .map((f) => f.slice(0, -'-values.yaml'.length))
    .sort();
}

export const ciValues = (name: string): string => join(CI_DIR, `${name}-values.yaml`);

export interface RenderOptions {
  releaseName?: string;
  namespace?: string;
  valuesFiles?: readonly string[];
  /** --set-json key=value pairs: values keep their JSON types. */
  set?: Record<string, unknown>;
  /** --kube-version, e.g. '1.37.2'. */
  kubeVersion?: string;
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ['template', opts.releaseName ?? 'gracekeeper', CHART_DIR, '--namespace', opts.namespace ?? 'gracekeeper'];
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  for (const [key, value] of Object.entries(opts.set ?? {})) args.push('--set-json', `${key}=${JSON.stringify(value)}`);
  if (opts.kubeVersion) args.push('--kube-version', opts.kubeVersion);
  return args;
}

/** `helm template` as text; throws with helm's message when rendering fails. */
export function renderChartText(opts: RenderOptions = {}): string {
  const r = helm(templateArgs(opts));
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `helm template` outcome without throwing: for tests of values the chart must refuse. */
export function tryRenderChart(opts: RenderOptions = {}): HelmResult {
  return helm(templateArgs(opts));
}

/** The rendered objects, in helm's install order. */
export function renderChart(opts: RenderOptions = {}): K8sObject[] {
  return parseManifests(renderChartText(opts));
}

/** The objects of `helm template` output (the engine's own manifest reader); throws on a YAML error. */
export function parseManifests(text: string): K8sObject[] {
  const parsed = parseRendered(text, 'helm template');
  if (parsed.errors.length > 0) throw new Error(`rendered YAML does not parse: ${parsed.errors[0]!.message}`);
  return parsed.manifests.map((m) => m.object as unknown as K8sObject);
}

/**
 * Renders the chart into `dir`, one file per object (`NN-<kind>-<name>.yaml`, install order), for
 * `kubectl apply --dry-run=server -f dir` or an API client. Returns the file paths.
 */
export function renderChartToDir(opts: RenderOptions, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return renderChart(opts).map((obj, i) => {
    const file = join(dir, `${String(i).padStart(2, '0')}-${obj.kind.toLowerCase()}-${obj.metadata.name}.yaml`);
    writeFileSync(file, stringify(obj));
    return file;
  });
}

export function findObject<T = K8sObject>(docs: readonly K8sObject[], kind: string, name?: string): T {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  return found[0] as T;
}

/**
 * Paths of the upstream CRDs the optional objects need (cert-manager Issuer/ClusterIssuer/Certificate,
 * ServiceMonitor), fetched through the Go module proxy by scripts/chart-crds.sh: install them before a
 * server-side dry run of the cert-manager or ServiceMonitor renderings.
 */
export function chartCrdFiles(): string[] {
  return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'chart-crds.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n');
}

export type WebhookConfiguration = V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration;

/**
 * The chart's Mutating and Validating webhook configurations with only clientConfig changed: the
 * Service reference becomes `<baseUrl><service path>` with the given caBundle (base64 PEM), as the
 * e2e suite registers them for a webhook running on loopback. Everything else is exactly as rendered.
 */
export function webhooksAtUrl(docs: readonly K8sObject[], baseUrl: string, caBundle: string): WebhookConfiguration[] {
  const configs = docs.filter((d) => d.kind === 'MutatingWebhookConfiguration' || d.kind === 'ValidatingWebhookConfiguration');
  return configs.map((d) => {
    const copy = structuredClone(d) as unknown as WebhookConfiguration;
    // cainjector's annotation has no meaning outside the cluster the chart is installed in.
    delete copy.metadata?.annotations?.['cert-manager.io/inject-ca-from'];
    for (const hook of copy.webhooks ?? []) {
      const path = hook.clientConfig.service?.path;
      if (!path) throw new Error(`webhook ${hook.name} has no service path to keep`);
      hook.clientConfig = { url: `${baseUrl.replace(/\/$/, '')}${path}`, caBundle };
    }
    return copy;
  });
}

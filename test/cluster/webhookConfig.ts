/**
 * The webhook configurations the e2e suite registers are the ones the Helm chart
 * renders (rules, namespaceSelectors, failurePolicy, timeoutSeconds, sideEffects,
 * reinvocationPolicy, matchConditions), with only clientConfig swapped from the
 * in-cluster Service to https://127.0.0.1:<port><path> and our test CA.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { REPO_ROOT } from './controlPlane.js';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'gracekeeper');

/** helm from $GRACEKEEPER_HELM or scripts/helm-build.sh (built from Go modules, cached outside the repo). */
export function helmBinary(): string {
  const explicit = process.env.GRACEKEEPER_HELM;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`GRACEKEEPER_HELM=${explicit} does not exist`);
    return explicit;
  }
  try {
    return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'helm-build.sh'), '--print'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`helm is not built: ${stderr || String(err)}`);
  }
}

export interface RenderOptions {
  /** `--set` values, e.g. { 'webhooks.failurePolicy.enforce': 'Ignore' }. */
  values?: Record<string, string | number | boolean>;
  release?: string;
  /** The release namespace (excluded by every namespaceSelector). */
  namespace?: string;
}

export interface WebhookConfigurations {
  mutating: V1MutatingWebhookConfiguration;
  validating: V1ValidatingWebhookConfiguration;
}

/** Render the chart's two webhook configurations with `helm template`. */
export function renderWebhookConfigurations(opts: RenderOptions = {}): WebhookConfigurations {
  const args = [
    'template',
    opts.release ?? 'gk',
    CHART_DIR,
    '--namespace',
    opts.namespace ?? 'gracekeeper-system',
    '--show-only',
    'templates/mutatingwebhookconfiguration.yaml',
    '--show-only',
    'templates/validatingwebhookconfiguration.yaml',
  ];
  for (const [k, v] of Object.entries(opts.values ?? {})) args.push('--set', `${k}=${String(v)}`);
  let out: string;
  try {
    out = execFileSync(helmBinary(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`helm template ${CHART_DIR} failed: ${stderr || String(err)}`);
  }
  const docs = parseAllDocuments(out)
    .map((d) => d.toJS() as { kind?: string } | null)
    .filter((d): d is { kind?: string } => d !== null && typeof d === 'object');
  const mutating = docs.find((d) => d.kind === 'MutatingWebhookConfiguration');
  const validating = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration');
  if (!mutating || !validating) {
    throw new Error(`helm template rendered no ${mutating ? 'Validating' : 'Mutating'}WebhookConfiguration:\n${out}`);
  }
  return { mutating: mutating as V1MutatingWebhookConfiguration, validating: validating as V1ValidatingWebhookConfiguration };
}

type AnyConfig = V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration;

/** Replace every entry's clientConfig.service with url `${baseUrl}${path}` and caBundle of `caPem`. */
export function pointAt<T extends AnyConfig>(config: T, baseUrl: string, caPem: string, name?: string): T {
  const copy = structuredClone(config);
  if (name) copy.metadata = { ...copy.metadata, name };
  for (const w of copy.webhooks ?? []) {
    const path = w.clientConfig.service?.path;
    if (!path) throw new Error(`webhook ${w.name} has no clientConfig.service.path to point at ${baseUrl}`);
    w.clientConfig = { url: `${baseUrl}${path}`, caBundle: Buffer.from(caPem).toString('base64') };
  }
  return copy;
}

/**
 * What every e2e scenario file needs: a control plane, the built webhook with a
 * live cluster view of it, the chart's webhook configurations registered, a
 * probe that shows the webhook is active, and small API helpers (namespaces,
 * denials, Warning headers, waiting for the Pods controllers create).
 */
import { readFileSync } from 'node:fs';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import type { KubernetesObject, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { startControlPlane } from './controlPlane.js';
import type { ControlPlane } from './controlPlane.js';
import { sleep, waitFor } from './processes.js';
import { registerWebhooks, startWebhook } from './webhook.js';
import type { Registration, RunningWebhook } from './webhook.js';
import type { RenderOptions } from '../chart/lib/helm.js';

export const MODE_LABEL = 'gracekeeper.io/mode';

/** Timings set explicitly so expected numbers in the scenarios follow from the config, not from defaults. */
export const TIMINGS = { appPreStopSeconds: 5, drainSeconds: 25, proxyShutdownSeconds: 5 } as const;

/** The webhook's config file in the scenarios; `policy` is merged over it. */
export function webhookConfig(policy: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    logLevel: 'info',
    // Re-read certificates and this file every second, so config changes in a scenario apply quickly.
    tls: { reloadIntervalSeconds: 1 },
    policy: { timings: TIMINGS, ...policy },
  };
}

/** Minimal tap surface used here, so helpers do not depend on tap's types. */
export interface Teardown {
  teardown(fn: () => unknown): void;
  comment(...args: unknown[]): void;
}

export interface Suite {
  cp: ControlPlane;
  webhook: RunningWebhook;
  registration: Registration;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  objects: KubernetesObjectApi;
}

export interface SuiteOptions {
  policy?: Record<string, unknown>;
  render?: RenderOptions;
}

export async function startSuite(t: Teardown, opts: SuiteOptions = {}): Promise<Suite> {
  const cp = await startControlPlane({ log: (m) => t.comment(m) });
  t.teardown(() => cp.stop());
  const webhook = await startWebhook({ clusterView: cp, config: webhookConfig(opts.policy) });
  t.teardown(() => webhook.stop());
  t.comment(`webhook listening on ${webhook.baseUrl}`);
  const registration = await registerWebhooks(cp, webhook, opts.render);
  const suite: Suite = {
    cp,
    webhook,
    registration,
    core: cp.kubeConfig.makeApiClient(CoreV1Api),
    apps: cp.kubeConfig.makeApiClient(AppsV1Api),
    batch: cp.kubeConfig.makeApiClient(BatchV1Api),
    objects: KubernetesObjectApi.makeApiClient(cp.kubeConfig),
  };
  await waitForWebhookActive(suite);
  return suite;
}

/**
 * Pods of the scenarios carry this label, and every scenario namespace has SERVED_SERVICE selecting it: the
 * webhook fixes drain delays and probes only where a Service routes traffic, as a real app's Service would.
 */
export const SERVED_LABELS = { 'e2e.gracekeeper.io/served': 'true' } as const;

/** The Service in every namespace createNamespace makes: port 80 to the scenario apps' port 8080. */
export const SERVED_SERVICE: V1Service = {
  metadata: { name: 'served' },
  spec: { selector: { ...SERVED_LABELS }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
};

/**
 * Create a namespace (optionally with a gracekeeper.io/mode label) with SERVED_SERVICE, and wait for its default
 * ServiceAccount.
 */
export async function createNamespace(s: Suite, name: string, mode?: 'enforce' | 'audit' | 'off', extraLabels: Record<string, string> = {}): Promise<void> {
  const labels = { ...extraLabels, ...(mode ? { [MODE_LABEL]: mode } : {}) };
  await s.core.createNamespace({ body: { metadata: { name, labels } } });
  await s.core.createNamespacedService({ namespace: name, body: SERVED_SERVICE });
  await waitFor(`default ServiceAccount in ${name}`, async () => ((await s.core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ? true : undefined), {
    timeoutMs: 60_000,
  });
}

/** A serving container without readiness probe or preStop: the webhook always has something to fix. */
export const PROBE_POD: V1Pod = {
  metadata: { name: 'gracekeeper-probe', labels: { ...SERVED_LABELS } },
  spec: { containers: [{ name: 'app', image: 'registry.example/probe:1.0', ports: [{ containerPort: 8080 }] }] },
};

/** A Deployment whose rollout stops its only pod: denied by rollout-drops-all-pods in enforce. */
export function dropsAllPodsDeployment(name: string): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%', maxSurge: 0 } },
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...SERVED_LABELS } },
        spec: { containers: [{ name: 'app', image: 'registry.example/web:1.0', ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

/**
 * The probe: in a namespace labelled enforce, a server-side dry-run Pod comes back
 * mutated (mutating webhook active) and a dry-run unsafe Deployment is denied by
 * Gracekeeper (validating webhook active). The API server learns of new webhook
 * configurations through an informer, so this polls.
 */
export async function waitForWebhookActive(s: Suite, namespace = 'gracekeeper-probe', timeoutMs = 60_000): Promise<void> {
  const exists = await s.core.readNamespace({ name: namespace }).then(
    () => true,
    () => false,
  );
  if (!exists) await createNamespace(s, namespace, 'enforce');
  await waitFor(
    'the webhooks to be active (dry-run Pod mutated, dry-run unsafe Deployment denied)',
    async () => {
      const pod = await s.core.createNamespacedPod({ namespace, body: PROBE_POD, dryRun: 'All' });
      if (!pod.spec?.containers[0]?.readinessProbe) return undefined;
      const denial = await denied(s.apps.createNamespacedDeployment({ namespace, body: dropsAllPodsDeployment('probe'), dryRun: 'All' }));
      return denial?.message.includes('rollout-drops-all-pods') ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, watch: s.webhook.process ? [s.webhook.process] : [] },
  );
}

export interface Denial {
  code: number;
  message: string;
}

/** Resolve to the API server's refusal of `p`, or undefined when it was accepted. */
export async function denied(p: Promise<unknown>): Promise<Denial | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof ApiException) {
      const raw = typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
      let message = raw;
      try {
        message = String((JSON.parse(raw) as { message?: unknown }).message ?? raw);
      } catch {
        /* not JSON */
      }
      return { code: err.code, message };
    }
    throw err;
  }
}

/** Server-side apply, as `kubectl apply --server-side` does. */
export function apply<T extends KubernetesObject>(s: Suite, obj: T, dryRun?: 'All'): Promise<T> {
  return s.objects.patch(obj, undefined, dryRun, 'gracekeeper-e2e', true, PatchStrategy.ServerSideApply);
}

/** The texts of the Warning headers of a response (`299 - "text"`, several joined by ", "). */
export function warningTexts(headers: Record<string, string>): string[] {
  const raw = headers.warning ?? headers.Warning;
  if (!raw) return [];
  return raw
    .split(/,\s*(?=\d{3} [^ ]+ ")/)
    .map((w) => /^\d{3} [^ ]+ "(.*)"$/.exec(w.trim())?.[1]?.replace(/\\"/g, '"') ?? w.trim());
}

/** Wait for the Pods the controllers create for `selector` in `namespace`. */
export async function waitForPods(s: Suite, namespace: string, selector: string, count = 1, timeoutMs = 60_000): Promise<V1Pod[]> {
  return waitFor(
    `${count} Pod(s) matching ${selector} in ${namespace}`,
    async () => {
      const pods = (await s.core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length >= count ? pods : undefined;
    },
    { timeoutMs },
  );
}

/** A position in the running webhook process's log: pass it to webhookLogSince to read only what follows. */
export function webhookLogMark(s: Suite): number {
  return readFileSync(webhookLogPath(s)).length;
}

/** The webhook's JSON log lines (pino, one object a line) written after `mark`; other lines are left out. */
export function webhookLogSince(s: Suite, mark = 0): Array<Record<string, unknown>> {
  return readFileSync(webhookLogPath(s))
    .subarray(mark)
    .toString('utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        const entry: unknown = JSON.parse(line);
        return entry !== null && typeof entry === 'object' ? [entry as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
}

function webhookLogPath(s: Suite): string {
  const p = s.webhook.process;
  if (!p) throw new Error('the webhook has not been started');
  return p.logPath;
}

/** Poll `fn` until it returns a value; a thin alias of waitFor for scenarios. */
export { waitFor, sleep };

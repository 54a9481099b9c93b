/**
 * Runs the built webhook (node dist/main.js, as `npm run build` makes it) on
 * loopback with a serving certificate from a CA made at test time, and
 * registers the chart's webhook configurations against it on a real API server.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { renderChart, webhooksAtUrl } from '../chart/lib/helm.js';
import type { RenderOptions, WebhookConfiguration } from '../chart/lib/helm.js';
import type { ControlPlane } from './controlPlane.js';
import { REPO_ROOT } from './controlPlane.js';
import { createCA } from './pki.js';
import type { CertificateAuthority } from './pki.js';
import { ManagedProcess, freePort, makeTempDir, removeTempDir, retryOnPortClash, waitFor } from './processes.js';
import { productionNodeFlags } from './node-flags.js';

/** The built server; GRACEKEEPER_WEBHOOK_MAIN points the suite at another build (e.g. a deliberately broken one). */
export const WEBHOOK_MAIN = process.env.GRACEKEEPER_WEBHOOK_MAIN || join(REPO_ROOT, 'dist', 'main.js');

export interface WebhookOptions {
  /** Contents of the --config file (written as JSON, which is YAML). */
  config?: Record<string, unknown>;
  /** Give the webhook a live cluster view from this control plane (default: no cluster view). */
  clusterView?: ControlPlane;
  /** CA that signs the serving certificate (default: a new one). */
  ca?: CertificateAuthority;
  /** Extra environment, e.g. POD_NAMESPACE. */
  env?: Record<string, string>;
  /** How long to wait for /readyz. */
  readyTimeoutMs?: number;
}

export interface RunningWebhook {
  /** https://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly port: number;
  readonly healthPort: number;
  readonly ca: CertificateAuthority;
  readonly configPath: string;
  readonly process: ManagedProcess | undefined;
  /** Replace the config file (the server re-reads it). */
  writeConfig(config: Record<string, unknown>): void;
  /** GET on the plain-HTTP health port. */
  health(path: string): Promise<{ status: number; body: string }>;
  /** Stop the process (SIGTERM, then SIGKILL); the registration stays, the port goes dead. */
  kill(): Promise<void>;
  /** Start the process again on the same ports with the same files. */
  restart(): Promise<void>;
  /** Stop and remove temp files. */
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

export async function startWebhook(opts: WebhookOptions = {}): Promise<RunningWebhook> {
  if (!existsSync(WEBHOOK_MAIN)) {
    throw new Error(`${WEBHOOK_MAIN} does not exist: run \`npm run build\` first (scripts/e2e.sh does)`);
  }
  const dir = makeTempDir('gracekeeper-webhook');
  const ca = opts.ca ?? createCA('gracekeeper-webhook-ca');
  const serving = ca.issue({ commonName: 'gracekeeper-webhook', hosts: ['127.0.0.1', 'localhost'] });
  const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), config: join(dir, 'config.yaml') };
  writeFileSync(files.cert, serving.certPem);
  writeFileSync(files.key, serving.keyPem, { mode: 0o600 });
  const writeConfig = (config: Record<string, unknown>): void => writeFileSync(files.config, JSON.stringify(config, null, 2));
  writeConfig(opts.config ?? {});

  let [port, healthPort] = [0, 0];
  const args = (): string[] => [
    // As the image runs it: its node flags size the heap, which the hostile-input faults lean on.
    ...productionNodeFlags(REPO_ROOT),
    WEBHOOK_MAIN,
    `--config=${files.config}`,
    '--host=127.0.0.1',
    `--port=${port}`,
    `--health-port=${healthPort}`,
    `--tls-cert=${files.cert}`,
    `--tls-key=${files.key}`,
    '--log-level=info',
    ...(opts.clusterView ? [`--kubeconfig=${opts.clusterView.kubeconfigPath}`] : ['--no-cluster-view']),
  ];
  const health = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${healthPort}${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.text() };
  };

  let proc: ManagedProcess | undefined;
  let starts = 0;
  const start = async (): Promise<void> => {
    starts++;
    // The webhook reads only the environment we give it: no stray GRACEKEEPER_* or KUBECONFIG from the shell.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', ...opts.env };
    proc = new ManagedProcess('gracekeeper-webhook', process.execPath, args(), {
      logPath: join(dir, `webhook-${starts}.log`),
      cwd: dir,
      env,
    });
    const p = proc;
    await waitFor('the webhook /readyz', async () => ((await health('/readyz')).status === 200 ? true : undefined), {
      timeoutMs: opts.readyTimeoutMs ?? 60_000,
      watch: [p],
    });
  };
  // A port from freePort can be taken before the webhook binds it: the first start is retried on new ports
  // (retryOnPortClash). Restarts keep the ports, as a real Pod's do.
  try {
    await retryOnPortClash(async () => {
      [port, healthPort] = [await freePort(), await freePort()];
      try {
        await start();
      } catch (err) {
        await proc?.stop(5000);
        throw err;
      }
    });
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }

  return {
    baseUrl: `https://127.0.0.1:${port}`,
    port,
    healthPort,
    ca,
    configPath: files.config,
    get process() {
      return proc;
    },
    writeConfig,
    health,
    async kill() {
      await proc?.stop(5000);
    },
    async restart() {
      await proc?.stop(5000);
      await start();
    },
    async stop() {
      await proc?.stop(5000);
      removeTempDir(dir);
    },
    logTail(lines = 40) {
      return proc?.logTail(lines) ?? '(not started)';
    },
  };
}

export interface Registration {
  readonly mutatingName: string;
  readonly validatingName: string;
  /** Delete both configurations. */
  remove(): Promise<void>;
}

/** The release the e2e suite renders the chart as: configurations are named `gk-gracekeeper`, and its namespace is excluded. */
const E2E_RELEASE = { releaseName: 'gk', namespace: 'gracekeeper-system' } as const;

function ofKind<T extends WebhookConfiguration>(configs: readonly WebhookConfiguration[], kind: string): T {
  const found = configs.find((c) => c.kind === kind);
  if (!found) throw new Error(`helm template rendered no ${kind}`);
  return found as T;
}

/**
 * Register the chart's Mutating and Validating webhook configurations (rendered by `helm template`,
 * only clientConfig swapped) pointing at `webhook`. `render` passes chart values (e.g.
 * `set: { 'webhooks.failurePolicy.enforce': 'Ignore' }`); `replace: true` updates the existing
 * configurations instead of creating them.
 */
export async function registerWebhooks(cp: ControlPlane, webhook: RunningWebhook, render: RenderOptions & { replace?: boolean } = {}): Promise<Registration> {
  const api = cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const { replace, ...renderOptions } = render;
  const configs = webhooksAtUrl(renderChart({ ...E2E_RELEASE, ...renderOptions }), webhook.baseUrl, Buffer.from(webhook.ca.certPem).toString('base64'));
  const mutating = ofKind<V1MutatingWebhookConfiguration>(configs, 'MutatingWebhookConfiguration');
  const validating = ofKind<V1ValidatingWebhookConfiguration>(configs, 'ValidatingWebhookConfiguration');
  if (replace) {
    // Update in place (as `helm upgrade` does), so there is no moment without webhooks.
    const name = (o: { metadata?: { name?: string } }): string => o.metadata?.name ?? '';
    const m = await api.readMutatingWebhookConfiguration({ name: name(mutating) });
    const v = await api.readValidatingWebhookConfiguration({ name: name(validating) });
    mutating.metadata = { ...mutating.metadata, resourceVersion: m.metadata?.resourceVersion };
    validating.metadata = { ...validating.metadata, resourceVersion: v.metadata?.resourceVersion };
    await api.replaceMutatingWebhookConfiguration({ name: name(mutating), body: mutating });
    await api.replaceValidatingWebhookConfiguration({ name: name(validating), body: validating });
  } else {
    await api.createMutatingWebhookConfiguration({ body: mutating });
    await api.createValidatingWebhookConfiguration({ body: validating });
  }
  const mutatingName = mutating.metadata?.name ?? '';
  const validatingName = validating.metadata?.name ?? '';
  return {
    mutatingName,
    validatingName,
    async remove() {
      await api.deleteMutatingWebhookConfiguration({ name: mutatingName }).catch(() => undefined);
      await api.deleteValidatingWebhookConfiguration({ name: validatingName }).catch(() => undefined);
    },
  };
}

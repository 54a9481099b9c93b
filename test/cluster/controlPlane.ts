/**
 * A real Kubernetes control plane on loopback for end-to-end tests: etcd,
 * kube-apiserver and kube-controller-manager, built from Go modules by
 * scripts/e2e-build.sh (as controller-runtime's envtest does). There is no
 * kubelet and no scheduler: Pods are created by the controllers and stay
 * Pending, which is all an admission webhook ever sees.
 *
 *   const cp = await startControlPlane();
 *   t.teardown(() => cp.stop());
 *   const core = cp.kubeConfig.makeApiClient(CoreV1Api);
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createCA, createServiceAccountKeys } from './pki.js';
import type { CertificateAuthority } from './pki.js';
import { ManagedProcess, freePort, makeTempDir, removeTempDir, retryOnPortClash, waitFor } from './processes.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Controllers the harness runs: enough for Deployments, StatefulSets, Jobs, GC and namespaces. */
export const DEFAULT_CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'job-controller',
  'cronjob-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
] as const;

export interface ControlPlaneOptions {
  /** Directory holding etcd, kube-apiserver, kube-controller-manager. Default: $GRACEKEEPER_K8S_BIN or `scripts/e2e-build.sh --print`. */
  binDir?: string;
  /** Controller names for kube-controller-manager --controllers. */
  controllers?: readonly string[];
  /** Extra kube-apiserver flags, e.g. ['--feature-gates=...']. */
  apiServerArgs?: readonly string[];
  /** Set false to run without kube-controller-manager. */
  controllerManager?: boolean;
  /** kube-apiserver --authorization-mode (default ['RBAC']; a real node needs ['Node', 'RBAC']). */
  authorizationModes?: readonly string[];
  /** Extra kube-controller-manager flags (later flags win, e.g. --service-cluster-ip-range). */
  controllerManagerArgs?: readonly string[];
  /**
   * Give kube-controller-manager the service-account signing key and the root CA
   * (--service-account-private-key-file, --root-ca-file), which Pods that really run need.
   */
  controllerManagerCredentials?: boolean;
  /** How long to wait for each component to become ready. */
  readyTimeoutMs?: number;
  /** Progress messages (default: none). */
  log?: (msg: string) => void;
}

export interface ControlPlane {
  /** Admin (system:masters) access to the API server. */
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The CA that signed the API server's serving certificate (also usable for other test certs). */
  readonly ca: CertificateAuthority;
  readonly token: string;
  /** Working directory with certificates, kubeconfig and component logs. */
  readonly dir: string;
  /** gitVersion reported by the API server's /version. */
  readonly version: string;
  readonly processes: readonly ManagedProcess[];
  /** Raw HTTPS GET against the API server as admin. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** Stop all components (reverse order) and remove temp dirs. Safe to call twice. */
  stop(): Promise<void>;
}

/** Resolve the directory with the control-plane binaries, or explain how to build them. */
export function resolveBinDir(explicit?: string): string {
  const dir =
    explicit ??
    process.env.GRACEKEEPER_K8S_BIN ??
    (() => {
      try {
        return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'e2e-build.sh'), '--print'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }).trim();
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr?.trim();
        throw new Error(`control-plane binaries are not built: ${stderr || String(err)}`);
      }
    })();
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
    if (!existsSync(join(dir, b))) {
      throw new Error(`control-plane binary ${b} not found in ${dir}; run scripts/e2e-build.sh`);
    }
  }
  return dir;
}

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on loopback. freePort's ports are free when chosen,
 * not when the component binds them: an outgoing connection of a test running next to this one can take one as
 * its ephemeral port in between (seen once in CI: etcd exited with "bind: address already in use"). Such a
 * start is retried on new ports; any other failure is thrown at once.
 */
export function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  return retryOnPortClash(
    () => startControlPlaneOnce(opts),
    (attempt) => opts.log?.(`a port was taken before its component bound it; starting again on new ports (attempt ${attempt})`),
  );
}

async function startControlPlaneOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? ((): void => {});
  const binDir = resolveBinDir(opts.binDir);
  const timeoutMs = opts.readyTimeoutMs ?? 120_000;
  const dir = makeTempDir('gracekeeper-cp');
  const etcdDir = makeTempDir('gracekeeper-etcd', true);
  const procs: ManagedProcess[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const p of [...procs].reverse()) await p.stop();
    removeTempDir(etcdDir);
    removeTempDir(dir);
  };

  try {
    // ---- PKI and credentials -------------------------------------------
    const ca = createCA('gracekeeper-e2e-ca');
    const serving = ca.issue({
      commonName: 'kube-apiserver',
      hosts: ['127.0.0.1', 'localhost', '10.0.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    });
    const sa = createServiceAccountKeys();
    const token = randomBytes(24).toString('hex');
    const files = {
      ca: join(dir, 'ca.crt'),
      cert: join(dir, 'apiserver.crt'),
      key: join(dir, 'apiserver.key'),
      saPub: join(dir, 'sa.pub'),
      saKey: join(dir, 'sa.key'),
      tokens: join(dir, 'tokens.csv'),
      kubeconfig: join(dir, 'kubeconfig'),
    };
    writeFileSync(files.ca, ca.certPem);
    writeFileSync(files.cert, serving.certPem);
    writeFileSync(files.key, serving.keyPem, { mode: 0o600 });
    writeFileSync(files.saPub, sa.publicPem);
    writeFileSync(files.saKey, sa.privatePem, { mode: 0o600 });
    writeFileSync(files.tokens, `${token},gracekeeper-admin,gracekeeper-admin-uid,"system:masters"\n`, { mode: 0o600 });

    // ---- etcd ------------------------------------------------------------
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    log(`starting etcd on ${etcdUrl} (data in ${etcdDir})`);
    const etcd = new ManagedProcess(
      'etcd',
      join(binDir, 'etcd'),
      [
        '--name=gracekeeper',
        `--data-dir=${join(etcdDir, 'data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=gracekeeper=${peerUrl}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      { logPath: join(dir, 'etcd.log'), cwd: dir },
    );
    procs.push(etcd);
    await waitFor(
      'etcd /health',
      async () => {
        const r = await httpGet(`${etcdUrl}/health`);
        return r.status === 200 && r.body.includes('"true"') ? true : undefined;
      },
      { timeoutMs, watch: [etcd] },
    );

    // ---- kube-apiserver ---------------------------------------------------
    const server = `https://127.0.0.1:${apiPort}`;
    log(`starting kube-apiserver on ${server}`);
    const apiserver = new ManagedProcess(
      'kube-apiserver',
      join(binDir, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${files.cert}`,
        `--tls-private-key-file=${files.key}`,
        `--client-ca-file=${files.ca}`,
        `--token-auth-file=${files.tokens}`,
        `--authorization-mode=${(opts.authorizationModes ?? ['RBAC']).join(',')}`,
        '--anonymous-auth=false',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${files.saPub}`,
        `--service-account-signing-key-file=${files.saKey}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--endpoint-reconciler-type=none',
        '--profiling=false',
        '--v=1',
        ...(opts.apiServerArgs ?? []),
      ],
      { logPath: join(dir, 'kube-apiserver.log'), cwd: dir },
    );
    procs.push(apiserver);
    const get = (path: string): Promise<{ status: number; body: string }> => httpsGet(`${server}${path}`, ca.certPem, token);
    await waitFor(
      'kube-apiserver /readyz',
      async () => ((await get('/readyz')).status === 200 ? true : undefined),
      { timeoutMs, watch: [etcd, apiserver], intervalMs: 500 },
    );
    const version = String((JSON.parse((await get('/version')).body) as { gitVersion?: unknown }).gitVersion);
    log(`kube-apiserver ${version} is ready`);

    // ---- kubeconfig -------------------------------------------------------
    const kubeconfigDoc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'gracekeeper-e2e', cluster: { server, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64') } },
      ],
      users: [{ name: 'gracekeeper-admin', user: { token } }],
      contexts: [{ name: 'gracekeeper-e2e', context: { cluster: 'gracekeeper-e2e', user: 'gracekeeper-admin' } }],
      'current-context': 'gracekeeper-e2e',
      preferences: {},
    };
    writeFileSync(files.kubeconfig, JSON.stringify(kubeconfigDoc, null, 2), { mode: 0o600 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(files.kubeconfig);

    // ---- kube-controller-manager ------------------------------------------
    if (opts.controllerManager !== false) {
      log('starting kube-controller-manager');
      const kcm = new ManagedProcess(
        'kube-controller-manager',
        join(binDir, 'kube-controller-manager'),
        [
          `--kubeconfig=${files.kubeconfig}`,
          '--leader-elect=false',
          `--controllers=${(opts.controllers ?? DEFAULT_CONTROLLERS).join(',')}`,
          '--secure-port=0',
          '--service-cluster-ip-range=10.0.0.0/24',
          '--concurrent-deployment-syncs=5',
          '--concurrent-replicaset-syncs=5',
          '--v=1',
          ...(opts.controllerManagerCredentials ? [`--service-account-private-key-file=${files.saKey}`, `--root-ca-file=${files.ca}`] : []),
          ...(opts.controllerManagerArgs ?? []),
        ],
        { logPath: join(dir, 'kube-controller-manager.log'), cwd: dir },
      );
      procs.push(kcm);
      // The serviceaccount controller creating "default/default" shows the manager is up and syncing.
      const core = kubeConfig.makeApiClient(CoreV1Api);
      await waitFor(
        'kube-controller-manager to create the default ServiceAccount',
        async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })) ? true : undefined),
        { timeoutMs, watch: [etcd, apiserver, kcm], intervalMs: 500 },
      );
      log('kube-controller-manager is syncing');
    }

    return {
      kubeConfig,
      kubeconfigPath: files.kubeconfig,
      server,
      ca,
      token,
      dir,
      version,
      processes: procs,
      get,
      stop,
    };
  } catch (err) {
    const logs = procs.map((p) => `--- ${p.name} (${p.logPath}) ---\n${p.logTail(25)}`).join('\n');
    await stop();
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`control plane failed to start: ${message}\n${logs}`, { cause: err });
  }
}

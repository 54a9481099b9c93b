/**
 * createLiveClusterView's own checks, and its real client-node wiring against a loopback socket that
 * accepts connections and never answers (a hung API server): requests time out, nothing blocks or throws.
 */
import t from 'tap';
import type { Test } from 'tap';
import { createServer, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createLiveClusterView, type LiveClusterViewOptions } from '../../src/cluster/live.js';

const until = async (what: string, check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

t.test('a kubeconfig that names no cluster is refused with a named error', async (t) => {
  t.throws(() => createLiveClusterView({ kubeConfig: new KubeConfig(), fallbackKubernetesVersion: '1.34' }), {
    code: 'CLUSTER_UNAVAILABLE',
    where: 'kubeConfig',
    message: /names no cluster/,
  });
});

t.test('resyncSeconds must be a whole number of seconds, at least 1', async (t) => {
  const kubeConfig = kubeConfigFor('https://127.0.0.1:6443');
  for (const resyncSeconds of [0, 1.5, -3]) {
    t.throws(() => createLiveClusterView({ kubeConfig, fallbackKubernetesVersion: '1.34', resyncSeconds }), {
      code: 'CONFIG_INVALID',
      where: 'resyncSeconds',
    });
  }
  t.doesNotThrow(() => createLiveClusterView({ kubeConfig, fallbackKubernetesVersion: '1.34', resyncSeconds: 1 }));
});

/** A loopback socket that accepts connections and never answers, as a hung API server would. */
async function silentServer(t: Test): Promise<{ url: string; open: Set<Socket>; connections: () => number }> {
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    open.add(socket);
    socket.resume(); // read, so that the client closing is noticed
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `https://127.0.0.1:${port}`, open, connections: () => connections };
}

/** A live view of `url` that the test stops. */
function viewOf(t: Test, url: string, timing: Pick<LiveClusterViewOptions, 'requestTimeoutMs' | 'syncTimeoutMs' | 'retry'>) {
  const source = createLiveClusterView({ kubeConfig: kubeConfigFor(url), fallbackKubernetesVersion: '1.31', ...timing });
  t.teardown(() => source.stop());
  return source;
}

t.test('an API server that never answers: requests time out, lookups say why, stop() asks no more', async (t) => {
  const api = await silentServer(t);
  const source = viewOf(t, api.url, { requestTimeoutMs: 200, syncTimeoutMs: 300, retry: { initialMs: 50, maxMs: 100 } });

  await source.start();
  await until('degraded', () => source.state() === 'degraded');
  t.ok(api.connections() >= 4, 'the three lists and /version were attempted');
  t.match(source.view.getService('shop', 'db'), {
    found: false,
    reason: /^cannot tell whether Service 'db' in namespace 'shop' exists: the Service cache could not be loaded \(API server failing since .*: list services: no answer within 200 ms\)$/,
  });
  t.same(source.view.versions(), { minKubelet: '1.31', source: 'config kubernetesVersion (node kubelet versions not known yet)' });

  await source.stop();
  await until('every connection closed', () => api.open.size === 0);
  const after = api.connections();
  // Several times the longest retry delay: a retry still scheduled would have connected by now.
  await new Promise((r) => setTimeout(r, 400));
  t.equal(api.connections(), after, 'no new connections after stop()');
});

t.test('stop() drops requests still waiting for an answer', async (t) => {
  const api = await silentServer(t);
  const source = viewOf(t, api.url, { requestTimeoutMs: 600_000, syncTimeoutMs: 100 });
  await source.start();
  t.equal(source.state(), 'syncing', 'nothing failed yet: the lists are still waiting');
  await until('the three lists and /version connected', () => api.open.size === 4);
  await source.stop();
  await until('every connection closed long before the request timeout', () => api.open.size === 0);
});

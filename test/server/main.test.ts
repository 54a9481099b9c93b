import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates.js';
import { drainAndClose } from '../../src/server/shutdown.js';
import { loadServerConfig, parseCommandLine } from '../../src/config/server.js';
import { RULE_IDS } from '../../src/rules/index.js';
import { createLogger } from '../../src/server/logger.js';
import { loadReview, testServer } from '../helpers/server.js';
import { freePort, isPortClash, retryOnPortClash } from '../cluster/processes.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Each spawn compiles the sources on the fly: slow on a busy two-core machine.
t.setTimeout(300_000);
const tsImport = fileURLToPath(new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url));

/** Runs src/main.ts as `node dist/main.js` would run, with only the environment given. */
function runMain(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', tsImport, '--no-warnings', join(root, 'src/main.ts'), ...args], {
    cwd: root,
    // Type checking is `npm run typecheck`'s job; compiling without it keeps the spawn fast.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TS_NODE_TRANSPILE_ONLY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

t.test('startup config: a missing or bad file is a one-line error naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gracekeeper-main-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.yaml'), 'server:\n  healthPort: -1\n');
  writeFileSync(join(dir, 'good.yaml'), 'mode: audit\n');
  const load = (argv: string[], env: Record<string, string> = {}) => loadServerConfig(parseCommandLine(argv), env, RULE_IDS);
  t.throws(() => load(['--config', join(dir, 'missing.yaml')]), { code: 'CONFIG_UNREADABLE', message: /missing\.yaml: no such file$/ });
  t.throws(() => load([], { GRACEKEEPER_CONFIG: join(dir, 'bad.yaml') }), { message: 'config.server.healthPort: expected integer to be greater or equal to 0' });
  const good = load([], { GRACEKEEPER_CONFIG: join(dir, 'good.yaml') });
  t.equal(good.config.mode, 'audit');
  t.equal(good.bytes?.toString(), 'mode: audit\n', 'the bytes a reload compares against');
  writeFileSync(join(dir, 'good.yaml'), 'mode: off\n');
  t.equal(good.load().mode, 'off', 'load() reads the file again with the same overrides');
  t.equal(load(['--mode', 'enforce'], { GRACEKEEPER_CONFIG: join(dir, 'good.yaml') }).load().mode, 'enforce', 'flags still win on reload');
});

t.test('the process: a bad value exits 2 with one line on stderr', async (t) => {
  const run = runMain(['--port', 'eighty']);
  t.equal(await run.exited, 2);
  t.equal(run.stderr(), 'gracekeeper: --port: expected integer\n');
  t.equal(run.stdout(), '');
});

t.test('a real process: serves over TLS, drains on SIGTERM (not ready at once, still answering), exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gracekeeper-main-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createCertificateAuthority();
  const serving = await issueCertificate(ca, { commonName: 'localhost', sans: ['127.0.0.1'] });
  writeFileSync(join(dir, 'tls.crt'), serving.cert);
  writeFileSync(join(dir, 'tls.key'), serving.key);
  writeFileSync(join(dir, 'config.yaml'), 'server:\n  shutdownDelaySeconds: 2\n  shutdownTimeoutSeconds: 10\n');
  let port = 0;
  let healthPort = 0;
  const readyz = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status;
    } catch {
      return 0;
    }
  };
  const start = async () => {
    [port, healthPort] = [await freePort(), await freePort()];
    const started = runMain(
      ['--host', '127.0.0.1', '--port', String(port), '--health-port', String(healthPort), '--tls-cert', join(dir, 'tls.crt'), '--no-cluster-view'],
      { GRACEKEEPER_CONFIG: join(dir, 'config.yaml'), GRACEKEEPER_TLS_KEY: join(dir, 'tls.key'), POD_NAMESPACE: 'gracekeeper' },
    );
    let exited = false;
    void started.exited.then(() => (exited = true));
    for (let i = 0; i < 300 && !exited && (await readyz()) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    if (exited && isPortClash(started.stderr())) throw new Error(started.stderr());
    return started;
  };
  // A port chosen free can be taken before the server binds it: start again on new ports.
  const run = await retryOnPortClash(start);
  t.teardown(() => run.child.kill('SIGKILL'));
  const review = JSON.stringify(loadReview('pod-create-proxy.json'));
  const mutate = () =>
    new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca: ca.cert, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(review);
    });

  t.equal(await readyz(), 200, `ready ${run.stderr()}`);
  t.equal(await mutate(), 200, 'answers a review over TLS');
  t.equal((await fetch(`http://127.0.0.1:${healthPort}/mutate`, { method: 'POST', body: review, headers: { 'content-type': 'application/json' } })).status, 404, 'no admission on the plain-HTTP port');

  run.child.kill('SIGTERM');
  let status = await readyz();
  for (let i = 0; i < 50 && status === 200; i++) status = await readyz();
  t.equal(status, 503, 'not ready once SIGTERM arrives');
  t.equal(await mutate(), 200, 'still answers during the shutdown delay');
  t.equal(await run.exited, 0, 'exits cleanly');
  const lines = run.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string });
  t.same(
    lines.map((l) => l.msg).filter((m) => /signal|shutting|closing|closed/.test(m)),
    ['signal received', 'shutting down: not ready, still serving during the delay', 'closing listeners', 'closed'],
  );
});

t.test('drainAndClose: readiness flips first, requests keep being served during the delay, then it closes', async (t) => {
  const { app, readiness } = testServer();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const draining = drainAndClose({ readiness, delayMs: 500, close: [() => app.close()], logger: createLogger('silent') });
  t.equal(readiness.isShuttingDown, true, 'not ready synchronously');
  t.equal((await fetch(`${url}/readyz`)).status, 503);
  const res = await fetch(`${url}/mutate`, { method: 'POST', body: JSON.stringify(loadReview('pod-create-proxy.json')), headers: { 'content-type': 'application/json' } });
  t.equal(res.status, 200, 'reviews still answered during the delay');
  await draining;
  await t.rejects(fetch(`${url}/healthz`), 'closed after the delay');
});

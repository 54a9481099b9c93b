/**
 * Starts the two servers under test as child processes (output to a log file: the webhook keeps logging every
 * review, as in production) and times start to ready.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ManagedProcess, freePort, waitFor } from '../test/cluster/processes.js';
import type { BenchCertificates } from './certificates.js';

/** How to run a script with node: extra node flags (e.g. a TypeScript loader in tests) and the entry file. */
export interface NodeEntry {
  nodeArgs: string[];
  entry: string;
}

export interface RunningServer {
  name: string;
  /** TLS port of the admission endpoints. */
  port: number;
  pid: number;
  startToReadyMs: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Status code of a GET, or undefined when there is no answer yet. */
function status(url: string, caPem?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const onResponse = (res: { statusCode?: number; resume(): void }) => {
      res.resume();
      resolve(res.statusCode);
    };
    const req = caPem ? httpsGet(url, { ca: caPem, timeout: 1000 }, onResponse) : httpGet(url, { timeout: 1000 }, onResponse);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** The environment of a server: ours, minus anything that would change its config or load extra code. */
function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name === 'NODE_OPTIONS' || name === 'KUBECONFIG' || name.startsWith('GRACEKEEPER_')) delete env[name];
  return env;
}

async function start(name: string, args: string[], readyUrl: string, logDir: string, caPem?: string): Promise<Omit<RunningServer, 'port'>> {
  const began = performance.now();
  const child = new ManagedProcess(name, process.execPath, args, { logPath: join(logDir, `${name}.log`), env: serverEnv() });
  await waitFor(`${name} to answer ${readyUrl}`, async () => ((await status(readyUrl, caPem)) === 200 ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 5,
    watch: [child],
  });
  const startToReadyMs = performance.now() - began;
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  return {
    name,
    pid: child.pid,
    startToReadyMs,
    process: child,
    stop: async () => {
      await child.stop(15_000);
    },
  };
}

export interface WebhookLaunch extends NodeEntry {
  configFile: string;
  certificates: BenchCertificates;
  logDir: string;
  /** Write a V8 CPU profile (node --cpu-prof) into this folder when the server exits. */
  profileDir?: string;
}

/** The production webhook: real TLS, the shipped config, no cluster view, /readyz on the plain-HTTP port. */
export async function startWebhook(l: WebhookLaunch, name = 'webhook'): Promise<RunningServer> {
  const [port, healthPort] = [await freePort(), await freePort()];
  const args = [
    ...l.nodeArgs,
    ...(l.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${l.profileDir}`] : []),
    l.entry,
    `--config=${l.configFile}`,
    '--host=127.0.0.1',
    `--port=${port}`,
    `--health-port=${healthPort}`,
    `--tls-cert=${l.certificates.certFile}`,
    `--tls-key=${l.certificates.keyFile}`,
    '--no-cluster-view',
  ];
  return { port, ...(await start(name, args, `http://127.0.0.1:${healthPort}/readyz`, l.logDir)) };
}

export interface BaselineLaunch extends NodeEntry {
  certificates: BenchCertificates;
  logDir: string;
}

/** The bare node:https baseline, ready when it answers a GET over TLS. */
export async function startBaseline(l: BaselineLaunch, name = 'baseline'): Promise<RunningServer> {
  const port = await freePort();
  const args = [...l.nodeArgs, l.entry, String(port), l.certificates.certFile, l.certificates.keyFile];
  return { port, ...(await start(name, args, `https://127.0.0.1:${port}/readyz`, l.logDir, l.certificates.caPem)) };
}

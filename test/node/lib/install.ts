/**
 * What test/node/install.node.ts needs besides the node: the image built by scripts/image-build.sh, helm
 * against the node's API server, a bounded stream of admission requests (server-side dry-run Pod creations)
 * with client-side latencies, the serial of the certificate the webhook's Service serves, and the results
 * table (bench/INSTALL.md).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { REPO_ROOT } from '../../cluster/controlPlane.js';
import { helmBinary } from '../../chart/lib/helm.js';
import { RateLoop, assertTestAddress } from './load.js';
import type { LoadCounts, LoadOptions } from './load.js';

const execFileAsync = promisify(execFile);

export interface BuiltImage {
  readonly dir: string;
  /** repository:tag, the chart's default */
  readonly image: string;
  /** sha256:<config digest> */
  readonly id: string;
  readonly archive: string;
  readonly node: string;
  readonly debianPackages: readonly string[];
}

/** Build (or reuse) the image: `scripts/image-build.sh`, or the directory in $GRACEKEEPER_IMAGE_DIR. */
export function buildImage(): BuiltImage {
  const dir =
    process.env.GRACEKEEPER_IMAGE_DIR ??
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'image-build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 })
      .trim()
      .split('\n')
      .at(-1)!;
  const meta = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as Omit<BuiltImage, 'dir'>;
  return { ...meta, dir, archive: join(dir, meta.archive) };
}

/**
 * helm with the node's kubeconfig; rejects with helm's stderr on failure. Asynchronous, so a signal or tap's
 * timeout still reaches the node's teardown while `helm install --wait` waits.
 */
export async function helmRun(kubeconfig: string, args: readonly string[], timeoutMs = 600_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(helmBinary(), [...args, `--kubeconfig=${kubeconfig}`], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')}: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}

export interface AdmissionCounts extends LoadCounts {
  /** Client-side latency of every answered request (ms), in the order sent. */
  latencies: number[];
}

/**
 * A fixed-rate stream of server-side dry-run Pod creations in `namespace`, bounded in count and time.
 * `check` looks at the Pod the API server returns (after every admission webhook) and names what is
 * wrong, or returns undefined; a refused request counts as failed with the API server's message.
 */
export function admissionLoad(
  core: CoreV1Api,
  namespace: string,
  pod: V1Pod,
  check: (admitted: V1Pod) => string | undefined,
  opts: LoadOptions,
): { loop: RateLoop; counts: AdmissionCounts } {
  const latencies: number[] = [];
  const loop = new RateLoop(opts, async () => {
    const t0 = performance.now();
    try {
      const admitted = await core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' });
      latencies.push(performance.now() - t0);
      return check(admitted);
    } catch (err) {
      latencies.push(performance.now() - t0);
      const e = err as { code?: number; body?: unknown; message?: string };
      const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '');
      let message = e.message ?? String(err);
      try {
        message = String((JSON.parse(body) as { message?: unknown }).message ?? message);
      } catch {
        /* not JSON */
      }
      return `${e.code ?? 'error'} ${message.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR').slice(0, 300)}`;
    }
  });
  const counts = Object.assign(loop.counts, { latencies }) as AdmissionCounts;
  loop.start();
  return { loop, counts };
}

/** Nearest-rank percentile of `xs` (ms). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Serial number (hex) of the certificate served at ip:port for `servername`, verified against `ca`. */
export function servedSerial(ip: string, port: number, servername: string, ca: string): Promise<string> {
  assertTestAddress(ip);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port, servername, ca, timeout: 3000 }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('timeout', () => socket.destroy(new Error(`TLS to ${ip}:${port} timed out`)));
    socket.on('error', reject);
  });
}

export interface InstallRow {
  scenario: string;
  source: string;
  failurePolicy: string;
  counts: AdmissionCounts;
  /** Seconds from the action (restart, Secret replaced) to its end (rolled out, new certificate served). */
  durationS: number;
  note: string;
}

const ms = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(0));

export function renderInstallTable(rows: readonly InstallRow[]): string {
  const lines = [
    '| scenario | certificates | failurePolicy | admissions sent | failed | p50 ms | p90 ms | p99 ms | max ms | duration (s) | notes |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const l = r.counts.latencies;
    const reasons = Object.entries(r.counts.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${v}× ${k.replace(/\|/g, '/')}`)
      .join('; ');
    lines.push(
      `| ${r.scenario} | ${r.source} | ${r.failurePolicy} | ${r.counts.sent} | ${r.counts.failed} | ${ms(percentile(l, 50))} | ${ms(percentile(l, 90))} | ` +
        `${ms(percentile(l, 99))} | ${ms(Math.max(...l))} | ${r.durationS.toFixed(1)} | ${[r.note, reasons].filter(Boolean).join('; ') || '-'} |`,
    );
  }
  return lines.join('\n');
}

export function writeInstallReport(path: string, rows: readonly InstallRow[], facts: readonly string[], others: readonly string[]): void {
  const text = [
    '# The chart installed on a real node: admissions through its Service during its own rollout and a certificate rotation',
    '',
    'Written by `npm run test:node` (test/node/install.node.ts); do not edit by hand. One run on a real kubelet:',
    ...facts.map((f) => `- ${f}`),
    '',
    renderInstallTable(rows),
    '',
    ...others.map((o) => `- ${o}`),
    '',
  ].join('\n');
  writeFileSync(path, text);
}

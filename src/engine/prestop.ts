import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { hasShell, minorOf } from './containers.js';
import { CSQL_MIN_SIGTERM_DELAY_ENV, MIN_SIGTERM_DELAY_FLAG, gracePeriodSeconds, hasFlag } from './shutdown.js';
import type { RuleContext } from './types.js';

/** Kubelet minors from which a feature is on by default. */
export const NATIVE_SIDECAR_MINOR = 29;
export const SLEEP_ACTION_MINOR = 30;

const CLOUD_SQL_PROXY_V2 = /(^|\/)cloud-sql-proxy(?::([^@/]+))?(@.*)?$/;
/** cloud-sql-proxy gained --min-sigterm-delay (and so CSQL_PROXY_MIN_SIGTERM_DELAY) in 2.12.0. */
const CSQL_MIN_SIGTERM_DELAY_SINCE = [2, 12] as const;

/** The lowest kubelet minor, NaN when unreadable (then no version-gated feature is used). */
function kubeletMinor(ctx: RuleContext): number {
  return minorOf(ctx.cluster.versions().minKubelet);
}

/** "kubelet 1.28 (config kubernetesVersion)", for messages. */
export function kubeletLabel(ctx: RuleContext): string {
  const v = ctx.cluster.versions();
  return `kubelet ${v.minKubelet} (${v.source})`;
}

export type Strategy = 'prestop' | 'native-sidecar';

/**
 * The strategy in force: `auto` and `native-sidecar` give native sidecars only when every kubelet supports
 * them. Below 1.29 the API server drops `restartPolicy` from init containers (feature gate off), so a moved
 * proxy would become a plain init container that never exits and the Pod would hang in Init: fall back to preStop.
 */
export function resolveStrategy(ctx: RuleContext): Strategy {
  if (ctx.config.proxy.strategy === 'prestop') return 'prestop';
  return kubeletMinor(ctx) >= NATIVE_SIDECAR_MINOR ? 'native-sidecar' : 'prestop';
}

/**
 * Moves the named regular containers to the front of initContainers as native sidecars (restartPolicy
 * Always), in their original order, so they start before every init container and the app, and stop after.
 */
export function moveToNativeSidecars(spec: V1PodSpec, names: ReadonlySet<string>): void {
  const moving: V1Container[] = [];
  const staying: V1Container[] = [];
  for (const c of spec.containers) (names.has(c.name) ? moving : staying).push(c);
  if (moving.length === 0) return;
  spec.containers = staying;
  // Each container of the spec is the fix pass's own copy (the Rule contract), so it can be edited in place.
  for (const c of moving) c.restartPolicy = 'Always';
  spec.initContainers = [...moving, ...(spec.initContainers ?? [])];
}

/**
 * How a container can be kept alive for N seconds after termination starts:
 * - `sleep-action`: lifecycle.preStop.sleep (on by default from kubelet 1.30);
 * - `exec-sleep`: preStop exec [sleep, N], only for images known to ship a shell;
 * - `proxy-env`: CSQL_PROXY_MIN_SIGTERM_DELAY for the distroless cloud-sql-proxy v2 (2.12.0+), which has no
 *   `sleep` binary but delays its own shutdown.
 */
export type DelayMethod = 'sleep-action' | 'exec-sleep' | 'proxy-env';

/** The cloud-sql-proxy v2 image tag is 2.12.0 or later (or `latest`, or no tag, which means latest). */
function csqlSupportsMinSigtermDelay(image: string | undefined): boolean {
  const m = CLOUD_SQL_PROXY_V2.exec(image ?? '');
  if (!m) return false;
  const tag = m[2];
  if (tag === undefined) return m[3] === undefined; // no tag and no digest means :latest
  if (tag === 'latest') return true;
  const v = /^v?(\d+)\.(\d+)/.exec(tag);
  if (!v) return false;
  const [major, minor] = [Number(v[1]), Number(v[2])];
  const [sinceMajor, sinceMinor] = CSQL_MIN_SIGTERM_DELAY_SINCE;
  return major > sinceMajor || (major === sinceMajor && minor >= sinceMinor);
}

export function isCloudSqlProxyV2(c: V1Container): boolean {
  return CLOUD_SQL_PROXY_V2.test(c.image ?? '');
}

/** The safest method this cluster and image allow, or undefined when there is none. */
export function chooseDelayMethod(c: V1Container, ctx: RuleContext, opts: { proxyEnv: boolean }): DelayMethod | undefined {
  if (kubeletMinor(ctx) >= SLEEP_ACTION_MINOR) return 'sleep-action';
  if (hasShell(c, ctx.config)) return 'exec-sleep';
  // A command-line flag overrides the env var, so the env var would change nothing.
  if (opts.proxyEnv && csqlSupportsMinSigtermDelay(c.image) && !hasFlag(c, MIN_SIGTERM_DELAY_FLAG)) return 'proxy-env';
  return undefined;
}

/**
 * Applies the method to the container of `spec` (a private copy). The API server rejects a sleep action longer
 * than the grace period, so the grace period is raised to the sleep at least, even with grace-period-too-short
 * off or skipped; that rule sizes it for the whole shutdown.
 */
export function addDelay(spec: V1PodSpec, c: V1Container, method: DelayMethod, seconds: number): void {
  if (method === 'proxy-env') {
    const value = `${seconds}s`;
    // env entries are shared with the caller's object (the Rule contract): replace them, never edit them.
    const env = c.env ?? [];
    c.env = env.some((e) => e.name === CSQL_MIN_SIGTERM_DELAY_ENV)
      ? env.map((e) => (e.name === CSQL_MIN_SIGTERM_DELAY_ENV ? { name: e.name, value } : e))
      : [...env, { name: CSQL_MIN_SIGTERM_DELAY_ENV, value }];
    return;
  }
  const preStop = method === 'sleep-action' ? { sleep: { seconds } } : { exec: { command: ['sleep', String(seconds)] } };
  c.lifecycle = { ...c.lifecycle, preStop };
  if (method === 'sleep-action' && gracePeriodSeconds(spec) < seconds) spec.terminationGracePeriodSeconds = seconds;
}

/** What the fix will add, for messages. */
export function describeDelay(method: DelayMethod, seconds: number): string {
  switch (method) {
    case 'sleep-action':
      return `preStop sleep ${seconds}s`;
    case 'exec-sleep':
      return `preStop exec [sleep, ${seconds}]`;
    case 'proxy-env':
      return `env ${CSQL_MIN_SIGTERM_DELAY_ENV}=${seconds}s`;
  }
}

/** Why no method applies and what a person can do instead. */
export function noDelayAdvice(c: V1Container, ctx: RuleContext, seconds: number, opts: { proxyEnv: boolean }): string {
  const csql = opts.proxyEnv && isCloudSqlProxyV2(c);
  const why = csql
    ? hasFlag(c, MIN_SIGTERM_DELAY_FLAG)
      ? `its ${MIN_SIGTERM_DELAY_FLAG} flag is 0`
      : `image '${c.image}' is older than cloud-sql-proxy 2.12.0 or has no version tag`
    : `image '${c.image ?? ''}' is not known to ship a shell`;
  const instead = csql
    ? `set ${MIN_SIGTERM_DELAY_FLAG}=${seconds}s on cloud-sql-proxy 2.12.0+`
    : `add preStop exec [sleep, ${seconds}] if the image has a sleep binary`;
  return (
    `No safe automatic fix: ${kubeletLabel(ctx)} lacks the preStop sleep action (1.${SLEEP_ACTION_MINOR}+) and ${why}. ` +
    `By hand: ${instead}, or upgrade the nodes to 1.${SLEEP_ACTION_MINOR}+.`
  );
}

import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { PolicyConfig } from '../config/policy.js';
import { isNativeSidecar, isProxy, preStopSeconds, type ContainerEntry } from './containers.js';
import { routesOf } from './traffic.js';
import type { RuleContext, Workload } from './types.js';

/** What the API server writes into terminationGracePeriodSeconds when it is absent. */
export const DEFAULT_GRACE_SECONDS = 30;

export const MIN_SIGTERM_DELAY_FLAG = '--min-sigterm-delay';
/** cloud-sql-proxy v2 reads every flag from a CSQL_PROXY_-prefixed env var as well. */
export const CSQL_MIN_SIGTERM_DELAY_ENV = 'CSQL_PROXY_MIN_SIGTERM_DELAY';

/** Pods the kubelet restarts forever (Deployments, StatefulSets ...): they are replaced in rollouts. */
export function restartsAlways(spec: V1PodSpec): boolean {
  return (spec.restartPolicy ?? 'Always') === 'Always';
}

/** Pods that must finish (Job and CronJob templates, Job pods, one-shot pods). */
export function runsToCompletion(spec: V1PodSpec): boolean {
  return spec.restartPolicy === 'Never' || spec.restartPolicy === 'OnFailure';
}

/**
 * Regular containers that are proxies for an app in the same pod. A pod made only of proxies (a pgbouncer or
 * envoy Deployment) has no app to outlive: its proxies are the app.
 */
export function proxySidecars(w: Workload, config: PolicyConfig): ContainerEntry[] {
  const regular = w.podSpec.containers;
  const proxies: ContainerEntry[] = [];
  regular.forEach((container, index) => {
    if (isProxy(container, w, config)) proxies.push({ container, path: `${w.pointer}/containers/${index}`, init: false, index });
  });
  return proxies.length < regular.length ? proxies : [];
}

/** A Go duration (`30s`, `1m30s`, `500ms`, `0`) in whole seconds, rounded up; undefined when unreadable. */
export function goDurationSeconds(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (!/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(s)) return undefined;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  let total = 0;
  for (const [, n, , u] of s.matchAll(/(\d+(\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(n) * unit[u!]!;
  return Math.ceil(total - 1e-9);
}

function flagValue(c: V1Container, flag: string): string | undefined {
  const command = c.command ?? [];
  const args = c.args ?? [];
  // command then args, as one argv, without building it: this runs for every proxy in every check.
  const total = command.length + args.length;
  const at = (i: number) => (i < command.length ? command[i] : args[i - command.length]);
  for (let i = 0; i < total; i++) {
    const a = at(i)!;
    if (a === flag) return at(i + 1) ?? '';
    if (a.length > flag.length && a.startsWith(flag) && a.charCodeAt(flag.length) === 0x3d) return a.slice(flag.length + 1);
  }
  return undefined;
}

/** Whether the proxy's command line sets `flag` at all (flags win over env vars). */
export function hasFlag(c: V1Container, flag: string): boolean {
  return flagValue(c, flag) !== undefined;
}

/**
 * How long a proxy keeps accepting connections after its own SIGTERM (cloud-sql-proxy and alloydb-auth-proxy
 * `--min-sigterm-delay`, or CSQL_PROXY_MIN_SIGTERM_DELAY): 0 when not set, `unknownSeconds` when set to
 * something that cannot be read here (a valueFrom, an odd value).
 */
export function ownSigtermDelaySeconds(c: V1Container, unknownSeconds: number): number {
  const flag = flagValue(c, MIN_SIGTERM_DELAY_FLAG);
  if (flag !== undefined) return goDurationSeconds(flag) ?? unknownSeconds;
  const env = (c.env ?? []).findLast((e) => e.name === CSQL_MIN_SIGTERM_DELAY_ENV);
  if (!env) return 0;
  if (env.valueFrom) return unknownSeconds;
  return goDurationSeconds(env.value ?? '') ?? unknownSeconds;
}

/** How long a container stays up after termination starts, before its SIGTERM: its preStop hook, if any. */
function holdSeconds(c: V1Container, config: PolicyConfig): number {
  return preStopSeconds(c, config.timings.appPreStopSeconds) ?? 0;
}

/** The longest preStop hook of a pod spec (regular containers and native sidecars), in seconds. */
export function longestHookSeconds(spec: V1PodSpec, config: PolicyConfig): number {
  const alongside = [...spec.containers, ...(spec.initContainers ?? []).filter(isNativeSidecar)];
  return Math.max(0, ...alongside.map((c) => holdSeconds(c, config)));
}

export interface GraceNeed {
  /** Seconds from the start of termination until the last container has stopped. */
  seconds: number;
  /** The container that stops last. */
  container: string;
  /** How its time adds up, for messages: "preStop 5s + up to 25s drain". */
  detail: string;
  /** Whether the figure includes the drain time, which is Gracekeeper's assumption (timings.drainSeconds). */
  assumesDrain: boolean;
  /** The longest preStop hook: the API server rejects a sleep action that is not shorter than the grace period. */
  longestHook: number;
}

/**
 * The grace period the pod needs, following the kubelet: every preStop hook (native sidecars' too) starts
 * when termination starts; a regular container gets SIGTERM when its hook ends, then drains if it receives traffic
 * (timings.drainSeconds) or a proxy sidecar shuts down (after its own --min-sigterm-delay). A container with
 * neither traffic nor a hook needs nothing beyond its SIGTERM. Native sidecars get SIGTERM one by one, in reverse
 * start order, once all regular containers and later sidecars have stopped and their own hook has ended.
 */
export function requiredGrace(w: Workload, ctx: RuleContext): GraceNeed {
  const config = ctx.config;
  const { drainSeconds, proxyShutdownSeconds, appPreStopSeconds } = config.timings;
  const sidecars = new Set(proxySidecars(w, config).map((e) => e.container));
  let need: GraceNeed = { seconds: 0, container: w.podSpec.containers[0]?.name ?? '', detail: '', assumesDrain: false, longestHook: 0 };
  let longestHook = 0;
  // The detail is worded only for a container that stops later than those before it.
  const consider = (seconds: number, container: string, detail: () => string, assumesDrain = false) => {
    if (seconds > need.seconds) need = { seconds, container, detail: detail(), assumesDrain, longestHook: 0 };
  };
  const parts = (hold: number, ...rest: string[]) => [hold > 0 ? `preStop ${hold}s` : '', ...rest].filter(Boolean).join(' + ');

  for (const c of w.podSpec.containers) {
    const hold = holdSeconds(c, config);
    longestHook = Math.max(longestHook, hold);
    if (sidecars.has(c)) {
      const delay = ownSigtermDelaySeconds(c, appPreStopSeconds);
      consider(hold + delay + proxyShutdownSeconds, c.name, () =>
        parts(hold, delay > 0 ? `${delay}s min-sigterm-delay` : '', `${proxyShutdownSeconds}s proxy shutdown`),
      );
    } else if (routesOf(w, ctx, c.name).length > 0) {
      consider(hold + drainSeconds, c.name, () => parts(hold, `up to ${drainSeconds}s to finish in-flight requests`), drainSeconds > 0);
    } else if (hold > 0) {
      // The hook must end before the grace period does, or the kubelet kills the container mid-hook.
      consider(hold + 1, c.name, () => parts(hold, '1s to stop'));
    }
  }
  const native = (w.podSpec.initContainers ?? []).filter(isNativeSidecar).reverse();
  for (const s of native) {
    const hold = holdSeconds(s, config);
    longestHook = Math.max(longestHook, hold);
    const shutdown = isProxy(s, w, config) ? ownSigtermDelaySeconds(s, appPreStopSeconds) + proxyShutdownSeconds : 0;
    const end = Math.max(need.seconds, hold) + shutdown;
    if (end <= need.seconds) continue;
    const shutdownPart = shutdown > 0 ? `${shutdown}s sidecar shutdown` : '';
    const detail =
      hold > need.seconds
        ? parts(hold, shutdownPart)
        : [`stopped after '${need.container}' (${need.seconds}s)`, shutdownPart].filter(Boolean).join(' + ');
    need = { seconds: end, container: s.name, detail, assumesDrain: hold > need.seconds ? false : need.assumesDrain, longestHook: 0 };
  }
  return { ...need, longestHook };
}

/** The grace period as the kubelet will use it: absent means the API server default. */
export function gracePeriodSeconds(spec: V1PodSpec): number {
  return spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

/**
 * Whether the pod's grace period was chosen by a person: present and not the 30s the API server writes when it is
 * absent (a webhook cannot tell a written 30 from a defaulted one, so neither does the CLI).
 */
export function graceSetExplicitly(spec: V1PodSpec): boolean {
  return typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds !== DEFAULT_GRACE_SECONDS;
}

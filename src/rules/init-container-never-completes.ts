import type { V1Container } from '@kubernetes/client-node';
import { isNativeSidecar, isProxy, type ContainerEntry } from '../engine/containers.js';
import { knownServerImage, serverLaunch } from '../engine/images.js';
import { NATIVE_SIDECAR_MINOR, kubeletLabel, resolveStrategy } from '../engine/prestop.js';
import type { Rule, RuleContext, RuleIssue, Workload } from '../engine/types.js';

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Shells: what they run cannot be read here, so a proxy started from a script is not judged. */
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);

/**
 * Arguments with which a proxy image does a one-off job and exits instead of serving: print a version or help;
 * istio's proxyv2 (entrypoint pilot-agent) setting up iptables (the istio-init container), or `pilot-agent wait` /
 * `request`; `cloud-sql-proxy wait` (waits for another proxy's startup and exits).
 */
const ONE_SHOT_ARGS = new Set([
  '--version', '-version', 'version', '-V', '--help', '-help', '-h', 'help',
  'istio-iptables', 'istio-clean-iptables', 'wait', 'request',
]);

/** Envoy's `--mode validate` and `--mode init_only` check the configuration and exit. */
function envoyExitsByMode(argv: readonly string[]): boolean {
  return argv.some(
    (a, i) => /^--mode=(validate|init_only)$/.test(a) || (a === '--mode' && /^(validate|init_only)$/.test(argv[i + 1] ?? '')),
  );
}

/** istio/proxyv2 runs the proxy only as `pilot-agent proxy ...`; without `proxy` pilot-agent does something else or prints help. */
const ISTIO_PROXYV2 = /(^|\/)proxyv2([:@]|$)/;

/** A proxy (by image pattern or the proxy-containers annotation) started as the proxy, which serves until stopped. */
function runsProxy(c: V1Container, w: Workload, ctx: RuleContext): boolean {
  if (!isProxy(c, w, ctx.config)) return false;
  const command = c.command ?? [];
  const argv = [...command, ...(c.args ?? [])];
  if (command.length > 0 && SHELLS.has(baseName(command[0]!))) return false;
  if (argv.some((a) => ONE_SHOT_ARGS.has(a)) || envoyExitsByMode(argv)) return false;
  if (ISTIO_PROXYV2.test(c.image ?? '') && !argv.includes('proxy')) return false;
  return true;
}

interface Hang {
  entry: ContainerEntry;
  /** What it runs, for the message. */
  what: string;
  proxy: boolean;
}

function hangs(w: Workload, ctx: RuleContext): Hang[] {
  const found: Hang[] = [];
  // Plain init containers only: native sidecars run alongside the app.
  for (const [index, c] of (w.podSpec.initContainers ?? []).entries()) {
    if (isNativeSidecar(c)) continue;
    const entry: ContainerEntry = { container: c, path: `${w.pointer}/initContainers/${index}`, init: true, index };
    if (runsProxy(c, w, ctx)) {
      found.push({ entry, what: `runs the proxy ${c.image ? `'${c.image}'` : `'${c.name}'`}`, proxy: true });
      continue;
    }
    // A proxy image doing a one-off job (istio-init, a version check) exits: do not judge it by its ports.
    if (isProxy(c, w, ctx.config)) continue;
    const image = knownServerImage(c.image);
    if (image && serverLaunch(c, image)) {
      found.push({ entry, what: `runs the ${image.name} server`, proxy: false });
    } else if ((c.ports ?? []).length > 0) {
      found.push({ entry, what: `declares port ${c.ports![0]!.containerPort}, so it looks like a server`, proxy: false });
    }
  }
  return found;
}

/** What a pod stuck in Init means for this kind of workload: a bare Pod has no rollout. */
function consequence(w: Workload): string {
  switch (w.kind) {
    case 'Pod':
      return 'Its app containers never start.';
    case 'Job':
    case 'CronJob':
      return 'The app never runs, so the Job never completes.';
    case 'ReplicaSet':
    case 'ReplicationController':
      return 'The app never starts: its pods never become ready.';
    default:
      return 'The app never starts, and a rollout of this template stalls: its new pods never become ready.';
  }
}

const MOVE = 'Move it to containers, or make it a native sidecar (restartPolicy: Always) if it must start before the others.';

function proxyRemedy(ctx: RuleContext): string {
  if (resolveStrategy(ctx) === 'native-sidecar') {
    return (
      'Fix: restartPolicy: Always makes it a native sidecar, started before the next init containers and the app ' +
      'and stopped after them.'
    );
  }
  const why =
    ctx.config.proxy.strategy === 'prestop'
      ? 'proxy.strategy is prestop'
      : `${kubeletLabel(ctx)} predates native sidecars (1.${NATIVE_SIDECAR_MINOR}), and below it restartPolicy is dropped`;
  return (
    `Not fixed automatically (${why}). By hand: run it as a regular container (it then starts with the app, ` +
    `not before: the app must wait for it), or make it a native sidecar on kubelets 1.${NATIVE_SIDECAR_MINOR}+.`
  );
}

export const initContainerNeverCompletes: Rule = {
  id: 'init-container-never-completes',
  summary: 'An init container runs a server or a proxy, which never exits: the pod never gets past Init.',
  defaultAction: 'deny',
  check(w, ctx) {
    const fixable = resolveStrategy(ctx) === 'native-sidecar';
    return hangs(w, ctx).map(({ entry, what, proxy }): RuleIssue => {
      const c = entry.container;
      return {
        container: c.name,
        path: entry.path,
        // Like the other fixable problems, a proxy the fix turns into a native sidecar is a warning: the webhook
        // fixes the Pods a controller creates, so refusing the controller would block a rollout that works.
        ...(proxy && fixable ? { warnOnly: true } : {}),
        message:
          `init container '${c.name}' ${what}, which never exits: the pod stays in Init and its app containers wait in ` +
          `PodInitializing. ${consequence(w)} ${proxy ? proxyRemedy(ctx) : MOVE}`,
      };
    });
  },
  fix(spec, ctx, w) {
    if (resolveStrategy(ctx) !== 'native-sidecar') return;
    const names = new Set(hangs(w, ctx).filter((h) => h.proxy).map((h) => h.entry.container.name));
    for (const c of spec.initContainers ?? []) {
      if (names.has(c.name) && c.restartPolicy !== 'Always') c.restartPolicy = 'Always';
    }
  },
};

import type { V1Container } from '@kubernetes/client-node';
import { isCloudSqlProxyV2, kubeletLabel, moveToNativeSidecars, resolveStrategy } from '../engine/prestop.js';
import { hasFlag, proxySidecars, runsToCompletion } from '../engine/shutdown.js';
import type { Rule, RuleContext, Workload } from '../engine/types.js';

const QUIT_FLAG = '--quitquitquit';
const QUIT_ENV = 'CSQL_PROXY_QUITQUITQUIT';

/** cloud-sql-proxy started with its quit endpoint: the app can stop it when done. */
function canBeStopped(c: V1Container): boolean {
  return hasFlag(c, QUIT_FLAG) || (c.env ?? []).some((e) => e.name === QUIT_ENV && e.value === 'true');
}

function blocking(w: Workload, ctx: RuleContext) {
  if (!runsToCompletion(w.podSpec)) return [];
  return proxySidecars(w, ctx.config).filter((e) => !canBeStopped(e.container));
}

function remedy(c: V1Container, ctx: RuleContext): string {
  const quit = isCloudSqlProxyV2(c)
    ? `start it with ${QUIT_FLAG} and have the app call http://localhost:9091/quitquitquit when done`
    : 'have the app stop it when done';
  if (resolveStrategy(ctx) === 'native-sidecar') {
    return `Fix: run it as a native sidecar (initContainers, restartPolicy: Always), which stops once the app exits; or ${quit}.`;
  }
  const why = ctx.config.proxy.strategy === 'prestop' ? 'proxy.strategy is prestop' : `${kubeletLabel(ctx)} predates 1.29`;
  return (
    `Not fixed automatically (${why}). By hand: make it a native sidecar (initContainers, restartPolicy: Always; ` +
    `kubelet 1.29+), or ${quit}.`
  );
}

export const jobSidecarBlocksCompletion: Rule = {
  id: 'job-sidecar-blocks-completion',
  summary: 'A proxy sidecar in a Job or CronJob pod keeps running after the app exits, so the pod never completes.',
  defaultAction: 'warn',
  check(w, ctx) {
    return blocking(w, ctx).map((e) => ({
      container: e.container.name,
      path: e.path,
      message:
        `proxy '${e.container.name}' never exits, so this pod never completes. ` +
        `The Job stays active after its work is done and CronJob runs pile up or are skipped. ${remedy(e.container, ctx)}`,
    }));
  },
  fix(spec, ctx, w) {
    if (resolveStrategy(ctx) !== 'native-sidecar') return;
    moveToNativeSidecars(spec, new Set(blocking(w, ctx).map((e) => e.container.name)));
  },
};

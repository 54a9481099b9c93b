import type { Logger } from 'pino';
import { DisabledClusterView } from '../cluster/disabled.js';
import { loadWebhookKubeConfig } from '../cluster/kubeconfig.js';
import type { ClusterChangeListener, LiveClusterViewSource } from '../cluster/live-source.js';
import type { ClusterView, ClusterViewState } from '../cluster/view.js';
import type { PolicyConfig } from '../config/policy.js';
import type { ServerConfig } from '../config/server.js';

/** What the server needs of the cluster view, live or disabled. */
export interface ClusterViewHandle {
  /** The view rules use under a given policy. */
  viewFor(policy: PolicyConfig): ClusterView;
  state(): ClusterViewState;
  /** Tells each change to what the view answers (LiveClusterViewSource.onChange); the disabled view never changes. */
  onChange(listener: ClusterChangeListener): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Disabled: a view that knows nothing, so rules that need other objects report "unknown" warnings or use their
 * documented defaults, and versions come from policy.kubernetesVersion (rebuilt on config reload).
 */
export function disabledClusterView(): ClusterViewHandle {
  return {
    viewFor: (policy) => new DisabledClusterView(policy.kubernetesVersion),
    state: () => 'disabled',
    onChange: () => () => {},
    start: async () => {},
    stop: async () => {},
  };
}

function liveHandle(source: LiveClusterViewSource): ClusterViewHandle {
  return {
    viewFor: () => source.view,
    state: () => source.state(),
    onChange: (listener) => source.onChange(listener),
    start: () => source.start(),
    stop: () => source.stop(),
  };
}

/**
 * The live view from the configured kubeconfig, or the in-cluster service account when none is given.
 * client-node is loaded here, not at startup: importing it costs ~85 MB of RSS and a second or more of start
 * time, which a server without a cluster view should not pay.
 */
export async function liveClusterView(config: ServerConfig, logger: Logger): Promise<ClusterViewHandle> {
  const [{ KubeConfig }, { createLiveClusterView }] = await Promise.all([import('@kubernetes/client-node'), import('../cluster/live.js')]);
  const kubeConfig = loadWebhookKubeConfig(new KubeConfig(), config.clusterView.kubeconfig);
  return liveHandle(
    createLiveClusterView({
      kubeConfig,
      fallbackKubernetesVersion: config.policy.kubernetesVersion,
      resyncSeconds: config.clusterView.resyncSeconds || undefined,
      logger: logger.child({ component: 'cluster-view' }),
    }),
  );
}

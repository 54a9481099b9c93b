import type { AdmissionSettings } from '../admission/handle.js';
import type { ClusterView } from '../cluster/view.js';
import type { PolicyConfig } from '../config/policy.js';
import type { ServerConfig } from '../config/server.js';
import type { Rule } from '../engine/types.js';

export interface LiveSettingsOptions {
  rules: readonly Rule[];
  /** POD_NAMESPACE: the webhook's own namespace, always off. */
  ownNamespace: string | undefined;
  /** The cluster view for a policy: the live view, or an empty offline one answering from the config. */
  clusterView(policy: PolicyConfig): ClusterView;
}

/**
 * The config in force and the admission settings derived from it. Built whole on each (re)load and swapped in
 * one assignment, so a request reads either the old or the new settings, never a mix.
 */
export class LiveSettings {
  private current: { config: ServerConfig; admission: AdmissionSettings };

  constructor(config: ServerConfig, private readonly options: LiveSettingsOptions) {
    this.current = this.derive(config);
  }

  private derive(config: ServerConfig) {
    const admission: AdmissionSettings = {
      modes: { defaultMode: config.mode, exemptNamespaces: config.exemptNamespaces, ownNamespace: this.options.ownNamespace },
      engine: { rules: this.options.rules, context: { config: config.policy, cluster: this.options.clusterView(config.policy) } },
    };
    return { config, admission };
  }

  config(): ServerConfig {
    return this.current.config;
  }

  admission(): AdmissionSettings {
    return this.current.admission;
  }

  replace(config: ServerConfig): void {
    this.current = this.derive(config);
  }
}

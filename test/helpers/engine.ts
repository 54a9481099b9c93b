import { OfflineClusterView } from '../../src/cluster/offline.js';
import { parsePolicyConfig } from '../../src/config/policy.js';
import type { RuleContext, KubeObject } from '../../src/engine/types.js';
import { RULE_IDS } from '../../src/rules/index.js';

/** A rule context as the CLI builds it: policy config (defaults + overrides) and an offline view of `objects`. */
export function contextFor(objects: readonly KubeObject[] = [], config: unknown = {}): RuleContext {
  const policy = parsePolicyConfig(config, RULE_IDS);
  return { config: policy, cluster: new OfflineClusterView(objects, policy.kubernetesVersion) };
}

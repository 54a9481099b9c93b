import type { ModeSettings } from '../admission/mode.js';
import type { Mode } from '../config/server.js';

/** The namespace label the chart's namespaceSelectors route by. */
export const MODE_LABEL = 'gracekeeper.io/mode';

/**
 * The mode a namespace's workloads get at admission, decided as the chart's webhook entries and the server
 * decide it: the webhook's own namespace and `exemptNamespaces` are off whatever their labels; a
 * gracekeeper.io/mode label of enforce, audit or off is that mode; no label (or another value) gets the
 * configured `mode`, which the chart sets to `off` with `mode: opt-in` and to `clusterDefaultMode` with
 * `mode: cluster`. The background scan reports on namespaces in enforce or audit.
 */
export function namespaceMode(name: string, labels: Readonly<Record<string, string>> | undefined, settings: ModeSettings): Mode {
  if (name === settings.ownNamespace) return 'off';
  if (settings.exemptNamespaces.includes(name)) return 'off';
  const label = labels?.[MODE_LABEL];
  if (label === 'enforce' || label === 'audit' || label === 'off') return label;
  return settings.defaultMode;
}

import type { Mode } from '../config/server.js';

export const ADMISSION_ENDPOINTS = ['mutate', 'validate'] as const;
export type Endpoint = (typeof ADMISSION_ENDPOINTS)[number];

/** Modes a path may name: one webhook entry per mode, each with its own namespaceSelector. */
export const PATH_MODES = ['enforce', 'audit'] as const satisfies readonly Mode[];
export type PathMode = (typeof PATH_MODES)[number];

export interface ModeSettings {
  /** Used by `/mutate` and `/validate` without a mode in the path. */
  defaultMode: Mode;
  exemptNamespaces: readonly string[];
  /** The webhook's own namespace (POD_NAMESPACE): never enforced, so it can always recover itself. */
  ownNamespace: string | undefined;
}

export type ModeReason = 'path' | 'default' | 'exempt' | 'own-namespace';

export interface ResolvedMode {
  mode: Mode;
  reason: ModeReason;
}

/**
 * The mode of one request. AdmissionReview carries no namespace labels, so the namespace's choice arrives as
 * the path the API server called; exempt namespaces are `off` whatever the path says (defence in depth: the
 * chart's selectors exclude them too).
 */
export function resolveMode(pathMode: PathMode | undefined, namespace: string, settings: ModeSettings): ResolvedMode {
  if (namespace && namespace === settings.ownNamespace) return { mode: 'off', reason: 'own-namespace' };
  if (namespace && settings.exemptNamespaces.includes(namespace)) return { mode: 'off', reason: 'exempt' };
  return pathMode ? { mode: pathMode, reason: 'path' } : { mode: settings.defaultMode, reason: 'default' };
}

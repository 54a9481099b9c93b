import type { Workload } from './types.js';
import { isObject } from './workload.js';

/** Kinds whose spec.replicas says how many pods run (DaemonSets run one per node, Jobs use parallelism). */
const REPLICATED_KINDS = new Set(['Deployment', 'ReplicaSet', 'ReplicationController', 'StatefulSet']);

function spec(w: Workload): Record<string, unknown> {
  return isObject(w.object.spec) ? w.object.spec : {};
}

/** spec.replicas of a replicated controller, defaulting to 1 as the API server does; undefined for other kinds. */
export function desiredReplicas(w: Workload): number | undefined {
  if (!REPLICATED_KINDS.has(w.kind)) return undefined;
  const r = spec(w).replicas;
  return typeof r === 'number' ? r : 1;
}

/** A value of maxSurge / maxUnavailable: an integer or a percentage string. */
export type IntOrPercent = number | string;

/** Scales an int-or-percent against `total` like Kubernetes' GetScaledValueFromIntOrPercent; NaN if unreadable. */
export function scaleIntOrPercent(value: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : Number.NaN;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number.NaN;
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export interface RollingUpdate {
  replicas: number;
  /** As written or defaulted (25%), for messages. */
  maxSurge: IntOrPercent;
  maxUnavailable: IntOrPercent;
  /** Resolved pod counts (NaN when a value cannot be read). */
  surge: number;
  unavailable: number;
  /** Both resolved to 0, so Kubernetes allows 1 unavailable pod. */
  bothZero: boolean;
}

/**
 * A Deployment's rolling update resolved the way the deployment controller does (ResolveFenceposts): defaults
 * 25% / 25%, maxSurge rounds up, maxUnavailable rounds down, and if both come to 0 maxUnavailable becomes 1.
 * Undefined for other kinds and for the Recreate strategy.
 */
export function resolveRollingUpdate(w: Workload): RollingUpdate | undefined {
  if (deploymentStrategy(w) !== 'RollingUpdate') return undefined;
  const strategy = spec(w).strategy;
  const ru = isObject(strategy) && isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  const maxSurge = (ru.maxSurge ?? '25%') as IntOrPercent;
  const maxUnavailable = (ru.maxUnavailable ?? '25%') as IntOrPercent;
  const replicas = desiredReplicas(w)!;
  const surge = scaleIntOrPercent(maxSurge, replicas, true);
  let unavailable = scaleIntOrPercent(maxUnavailable, replicas, false);
  const bothZero = surge === 0 && unavailable === 0;
  if (bothZero) unavailable = 1;
  return { replicas, maxSurge, maxUnavailable, surge, unavailable, bothZero };
}

/** The strategy type of a Deployment (defaulted to RollingUpdate); undefined for other kinds. */
export function deploymentStrategy(w: Workload): string | undefined {
  if (w.kind !== 'Deployment') return undefined;
  const strategy = spec(w).strategy;
  return (isObject(strategy) && typeof strategy.type === 'string' && strategy.type) || 'RollingUpdate';
}

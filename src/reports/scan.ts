import type { KubernetesObject } from '@kubernetes/client-node';
import { evaluate } from '../engine/evaluate.js';
import type { KubeObject, Rule, RuleContext } from '../engine/types.js';
import { isGracekeeperError } from '../errors.js';
import type { ScannedWorkload, WorkloadRef } from './builder.js';
import { STUB_ANNOTATION } from './slim.js';

function refOf(obj: KubernetesObject, namespace: string): WorkloadRef {
  const meta = obj.metadata;
  const ref: WorkloadRef = {
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : '',
    kind: typeof obj.kind === 'string' ? obj.kind : '',
    name: typeof meta?.name === 'string' ? meta.name : '',
    namespace,
  };
  if (typeof meta?.uid === 'string' && meta.uid) ref.uid = meta.uid;
  return ref;
}

/** Whether the scan reports this object itself (not a stub of an object reported through its controller). */
export const reportedItself = (obj: KubernetesObject): boolean => obj.metadata?.annotations?.[STUB_ANNOTATION] !== 'true';

/**
 * One workload through the engine, with fixes computed (to say which findings mutate fixes). Never throws:
 * an object the engine cannot read, or a rule that throws, becomes an `unreadable` outcome naming why.
 * Returns null for an object that holds no pod spec.
 */
export function scanWorkload(obj: KubernetesObject, namespace: string, rules: readonly Rule[], ctx: RuleContext): ScannedWorkload | null {
  const ref = refOf(obj, namespace);
  try {
    const result = evaluate(obj as KubeObject, rules, ctx, { fix: true, patch: false });
    if (!result) return null;
    return { ref, outcome: { findings: result.findings, fixedRules: result.fixes.map((f) => f.rule) } };
  } catch (e) {
    const reason = isGracekeeperError(e) ? e.detail : `a rule failed on it: ${(e as Error)?.message ?? String(e)}`;
    return { ref, outcome: { unreadable: reason } };
  }
}

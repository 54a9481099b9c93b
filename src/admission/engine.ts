import type { Mode } from '../config/server.js';
import { evaluate, type EvaluateOptions, type Evaluation } from '../engine/evaluate.js';
import { readSkip } from '../engine/skips.js';
import type { KubeObject, Rule, RuleContext } from '../engine/types.js';
import { ErrorCode, GracekeeperError, isGracekeeperError } from '../errors.js';
import { auditValue, denialStatus, type Exemption, type Outcome } from './response.js';
import { WarningList, clip } from './warnings.js';

/** What the admission handlers evaluate with: the catalogue and the context in force for this request. */
export interface Engine {
  rules: readonly Rule[];
  context: RuleContext;
}

export type EngineResult = { evaluation: Evaluation | null } | { unreadable: GracekeeperError };

/** Runs the engine; an object of the wrong shape is a result, anything else thrown is a bug and propagates. */
export function runEngine(obj: KubeObject, engine: Engine, options: EvaluateOptions): EngineResult {
  try {
    return { evaluation: evaluate(obj, engine.rules, engine.context, options) };
  } catch (e) {
    if (isGracekeeperError(e) && e.code === ErrorCode.WorkloadUnreadable) return { unreadable: e };
    throw e;
  }
}

/**
 * An honoured exemption (gracekeeper.io/skip with a skip-reason) on the evaluated object, for the review's log
 * line: anyone who can create the object can exempt it, so every exemption leaves a trace with its reason.
 */
export function exemptionOf(evaluation: Evaluation): { exemption?: Exemption } {
  const skip = readSkip(evaluation.workload);
  if (!skip?.honoured) return {};
  return { exemption: { rules: skip.all ? 'all' : skip.ids.join(','), reason: clip(skip.reason ?? '', 200) } };
}

/**
 * A well-formed review of an object the engine cannot read (say `containers` is not a list). The API server
 * never sends one for a real object, so it is a hand-made or hostile request: enforce refuses it, audit lets it
 * through with a warning. Either way a clear answer, never a 500.
 */
export function unreadableOutcome(uid: string, error: GracekeeperError, mode: Mode): Outcome {
  // The engine's message names the field in words already; its JSON pointer prefix would say it twice.
  const reason = error.detail;
  const message = `Gracekeeper cannot read this object: ${reason}`;
  if (mode === 'enforce') {
    return { response: { uid, allowed: false, status: denialStatus(message) }, decision: 'denied', findings: [], skipped: 'unreadable' };
  }
  const warnings = new WarningList();
  warnings.add(`gracekeeper (audit): cannot read this object: ${reason}`);
  return {
    response: { uid, allowed: true, warnings: warnings.list(), auditAnnotations: { mode: 'audit', unreadable: auditValue(reason) } },
    decision: 'would_deny',
    findings: [],
    skipped: 'unreadable',
  };
}

import type { Mode } from '../config/server.js';
import { exemptionOf, runEngine, unreadableOutcome, type Engine } from './engine.js';
import { allowed, auditValue, encodePatch, type Outcome } from './response.js';
import type { AdmissionRequest } from './schema.js';
import { WarningList } from './warnings.js';

/**
 * POST /mutate: the engine's fixes for a Pod being created, as a JSON Patch against request.object exactly as
 * sent. Pod specs are immutable after creation, so every other operation, kind or subresource passes untouched.
 * Idempotent: a Pod fixed before (reinvocation) yields an empty diff and so no patch.
 */
export function mutate(request: AdmissionRequest, mode: Mode, engine: Engine): Outcome {
  const { uid } = request;
  if (mode === 'off') return allowed(uid, 'mode off');
  if (request.kind.kind !== 'Pod' || request.subResource) return allowed(uid, 'not a Pod');
  if (request.operation !== 'CREATE') return allowed(uid, `${request.operation} is never mutated`);

  // Enforce answers with the patch alone; audit lists the fixes it would make.
  const result = runEngine(request.object!, engine, { fix: true, listFixes: mode !== 'enforce' });
  if ('unreadable' in result) return unreadableOutcome(uid, result.unreadable, mode);
  const evaluation = result.evaluation;
  if (!evaluation) return allowed(uid, 'no pod spec');
  const { findings, patch, fixes } = evaluation;
  const exemption = exemptionOf(evaluation);
  if (patch.length === 0) return { ...allowed(uid), findings, ...exemption };

  if (mode === 'enforce') {
    return { response: { uid, allowed: true, patchType: 'JSONPatch', patch: encodePatch(patch) }, decision: 'patched', findings, ...exemption };
  }
  const warnings = new WarningList();
  for (const fix of fixes) warnings.add(`${fix.rule} (audit, would fix): ${fix.message}`);
  for (const op of patch) warnings.add(`gracekeeper (audit): patch not applied: ${op.op} ${op.path}`);
  return {
    response: {
      uid,
      allowed: true,
      warnings: warnings.list(),
      auditAnnotations: {
        mode: 'audit',
        'would-fix': fixes.map((f) => f.rule).join(','),
        'would-patch': auditValue(JSON.stringify(patch)),
      },
    },
    decision: 'would_patch',
    findings,
    ...exemption,
  };
}

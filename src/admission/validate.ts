import type { Mode } from '../config/server.js';
import type { Evaluation } from '../engine/evaluate.js';
import type { Finding, KubeObject } from '../engine/types.js';
import { isObject, isWorkloadKind, workloadName } from '../engine/workload.js';
import { exemptionOf, runEngine, unreadableOutcome, type Engine } from './engine.js';
import { allowed, auditValue, denialStatus, findingLabel, type Outcome } from './response.js';
import type { AdmissionRequest } from './schema.js';
import { WarningList } from './warnings.js';

/** The same problem in the old and the new object: same rule, same container (or the same path without one). */
const problemKey = (f: Finding) => `${f.rule}\u0000${f.container ?? f.path}`;

function preExisting(request: AdmissionRequest, engine: Engine): Set<string> {
  if (request.operation !== 'UPDATE' || !request.oldObject) return new Set();
  const old = runEngine(request.oldObject as KubeObject, engine, { fix: false });
  return 'evaluation' in old && old.evaluation ? new Set(old.evaluation.findings.map(problemKey)) : new Set();
}

function beingDeleted(obj: KubeObject): boolean {
  return isObject(obj.metadata) && obj.metadata.deletionTimestamp != null;
}

/** `ReplicaSet web-7c9d5b8f6d` when a controller owns this Pod, else undefined. */
function controllingOwner(obj: KubeObject): string | undefined {
  if (obj.kind !== 'Pod' || !isObject(obj.metadata) || !Array.isArray(obj.metadata.ownerReferences)) return undefined;
  const owner = obj.metadata.ownerReferences.find((o) => isObject(o) && o.controller === true) as { kind?: unknown; name?: unknown } | undefined;
  return owner ? `${String(owner.kind)} ${String(owner.name)}` : undefined;
}

function denialMessage(evaluation: Evaluation, denies: readonly Finding[]): string {
  const { kind, metadata } = evaluation.workload;
  const where = metadata.namespace ? `${metadata.namespace}/${workloadName(metadata)}` : workloadName(metadata);
  const lines = denies.map((f) => `- ${findingLabel(f)}: ${f.message}`);
  return (
    `Gracekeeper denied ${kind} ${where}: ${denies.length} problem${denies.length === 1 ? '' : 's'}.\n${lines.join('\n')}\n` +
    `To exempt it, annotate gracekeeper.io/skip: <rule-id> with gracekeeper.io/skip-reason: <why>.`
  );
}

/**
 * POST /validate: Pods and pod controllers on CREATE and UPDATE. Deny findings refuse the request (enforce) or
 * become warnings and audit annotations (audit); warn findings and, for controllers, the fixes their Pods
 * will receive are returned as warnings so `kubectl apply` prints them.
 *
 * UPDATE denies only problems the update introduces. A problem the old object already had is reported as a
 * warning: refusing `kubectl scale`, a label change or an emergency image rollback because of an old problem
 * would block operators when they most need to act (Kyverno's allowExistingViolations makes the same choice).
 * DELETE, CONNECT, subresources (status, scale, ephemeralcontainers ...) and objects being deleted are allowed
 * without evaluation.
 *
 * A Pod created by a controller (a ReplicaSet, Job, StatefulSet ...) is never denied: its template was validated
 * when the controller was applied, or predates the webhook. Denying its Pods would not stop the rollout, only
 * make the controller fail to create replicas during a scale-up or a node drain, silently, which is the failure
 * this webhook exists to prevent. Its deny findings become warnings (in logs, metrics and audit annotations).
 */
export function validate(request: AdmissionRequest, mode: Mode, engine: Engine): Outcome {
  const { uid } = request;
  if (mode === 'off') return allowed(uid, 'mode off');
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allowed(uid, `${request.operation} is never validated`);
  if (request.subResource) return allowed(uid, `subresource ${request.subResource}`);
  const obj = request.object as KubeObject;
  if (!isWorkloadKind(obj.kind)) return allowed(uid, 'not a workload');
  if (beingDeleted(obj)) return allowed(uid, 'being deleted');

  // A controller's warnings say which fixes its Pods get; the patch itself is /mutate's business.
  const isController = obj.kind !== 'Pod';
  const result = runEngine(obj, engine, { fix: isController, patch: false });
  if ('unreadable' in result) return unreadableOutcome(uid, result.unreadable, mode);
  const evaluation = result.evaluation;
  if (!evaluation) return allowed(uid, 'no pod spec');

  const exemption = exemptionOf(evaluation);
  const owner = controllingOwner(obj);
  // Evaluated on first use: only a deny finding is looked up, and most reviews have none.
  let existing: Set<string> | undefined;
  const isExisting = (f: Finding) => (existing ??= preExisting(request, engine)).has(problemKey(f));
  const deniable = (f: Finding) => f.action === 'deny' && !owner && !isExisting(f);
  const denies = evaluation.findings.filter(deniable);
  const fixedRules = new Set(evaluation.fixes.map((f) => f.rule));
  const fixNote = mode === 'enforce' ? 'Pods get a fix' : 'fixable';

  const warnings = new WarningList();
  if (mode === 'audit') for (const f of denies) warnings.add(`${f.rule} (audit: would deny): ${f.message}`);
  for (const f of evaluation.findings) {
    if (deniable(f)) continue;
    const denyNote = owner ? `not denied: Pod of ${owner}` : 'existing, not denied on update';
    const note = f.action === 'deny' ? denyNote : fixedRules.has(f.rule) ? fixNote : '';
    warnings.add(`${f.rule}${note ? ` (${note})` : ''}: ${f.message}`);
  }
  for (const fix of evaluation.fixes) warnings.add(`${fix.rule} (${fixNote}): ${fix.message}`);
  const warningList = warnings.list();
  const withWarnings = warningList.length > 0 ? { warnings: warningList } : {};

  if (denies.length > 0 && mode === 'enforce') {
    return {
      response: { uid, allowed: false, status: denialStatus(denialMessage(evaluation, denies)), ...withWarnings },
      decision: 'denied',
      findings: evaluation.findings,
      ...exemption,
    };
  }
  if (mode === 'audit' && evaluation.findings.length > 0) {
    const auditAnnotations: Record<string, string> = { mode: 'audit' };
    if (denies.length > 0) auditAnnotations['would-deny'] = auditValue(denies.map((f) => `${findingLabel(f)}: ${f.message}`).join('\n'));
    const warns = evaluation.findings.filter((f) => !denies.includes(f));
    if (warns.length > 0) auditAnnotations.warnings = auditValue(warns.map((f) => findingLabel(f)).join(', '));
    return {
      response: { uid, allowed: true, ...withWarnings, auditAnnotations },
      decision: denies.length > 0 ? 'would_deny' : 'allowed',
      findings: evaluation.findings,
      ...exemption,
    };
  }
  return { response: { uid, allowed: true, ...withWarnings }, decision: 'allowed', findings: evaluation.findings, ...exemption };
}

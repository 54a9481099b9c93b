import type { Operation } from 'fast-json-patch';
import type { PolicyConfig } from '../config/policy.js';
import type { Evaluation } from '../engine/evaluate.js';
import type { Finding, Rule } from '../engine/types.js';
import { workloadName } from '../engine/workload.js';
import type { GracekeeperError } from '../errors.js';
import { manifestLine } from '../manifests/parse.js';
import { RULES } from '../rules/index.js';
import type { InputText } from './inputs.js';
import { evaluateManifest, offlineContext, parseInputs } from './manifests.js';

/** A finding with the file and line of the field it concerns (null for objects read from a cluster). */
export interface LocatedFinding extends Finding {
  file: string | null;
  line: number | null;
  /** `gracekeeper mutate` (and the mutating webhook) would fix it on this workload. */
  fixable: boolean;
}

/** What the fixes would change on a workload's pod spec (the mutating webhook's patch, for its Pods). */
export interface WorkloadFix {
  /** JSON Patch from the object as given to the fixed object. */
  patch: Operation[];
  /** JSON pointer of the pod spec inside the object (`/spec/template/spec`, ...). */
  pointer: string;
  /** The pod spec as given and as fixed. */
  before: unknown;
  after: unknown;
  /** Rules whose fixes changed it, in the order applied. */
  rules: string[];
}

export interface AuditedWorkload {
  kind: string;
  namespace: string;
  name: string;
  file: string | null;
  line: number | null;
  findings: LocatedFinding[];
  /** Present when a fix would change the workload. */
  fix?: WorkloadFix;
}

export interface AuditReport {
  /** Every workload evaluated, in input order, with or without findings. */
  workloads: AuditedWorkload[];
  files: number;
  errors: GracekeeperError[];
  /** What was audited when not files, for summaries: e.g. "cluster 'prod', namespace 'shop'". */
  scope?: string;
}

const ACTION_ORDER: Record<string, number> = { deny: 0, warn: 1 };

/** The pod spec before and after the fixes, when they change anything. */
export function workloadFix(result: Evaluation): WorkloadFix | undefined {
  if (!result.fixed || result.patch.length === 0) return undefined;
  const { pointer, podSpec } = result.workload;
  let after: unknown = result.fixed;
  for (const key of pointer.split('/').slice(1)) after = (after as Record<string, unknown>)[key];
  return { patch: result.patch, pointer, before: podSpec, after, rules: result.fixes.map((f) => f.rule) };
}

/**
 * One evaluation as a report entry: findings (deny first) located by `lineOf` in `file`, and what the fixes
 * would change. Objects read from a cluster have no file (null).
 */
export function auditedWorkload(
  result: Evaluation,
  file: string | null,
  line: number | null,
  lineOf: (path: string) => number | null,
): AuditedWorkload {
  const { kind, metadata } = result.workload;
  const fixed = new Set(result.fixes.map((f) => f.rule));
  const findings = result.findings
    .map((f) => ({ ...f, file, line: lineOf(f.path), fixable: fixed.has(f.rule) }))
    .sort((a, b) => (ACTION_ORDER[a.action] ?? 2) - (ACTION_ORDER[b.action] ?? 2));
  const workload: AuditedWorkload = { kind, namespace: metadata.namespace ?? '', name: workloadName(metadata), file, line, findings };
  const fix = workloadFix(result);
  if (fix) workload.fix = fix;
  return workload;
}

/** Audits every manifest of every input against one offline view built from all of them. */
export function audit(
  inputs: readonly InputText[],
  config: PolicyConfig,
  readErrors: readonly GracekeeperError[] = [],
  rules: readonly Rule[] = RULES,
): AuditReport {
  const { files, errors: parseErrors } = parseInputs(inputs);
  const ctx = offlineContext(files, config);
  const report: AuditReport = { workloads: [], files: inputs.length, errors: [...readErrors, ...parseErrors] };
  for (const { parsed } of files) {
    for (const m of parsed.manifests) {
      const result = evaluateManifest(parsed, m, ctx, { fix: true, rules });
      if (result === null) continue;
      if (result instanceof Error) {
        report.errors.push(result);
        continue;
      }
      report.workloads.push(auditedWorkload(result, m.file, m.line, (path) => manifestLine(parsed, m, path)));
    }
  }
  return report;
}

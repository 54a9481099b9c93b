import type { PolicyConfig } from '../config/policy.js';
import type { Finding, Rule } from '../engine/types.js';
import { workloadName } from '../engine/workload.js';
import type { GracekeeperError } from '../errors.js';
import { manifestLine } from '../manifests/parse.js';
import { RULES } from '../rules/index.js';
import type { InputText } from './inputs.js';
import { evaluateManifest, offlineContext, parseInputs } from './manifests.js';

/** A finding with the file and line of the field it concerns. */
export interface LocatedFinding extends Finding {
  file: string;
  line: number;
  /** `gracekeeper mutate` (and the mutating webhook) would fix it on this workload. */
  fixable: boolean;
}

export interface AuditedWorkload {
  kind: string;
  namespace: string;
  name: string;
  file: string;
  line: number;
  findings: LocatedFinding[];
}

export interface AuditReport {
  /** Every workload evaluated, in input order, with or without findings. */
  workloads: AuditedWorkload[];
  files: number;
  errors: GracekeeperError[];
}

const ACTION_ORDER: Record<string, number> = { deny: 0, warn: 1 };

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
      const { kind, metadata } = result.workload;
      const fixed = new Set(result.fixes.map((f) => f.rule));
      const findings = result.findings
        .map((f) => ({ ...f, file: m.file, line: manifestLine(parsed, m, f.path), fixable: fixed.has(f.rule) }))
        .sort((a, b) => (ACTION_ORDER[a.action] ?? 2) - (ACTION_ORDER[b.action] ?? 2));
      report.workloads.push({ kind, namespace: metadata.namespace ?? '', name: workloadName(metadata), file: m.file, line: m.line, findings });
    }
  }
  return report;
}

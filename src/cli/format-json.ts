import type { AuditReport } from './audit.js';
import { summarise } from './summary.js';

/** `--output json`: one object, stable keys; `container` is null where the finding concerns the whole pod. */
export function formatAuditJson(report: AuditReport): string {
  const findings = report.workloads.flatMap((w) =>
    w.findings.map((f) => ({
      rule: f.rule,
      action: f.action,
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      container: f.container ?? null,
      message: f.message,
      path: f.path,
      file: f.file,
      line: f.line,
      fixable: f.fixable,
    })),
  );
  const errors = report.errors.map((e) => ({ code: e.code, where: e.where ?? null, message: e.detail }));
  return `${JSON.stringify({ findings, summary: summarise(report), errors }, null, 2)}\n`;
}

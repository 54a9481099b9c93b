import type { AuditReport } from './audit.js';

export interface AuditSummary {
  findings: number;
  deny: number;
  warn: number;
  /** Workloads evaluated, with or without findings. */
  workloads: number;
  /** Workloads with at least one finding. */
  workloadsWithFindings: number;
  files: number;
  errors: number;
}

export function summarise(report: AuditReport): AuditSummary {
  const findings = report.workloads.flatMap((w) => w.findings);
  return {
    findings: findings.length,
    deny: findings.filter((f) => f.action === 'deny').length,
    warn: findings.filter((f) => f.action === 'warn').length,
    workloads: report.workloads.length,
    workloadsWithFindings: report.workloads.filter((w) => w.findings.length > 0).length,
    files: report.files,
    errors: report.errors.length,
  };
}

export const EXIT_OK = 0;
export const EXIT_DENY = 1;
export const EXIT_ERROR = 2;

/** 2 when any input could not be audited (even if others had deny findings), else 1 on a deny finding, else 0. */
export function auditExitCode(summary: AuditSummary): number {
  if (summary.errors > 0) return EXIT_ERROR;
  return summary.deny > 0 ? EXIT_DENY : EXIT_OK;
}

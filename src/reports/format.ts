/**
 * The report kinds the background scan can write. Both have the same shape (scope, summary, results with
 * policy, rule, result, severity, message, scored, resources, properties): openreports.io/v1alpha1 Report is
 * the successor of wgpolicyk8s.io/v1alpha2 PolicyReport (Kyverno, Policy Reporter); the older one has no
 * report-level `source`, so every result carries its own.
 */
export type ReportFormatName = 'openreports' | 'wgpolicyk8s';

export interface ReportFormat {
  name: ReportFormatName;
  group: string;
  version: string;
  kind: string;
  /** Resource name in the API path and in RBAC. */
  plural: string;
  /** Whether the report itself has `source` (and `configuration.limits`). */
  reportLevelSource: boolean;
}

export const REPORT_FORMATS: Record<ReportFormatName, ReportFormat> = {
  openreports: { name: 'openreports', group: 'openreports.io', version: 'v1alpha1', kind: 'Report', plural: 'reports', reportLevelSource: true },
  wgpolicyk8s: { name: 'wgpolicyk8s', group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'PolicyReport', plural: 'policyreports', reportLevelSource: false },
};

export const apiVersionOfFormat = (f: ReportFormat): string => `${f.group}/${f.version}`;

/** `reports.openreports.io`: as kubectl and RBAC errors name the resource. */
export const resourceOfFormat = (f: ReportFormat): string => `${f.plural}.${f.group}`;

/** Name of the one report per namespace. */
export const REPORT_NAME = 'gracekeeper';

/** `source` of every report and result. */
export const REPORT_SOURCE = 'gracekeeper';

/** Labels on every report the webhook writes; the label selector finds them again (and only them). */
export const REPORT_LABELS = {
  'app.kubernetes.io/managed-by': 'gracekeeper',
  'gracekeeper.io/report': 'namespace',
} as const;

export const REPORT_SELECTOR = Object.entries(REPORT_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

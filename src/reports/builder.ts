import type { Finding } from '../engine/types.js';
import { REPORT_LABELS, REPORT_NAME, REPORT_SOURCE, apiVersionOfFormat, type ReportFormat } from './format.js';

/** The workload a result is about, as an ObjectReference. */
export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

/** What the scan learned of one workload: its findings, or why it could not be read. */
export type ScanOutcome = { findings: readonly Finding[]; fixedRules: readonly string[] } | { unreadable: string };

export interface ScannedWorkload {
  ref: WorkloadRef;
  outcome: ScanOutcome;
}

export type ResultStatus = 'pass' | 'fail' | 'warn' | 'error' | 'skip';
export type ResultSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface ReportResult {
  source: string;
  policy: string;
  rule: string;
  result: ResultStatus;
  severity: ResultSeverity;
  scored: boolean;
  message: string;
  resources: WorkloadRef[];
  properties: Record<string, string>;
  /** When the result was first seen; set by withTimestamps, not by the builder. */
  timestamp?: { seconds: number; nanos: number };
}

export interface ReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

/** A Report / PolicyReport as written to the API server (metadata.resourceVersion added on update). */
export interface ReportObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    resourceVersion?: string;
  };
  scope: { apiVersion: string; kind: string; name: string };
  source?: string;
  configuration?: { limits: { maxResults: number } };
  summary: ReportSummary;
  results: ReportResult[];
}

export interface BuildOptions {
  format: ReportFormat;
  /** The namespace's mode (enforce or audit): what its findings mean at admission. */
  mode: 'enforce' | 'audit';
  /** Results kept at most; the summary counts all. */
  maxResults: number;
  /** Serialised size the results may take at most (default 1 MiB, under etcd's 1.5 MiB object limit). */
  maxResultBytes?: number;
}

/** Policy of the result for a workload the engine could not read (not a rule: rule ids are public API). */
export const UNREADABLE_POLICY = 'workload-unreadable';
/** A finding's message is cut here: the report is for reading, `gracekeeper rules` has the details. */
const MAX_MESSAGE = 1024;
const DEFAULT_MAX_RESULT_BYTES = 1024 * 1024;

export const ANNOTATION_MODE = 'gracekeeper.io/mode';
export const ANNOTATION_WORKLOADS = 'gracekeeper.io/workloads';
export const ANNOTATION_OMITTED = 'gracekeeper.io/results-omitted';
export const ANNOTATION_NOTE = 'gracekeeper.io/note';

/** Order of the results, which also decides what a capped report keeps: fail, then error, then warn. */
const RANK: Record<ResultStatus, number> = { fail: 0, error: 1, warn: 2, pass: 3, skip: 4 };

const cut = (text: string): string => (text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`);

function refOf(ref: WorkloadRef): WorkloadRef {
  const out: WorkloadRef = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, namespace: ref.namespace };
  if (ref.uid) out.uid = ref.uid;
  return out;
}

function findingResult(f: Finding, ref: WorkloadRef, fixed: boolean, mode: string): ReportResult {
  const deny = f.action === 'deny';
  const properties: Record<string, string> = { action: f.action, mode, field: f.path };
  if (f.container) properties.container = f.container;
  if (fixed) properties.fix = 'mutate fixes the Pods of this workload';
  return {
    source: REPORT_SOURCE,
    policy: f.rule,
    rule: f.rule,
    result: deny ? 'fail' : 'warn',
    severity: deny ? 'high' : 'medium',
    scored: deny,
    message: cut(f.message),
    resources: [refOf(ref)],
    properties,
  };
}

function unreadableResult(reason: string, ref: WorkloadRef, mode: string): ReportResult {
  return {
    source: REPORT_SOURCE,
    policy: UNREADABLE_POLICY,
    rule: UNREADABLE_POLICY,
    result: 'error',
    severity: 'high',
    scored: true,
    message: cut(`the rules could not read this workload: ${reason}`),
    resources: [refOf(ref)],
    properties: { mode },
  };
}

const text = (r: ReportResult): string =>
  [r.resources[0]?.kind, r.resources[0]?.name, r.policy, r.properties.container ?? '', r.properties.field ?? '', r.message].join('\u0000');

function compareResults(a: ReportResult, b: ReportResult): number {
  const rank = RANK[a.result] - RANK[b.result];
  if (rank !== 0) return rank;
  const x = text(a);
  const y = text(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The report of one namespace (pure): one result per finding (deny: fail, scored, severity high; warn: warn,
 * not scored, severity medium) and one `error` result per workload the engine could not read; `summary.pass`
 * counts the workloads with nothing to report. Results are sorted (fail, error, warn; then kind, name, rule),
 * so the same findings always give the same report, and capped at `maxResults` and `maxResultBytes`: the
 * summary still counts every result, and annotations say how many were left out.
 */
export function buildReport(namespace: string, workloads: readonly ScannedWorkload[], options: BuildOptions): ReportObject {
  const { format, mode } = options;
  const all: ReportResult[] = [];
  const summary: ReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const w of workloads) {
    if ('unreadable' in w.outcome) {
      all.push(unreadableResult(w.outcome.unreadable, w.ref, mode));
      summary.error++;
      continue;
    }
    if (w.outcome.findings.length === 0) {
      summary.pass++;
      continue;
    }
    const fixed = new Set(w.outcome.fixedRules);
    for (const f of w.outcome.findings) {
      const r = findingResult(f, w.ref, fixed.has(f.rule), mode);
      all.push(r);
      summary[r.result === 'fail' ? 'fail' : 'warn']++;
    }
  }
  all.sort(compareResults);

  const maxBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const results: ReportResult[] = [];
  let bytes = 0;
  for (const r of all) {
    if (results.length >= options.maxResults) break;
    const size = Buffer.byteLength(JSON.stringify(r)) + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    results.push(r);
  }

  const annotations: Record<string, string> = {
    [ANNOTATION_MODE]: mode,
    [ANNOTATION_WORKLOADS]: String(workloads.length),
  };
  const omitted = all.length - results.length;
  if (omitted > 0) {
    const why = results.length >= options.maxResults ? `reports.maxResults is ${options.maxResults}` : `the report would pass ${maxBytes} bytes`;
    annotations[ANNOTATION_OMITTED] = String(omitted);
    annotations[ANNOTATION_NOTE] = `${results.length} of ${all.length} results kept (fail, then error, then warn; ${why}); the summary counts all of them: run gracekeeper audit --cluster -n ${namespace} for the rest`;
  }
  const report: ReportObject = {
    apiVersion: apiVersionOfFormat(format),
    kind: format.kind,
    metadata: { name: REPORT_NAME, namespace, labels: { ...REPORT_LABELS }, annotations },
    scope: { apiVersion: 'v1', kind: 'Namespace', name: namespace },
    summary,
    results,
  };
  if (format.reportLevelSource) {
    report.source = REPORT_SOURCE;
    report.configuration = { limits: { maxResults: options.maxResults } };
  }
  return report;
}

import { REPORT_LABELS } from './format.js';
import type { ReportObject, ReportResult } from './builder.js';

/** A report as the API server holds it: any JSON, keys in any order, with fields others may have added. */
export type StoredReport = { metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: unknown; annotations?: unknown }; [key: string]: unknown };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted at every level: the API server returns keys in its own order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function ours(map: unknown, keep: (key: string) => boolean): Record<string, unknown> {
  if (!isRecord(map)) return {};
  return Object.fromEntries(Object.entries(map).filter(([k]) => keep(k)));
}

const OWN_LABELS = new Set(Object.keys(REPORT_LABELS));

/**
 * What a write would change: our labels and annotations (gracekeeper.io/*), scope, source, configuration,
 * summary and results without their timestamps. Labels or annotations that others added, metadata the API
 * server keeps and result timestamps do not count, so an unchanged scan never writes.
 */
export function reportContent(report: StoredReport | ReportObject): string {
  const r = report as Record<string, unknown>;
  const meta = isRecord(r.metadata) ? r.metadata : {};
  const results = Array.isArray(r.results) ? r.results.map((x) => (isRecord(x) ? { ...x, timestamp: undefined } : x)) : [];
  return canonicalJson({
    apiVersion: r.apiVersion,
    kind: r.kind,
    labels: ours(meta.labels, (k) => OWN_LABELS.has(k)),
    annotations: ours(meta.annotations, (k) => k.startsWith('gracekeeper.io/')),
    scope: r.scope,
    source: r.source,
    configuration: r.configuration,
    summary: r.summary,
    results,
  });
}

export const sameContent = (a: StoredReport | ReportObject, b: StoredReport | ReportObject): boolean => reportContent(a) === reportContent(b);

const resultKey = (r: unknown): string => (isRecord(r) ? canonicalJson({ ...r, timestamp: undefined }) : '');

/**
 * The report with each result's timestamp: the one it had in `previous` when the same result (everything but
 * the timestamp) was there already, else `now`. A finding keeps the time it was first seen across rewrites.
 */
export function withTimestamps(report: ReportObject, previous: StoredReport | undefined, now: Date): ReportObject {
  const seen = new Map<string, { seconds: number; nanos: number }>();
  const old = previous && Array.isArray(previous.results) ? previous.results : [];
  for (const r of old) {
    const ts = isRecord(r) && isRecord(r.timestamp) ? r.timestamp : undefined;
    if (ts && typeof ts.seconds === 'number' && typeof ts.nanos === 'number') seen.set(resultKey(r), { seconds: ts.seconds, nanos: ts.nanos });
  }
  const fresh = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 };
  const results: ReportResult[] = report.results.map((r) => ({ ...r, timestamp: seen.get(resultKey(r)) ?? fresh }));
  return { ...report, results };
}

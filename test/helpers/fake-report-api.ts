/**
 * An in-memory stand-in for the API server's report endpoints, with the behaviour the writer depends on:
 * keys come back in another order (sorted, as the API server's JSON does), metadata gains uid/resourceVersion/
 * creationTimestamp, a replace with an old resourceVersion is a 409, create of an existing name is a 409, and
 * delete of a missing one is a 404. Every call is recorded; failNext or failWhen make calls fail.
 */
import type { ReportObject } from '../../src/reports/builder.js';
import { canonicalJson, type StoredReport } from '../../src/reports/content.js';
import { ReportApiError, type ReportApi } from '../../src/reports/writer.js';

export class FakeReportApi implements ReportApi {
  readonly stored = new Map<string, StoredReport>();
  readonly calls: string[] = [];
  private version = 100;
  failNext: ReportApiError | undefined;
  /** Asked before each call (after failNext): an error to fail it with, e.g. the first lists of a new CRD. */
  failWhen: ((call: string) => ReportApiError | undefined) | undefined;

  private key = (ns: string, name: string) => `${ns}/${name}`;

  private save(report: ReportObject, uid: string): StoredReport {
    const copy = JSON.parse(canonicalJson(report)) as StoredReport & { metadata: Record<string, unknown> };
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.version), uid, creationTimestamp: '2026-01-01T00:00:00Z' };
    this.stored.set(this.key(report.metadata.namespace, report.metadata.name), copy);
    return JSON.parse(JSON.stringify(copy)) as StoredReport;
  }

  private maybeFail(): void {
    const e = this.failNext ?? this.failWhen?.(this.calls.at(-1) ?? '');
    this.failNext = undefined;
    if (e) throw e;
  }

  async list(): Promise<StoredReport[]> {
    this.calls.push('list');
    this.maybeFail();
    return [...this.stored.values()].map((r) => JSON.parse(JSON.stringify(r)) as StoredReport);
  }

  async create(report: ReportObject): Promise<StoredReport> {
    this.calls.push(`create ${report.metadata.namespace}`);
    this.maybeFail();
    if (this.stored.has(this.key(report.metadata.namespace, report.metadata.name))) throw new ReportApiError(409, 'already exists');
    return this.save(report, `uid-${report.metadata.namespace}`);
  }

  async replace(report: ReportObject): Promise<StoredReport> {
    this.calls.push(`update ${report.metadata.namespace}`);
    this.maybeFail();
    const current = this.stored.get(this.key(report.metadata.namespace, report.metadata.name));
    if (!current) throw new ReportApiError(404, 'not found');
    if (report.metadata.resourceVersion !== current.metadata?.resourceVersion) throw new ReportApiError(409, 'the object has been modified');
    return this.save(report, String((current.metadata as Record<string, unknown>).uid));
  }

  async delete(namespace: string, name: string): Promise<void> {
    this.calls.push(`delete ${namespace}`);
    this.maybeFail();
    if (!this.stored.delete(this.key(namespace, name))) throw new ReportApiError(404, 'not found');
  }

  /** What someone else does: change a stored report behind the writer's back. */
  touch(namespace: string, change: (r: StoredReport) => void): void {
    const r = this.stored.get(this.key(namespace, 'gracekeeper'));
    if (!r) throw new Error(`no report in ${namespace}`);
    change(r);
    r.metadata = { ...r.metadata, resourceVersion: String(++this.version) };
  }
}

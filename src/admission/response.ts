import type { Operation as PatchOperation } from 'fast-json-patch';
import type { Finding } from '../engine/types.js';
import { ADMISSION_API_VERSION, type AdmissionResponse, type AdmissionReviewResponse } from './schema.js';

/** What happened to one review: the `result` label of the request metric and the log's `decision`. */
export type Decision = 'allowed' | 'patched' | 'denied' | 'would_deny' | 'would_patch';

export interface Outcome {
  response: AdmissionResponse;
  decision: Decision;
  /** Findings on the object, for metrics and logs (empty when nothing was evaluated). */
  findings: Finding[];
  /** Why nothing was evaluated, when nothing was: for the log line. */
  skipped?: string;
  /** An honoured exemption on the evaluated object, for the log line. */
  exemption?: Exemption;
}

/** Rules an honoured gracekeeper.io/skip exempts (`all` or a comma-separated list) and its one-line reason. */
export interface Exemption {
  rules: string;
  reason: string;
}

export function toReview(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

export function allowed(uid: string, skipped?: string): Outcome {
  return { response: { uid, allowed: true }, decision: 'allowed', findings: [], ...(skipped ? { skipped } : {}) };
}

export function encodePatch(patch: readonly PatchOperation[]): string {
  return Buffer.from(JSON.stringify(patch)).toString('base64');
}

export function denialStatus(message: string): NonNullable<AdmissionResponse['status']> {
  return { status: 'Failure', code: 403, reason: 'Forbidden', message };
}

/**
 * Audit annotation values are stored in the API server's audit log; keep each bounded. Keys are plain names:
 * the API server prefixes them with the webhook's name (`<webhook name>/<key>`) and drops any key that would
 * then not be a qualified name, so they must not contain a `/` themselves.
 */
const MAX_ANNOTATION_VALUE = 8 * 1024;
export function auditValue(text: string): string {
  return text.length > MAX_ANNOTATION_VALUE ? `${text.slice(0, MAX_ANNOTATION_VALUE - 3)}...` : text;
}

/** `rule-id (container 'app')`, or the rule id alone for controller-level findings. */
export function findingLabel(f: Pick<Finding, 'rule' | 'container'>): string {
  return f.container ? `${f.rule} (container '${f.container}')` : f.rule;
}

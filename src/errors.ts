/**
 * Every named failure Gracekeeper can report. Codes are stable strings (they reach logs, metrics and CLI
 * output); messages say what is wrong and, where possible, which field or file.
 */
export const ErrorCode = {
  ConfigInvalid: 'CONFIG_INVALID',
  ConfigUnreadable: 'CONFIG_UNREADABLE',
  WorkloadUnreadable: 'WORKLOAD_UNREADABLE',
  /** A rule threw on a workload (a bug): reported for that workload, the others are still evaluated. */
  EvaluationFailed: 'EVALUATION_FAILED',
  ManifestUnreadable: 'MANIFEST_UNREADABLE',
  ManifestSyntax: 'MANIFEST_SYNTAX',
  UsageInvalid: 'USAGE_INVALID',
  ReviewInvalid: 'REVIEW_INVALID',
  ReviewNotJson: 'REVIEW_NOT_JSON',
  ReviewUnsupportedVersion: 'REVIEW_UNSUPPORTED_VERSION',
  ContentTypeUnsupported: 'CONTENT_TYPE_UNSUPPORTED',
  BodyTooLarge: 'BODY_TOO_LARGE',
  TlsUnreadable: 'TLS_UNREADABLE',
  ClusterUnavailable: 'CLUSTER_UNAVAILABLE',
  /** The API server refused a request for lack of RBAC rights (403): the message names the verb and resource. */
  ClusterForbidden: 'CLUSTER_FORBIDDEN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class GracekeeperError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is: a config field path, a file:line, a JSON pointer. */
  readonly where: string | undefined;
  /** The message without the `where:` prefix, for callers that show the location their own way. */
  readonly detail: string;

  constructor(code: ErrorCode, message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'GracekeeperError';
    this.code = code;
    this.where = where;
    this.detail = message;
  }
}

export function isGracekeeperError(e: unknown): e is GracekeeperError {
  return e instanceof GracekeeperError;
}

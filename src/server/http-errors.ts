import { ErrorCode, isGracekeeperError } from '../errors.js';

/** The plain JSON body of every non-200 answer: one line saying what is wrong. */
export interface ErrorBody {
  error: string;
  code: string;
}

export interface HttpError {
  status: number;
  body: ErrorBody;
}

const firstLine = (text: string) => (text.split('\n')[0] ?? '').slice(0, 300);

const CLIENT_ERRORS: readonly string[] = [ErrorCode.ReviewInvalid, ErrorCode.ReviewNotJson, ErrorCode.ReviewUnsupportedVersion];

/**
 * Maps what can go wrong with a request to a status and a clear reason. Fastify's own errors (content type,
 * body size) get the project's codes; a GracekeeperError about the body or the review is a 400; anything else
 * is a bug: 500, so the API server applies the webhook's failurePolicy.
 */
export function toHttpError(error: unknown, bodyLimitBytes: number, contentType: string | undefined): HttpError {
  if (isGracekeeperError(error) && CLIENT_ERRORS.includes(error.code)) {
    return { status: 400, body: { error: firstLine(error.message), code: error.code } };
  }
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const got = contentType ? `'${contentType.slice(0, 80)}'` : 'none';
    return { status: 415, body: { error: `content type must be application/json, got ${got}`, code: ErrorCode.ContentTypeUnsupported } };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: `body is larger than the limit of ${bodyLimitBytes} bytes`, code: ErrorCode.BodyTooLarge } };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: firstLine(e.message ?? 'bad request'), code: e.code ?? 'BAD_REQUEST' } };
  }
  return { status: 500, body: { error: 'internal error: see the webhook logs', code: 'INTERNAL' } };
}

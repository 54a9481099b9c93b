import { ErrorCode, GracekeeperError } from '../errors.js';
import { isObject } from '../engine/workload.js';
import { fieldName } from '../config/policy.js';
import { describeValueError, specificError } from '../config/schema-errors.js';
import { ADMISSION_API_VERSION, admissionReviewCheck, type AdmissionReview } from './schema.js';

function invalid(message: string, code: typeof ErrorCode.ReviewInvalid | typeof ErrorCode.ReviewUnsupportedVersion = ErrorCode.ReviewInvalid) {
  return new GracekeeperError(code, message);
}

/** At most this much of a value the sender chose goes back into an error message. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Checks a parsed request body is an admission.k8s.io/v1 AdmissionReview with a usable request. The most
 * common mistakes get their own message; anything else names the first wrong field. Throws REVIEW_INVALID
 * or REVIEW_UNSUPPORTED_VERSION with a one-line reason (the server answers 400).
 */
export function decodeReview(body: unknown): AdmissionReview {
  if (!isObject(body)) throw invalid(`body must be a JSON object (an AdmissionReview), got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`);
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    throw invalid(`apiVersion must be ${ADMISSION_API_VERSION}, got ${shown(body.apiVersion)}`, ErrorCode.ReviewUnsupportedVersion);
  }
  if (body.kind !== 'AdmissionReview') throw invalid(`kind must be AdmissionReview, got ${shown(body.kind)}`);
  const request = body.request;
  if (!isObject(request)) throw invalid(request === undefined || request === null ? 'request is missing' : 'request must be an object');
  if (typeof request.uid !== 'string' || request.uid === '') throw invalid('request.uid is missing or empty');
  // The compiled Check is fast; Errors() walks the schema dynamically, so it runs only for a bad review.
  const first = admissionReviewCheck.Check(body) ? undefined : admissionReviewCheck.Errors(body).First();
  if (first) {
    const error = specificError(first);
    throw invalid(`${fieldName(error.path)}: ${describeValueError(error)}`);
  }
  const review = body as AdmissionReview;
  const { operation, object } = review.request;
  if ((operation === 'CREATE' || operation === 'UPDATE') && !object) throw invalid(`request.object is required for ${operation}`);
  return review;
}

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * admission.k8s.io/v1 AdmissionReview as the API server sends it (k8s.io/api/admission/v1 types.go).
 * @kubernetes/client-node has no type for it. Fields the API server always sets are required; optional ones
 * are typed when present. Objects are left open: the engine checks the part of them it reads.
 */
const Opt = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const AnyObject = Type.Object({}, { additionalProperties: true });

export const GroupVersionKind = Type.Object({ group: Type.String(), version: Type.String(), kind: Type.String() });
export const GroupVersionResource = Type.Object({ group: Type.String(), version: Type.String(), resource: Type.String() });

export const Operation = Type.Union([Type.Literal('CREATE'), Type.Literal('UPDATE'), Type.Literal('DELETE'), Type.Literal('CONNECT')]);
export type Operation = Static<typeof Operation>;

export const AdmissionRequestSchema = Type.Object({
  uid: Type.String({ minLength: 1 }),
  kind: GroupVersionKind,
  resource: Opt(GroupVersionResource),
  subResource: Opt(Type.String()),
  requestKind: Opt(GroupVersionKind),
  requestResource: Opt(GroupVersionResource),
  requestSubResource: Opt(Type.String()),
  name: Opt(Type.String()),
  namespace: Opt(Type.String()),
  operation: Operation,
  userInfo: Opt(
    Type.Object({
      username: Opt(Type.String()),
      uid: Opt(Type.String()),
      groups: Opt(Type.Array(Type.String())),
      extra: Opt(Type.Record(Type.String(), Type.Array(Type.String()))),
    }),
  ),
  object: Opt(AnyObject),
  oldObject: Opt(AnyObject),
  dryRun: Opt(Type.Boolean()),
  options: Opt(AnyObject),
});
export type AdmissionRequest = Static<typeof AdmissionRequestSchema>;

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export const AdmissionReviewSchema = Type.Object({
  apiVersion: Type.Literal(ADMISSION_API_VERSION),
  kind: Type.Literal('AdmissionReview'),
  request: AdmissionRequestSchema,
});
export type AdmissionReview = Static<typeof AdmissionReviewSchema>;

/** Compiled once at load: the check runs on every request. */
export const admissionReviewCheck = TypeCompiler.Compile(AdmissionReviewSchema);

/** metav1.Status, as much of it as a webhook returns. */
export interface ResponseStatus {
  status: 'Failure';
  code: number;
  reason: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: ResponseStatus;
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch. */
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

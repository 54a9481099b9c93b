/**
 * The catalogue of hostile and malformed admission requests: what is sent, and what must come back. Each case
 * is plain data so the same list can be replayed through app.inject(), over a real TLS socket and by the
 * fault scripts. Expectations come from the contract (issue #3 and #7): 415 for a wrong content type, 413 over
 * the body limit, 400 with a one-line reason for a body that is not a usable AdmissionReview, and a 200
 * AdmissionReview for a well-formed review of an object the engine cannot read (denied in enforce, allowed
 * with a warning in audit), whose message names the field.
 */
import { loadReview } from '../../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A review fixture from test/fixtures/reviews/, by name without `.json`, parsed fresh. */
export const fixture = (name: string): Json => loadReview(`${name}.json`);

/** The review every case is a variation of: a Pod created by a ReplicaSet, defaults filled in. */
export const BASE = 'pod-create-proxy';
export const BODY_LIMIT = 6 * 1024 * 1024;

export type Expectation =
  /** A 4xx with `{error, code}` whose error contains `message`. */
  | { status: 400 | 404 | 413 | 415; message: string | RegExp }
  /** A 200 AdmissionReview with this `allowed`, whose status message (denied) or warnings (allowed) contain `message`. */
  | { status: 200; allowed: boolean; message: string | RegExp }
  /** A 200 AdmissionReview equal (uid aside) to the answer for the same request without the hostile part. */
  | { status: 200; sameAs: string | Buffer }
  /** A well-formed 200 AdmissionReview whose patch, if any, applies to request.object (no decision is implied). */
  | { status: 200; wellFormed: true };

export interface HostileCase {
  name: string;
  /** Default /validate (the default mode, enforce). */
  url?: string;
  /** Default application/json; null sends none. */
  contentType?: string | null;
  body: string | Buffer;
  expect: Expectation;
  /** Also send it over a real TLS socket (a handful: the transport-level cases). */
  overTls?: boolean;
}

const json = (value: unknown) => JSON.stringify(value);

/** The base review as JSON after `edit` changed a fresh copy of it. */
export function edited(edit: (review: Json) => void, name = BASE): string {
  const review = fixture(name);
  edit(review);
  return json(review);
}

/** The base review with one field of the Pod (a path under request.object) set to `value`. */
function podField(path: string, value: unknown, name = BASE): string {
  return edited((r) => {
    const keys = path.split('.');
    let cur = r.request.object;
    for (const k of keys.slice(0, -1)) cur = cur[/^\d+$/.test(k) ? Number(k) : k];
    cur[keys.at(-1)!] = value;
  }, name);
}

/** The base review as JSON with `raw` (any JSON text) placed at request.object.spec.containers[0].x. */
function withRawField(raw: string, field = 'x'): string {
  const marker = '"__RAW__"';
  return edited((r) => {
    r.request.object.spec.containers[0][field] = '__RAW__';
  }).replace(marker, raw);
}

const unreadable = (field: string): Expectation => ({ status: 200, allowed: false, message: new RegExp(`cannot read this object: .*${field.replace(/[.[\]]/g, '\\$&')}`) });

function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function bodyOfSize(bytes: number): string {
  // A valid review padded, in an unknown field, to exactly `bytes` bytes.
  const base = edited((r) => {
    r.request.object.metadata.annotations = { pad: '' };
  });
  const padding = bytes - Buffer.byteLength(base);
  return base.replace('"pad":""', `"pad":"${'p'.repeat(padding)}"`);
}

/** Wrong types for every pod-spec field the engine reads (src/engine/shape.ts). */
const WRONG_TYPES: Array<[path: string, value: unknown, field: string]> = [
  ['spec.containers', { name: 'app' }, 'spec.containers'],
  ['spec.containers', [], 'spec.containers'],
  ['spec.containers', null, 'spec.containers'],
  ['spec.containers.0', 'app', 'spec.containers[0]'],
  ['spec.containers.0.name', 42, 'spec.containers[0].name'],
  ['spec.containers.0.image', ['nginx'], 'spec.containers[0].image'],
  ['spec.containers.0.command', 'sleep 5', 'spec.containers[0].command'],
  ['spec.containers.0.args', [1, 2], 'spec.containers[0].args[0]'],
  ['spec.containers.0.ports', { containerPort: 8080 }, 'spec.containers[0].ports'],
  ['spec.containers.0.ports.0.containerPort', '8080', 'spec.containers[0].ports[0].containerPort'],
  ['spec.containers.0.ports.0.containerPort', 80.5, 'spec.containers[0].ports[0].containerPort'],
  ['spec.containers.0.env', { DB_HOST: '127.0.0.1' }, 'spec.containers[0].env'],
  ['spec.containers.0.env.0.name', 7, 'spec.containers[0].env[0].name'],
  ['spec.containers.0.env.0.value', 5432, 'spec.containers[0].env[0].value'],
  ['spec.containers.0.envFrom', 'secret', 'spec.containers[0].envFrom'],
  ['spec.containers.0.lifecycle', 'sleep', 'spec.containers[0].lifecycle'],
  ['spec.containers.0.lifecycle', { preStop: { exec: { command: 'sleep 5' } } }, 'spec.containers[0].lifecycle.preStop.exec.command'],
  ['spec.containers.0.lifecycle', { preStop: { sleep: { seconds: '5' } } }, 'spec.containers[0].lifecycle.preStop.sleep.seconds'],
  ['spec.containers.0.readinessProbe', 'GET /healthz', 'spec.containers[0].readinessProbe'],
  ['spec.containers.0.livenessProbe', true, 'spec.containers[0].livenessProbe'],
  ['spec.containers.0.startupProbe', 3, 'spec.containers[0].startupProbe'],
  ['spec.containers.0.restartPolicy', 1, 'spec.containers[0].restartPolicy'],
  ['spec.containers.0.volumeMounts', [{ name: 'data', mountPath: 5 }], 'spec.containers[0].volumeMounts[0].mountPath'],
  ['spec.initContainers', { name: 'init' }, 'spec.initContainers'],
  ['spec.terminationGracePeriodSeconds', '30', 'spec.terminationGracePeriodSeconds'],
  ['spec.terminationGracePeriodSeconds', 1.5, 'spec.terminationGracePeriodSeconds'],
  ['spec.restartPolicy', false, 'spec.restartPolicy'],
  ['spec.volumes', [{ name: 'data', persistentVolumeClaim: { claimName: 9 } }], 'spec.volumes[0].persistentVolumeClaim.claimName'],
  ['metadata.labels', { app: 7 }, 'metadata.labels.app'],
  ['metadata.annotations', { 'gracekeeper.io/skip': true }, 'metadata.annotations'],
  ['metadata.name', 12, 'metadata.name'],
  ['spec', 'pod', 'spec'],
  ['spec.containers.0.ports.0.name', 8080, 'spec.containers[0].ports[0].name'],
  ['spec.containers.0.ports.0.protocol', ['TCP'], 'spec.containers[0].ports[0].protocol'],
  ['spec.containers.0.env.0.valueFrom', 'secret', 'spec.containers[0].env[0].valueFrom'],
  ['spec.containers.0.volumeMounts', [{ name: 1, mountPath: '/data' }], 'spec.containers[0].volumeMounts[0].name'],
  ['spec.containers.0.lifecycle', { postStart: { exec: { command: [1] } } }, 'spec.containers[0].lifecycle.postStart.exec.command[0]'],
  ['spec.containers.0.lifecycle', { preStop: { httpGet: '/quit' } }, 'spec.containers[0].lifecycle.preStop.httpGet'],
  ['spec.containers.0.lifecycle', { preStop: { tcpSocket: 8080 } }, 'spec.containers[0].lifecycle.preStop.tcpSocket'],
  ['spec.volumes', [{ name: ['data'] }], 'spec.volumes[0].name'],
  ['metadata.generateName', true, 'metadata.generateName'],
  ['metadata.namespace', { name: 'shop' }, 'metadata.namespace'],
];

const CONTROLLER_WRONG_TYPES: Array<[path: string, value: unknown, field: string]> = [
  ['spec.replicas', '3', 'spec.replicas'],
  ['spec.strategy.rollingUpdate', { maxUnavailable: true }, 'spec.strategy.rollingUpdate.maxUnavailable'],
  ['spec.template', null, 'spec.template'],
  ['spec.template.spec.containers', 'app', 'spec.template.spec.containers'],
  ['spec.serviceName', 5, 'spec.serviceName'],
  ['spec.volumeClaimTemplates', { name: 'data' }, 'spec.volumeClaimTemplates'],
  ['spec.strategy.type', 1, 'spec.strategy.type'],
  ['spec.strategy.rollingUpdate', { maxSurge: [1] }, 'spec.strategy.rollingUpdate.maxSurge'],
  ['spec.template.metadata', 'web', 'spec.template.metadata'],
];

/** The Deployment fixture turned into a CronJob (batch/v1), its pod template under spec.jobTemplate.spec. */
function cronJob(jobTemplate: unknown): string {
  return edited((r) => {
    const template = r.request.object.spec.template;
    r.request.kind = { group: 'batch', version: 'v1', kind: 'CronJob' };
    r.request.object.kind = 'CronJob';
    r.request.object.apiVersion = 'batch/v1';
    r.request.object.spec = { schedule: '*/5 * * * *', jobTemplate: jobTemplate === undefined ? { spec: { template } } : jobTemplate };
  }, 'deployment-create-proxy');
}

export function catalogue(): HostileCase[] {
  const base = edited(() => {});
  const cases: HostileCase[] = [
    // Transport: the body is not JSON at all, or not the right kind of request.
    { name: 'empty body', body: '', expect: { status: 400, message: 'body is empty' }, overTls: true },
    { name: 'whitespace body', body: '  \n ', expect: { status: 400, message: 'body is empty' } },
    { name: 'truncated JSON', body: base.slice(0, base.length >> 1), expect: { status: 400, message: 'not valid JSON' }, overTls: true },
    { name: 'wrong content type text/plain', contentType: 'text/plain', body: base, expect: { status: 415, message: "got 'text/plain'" }, overTls: true },
    { name: 'form content type', contentType: 'application/x-www-form-urlencoded', body: 'a=1', expect: { status: 415, message: 'content type must be application/json' } },
    { name: 'no content type', contentType: null, body: base, expect: { status: 415, message: 'content type must be application/json' } },
    { name: 'content type with charset is fine', contentType: 'application/json; charset=utf-8', body: base, expect: { status: 200, sameAs: base } },
    { name: 'JSON array', body: '[]', expect: { status: 400, message: 'got an array' } },
    { name: 'JSON number', body: '42', expect: { status: 400, message: 'got number' } },
    { name: 'JSON string', body: '"AdmissionReview"', expect: { status: 400, message: 'got string' } },
    { name: 'JSON null', body: 'null', expect: { status: 400, message: 'got null' } },
    { name: 'JSON true', body: 'true', expect: { status: 400, message: 'got boolean' } },
    { name: 'empty object', body: '{}', expect: { status: 400, message: 'apiVersion must be admission.k8s.io/v1' } },
    { name: 'one byte over the body limit', body: bodyOfSize(BODY_LIMIT + 1), expect: { status: 413, message: `limit of ${BODY_LIMIT} bytes` }, overTls: true },
    { name: 'exactly the body limit', body: bodyOfSize(BODY_LIMIT), expect: { status: 200, sameAs: base } },
    { name: 'unknown admission path', url: '/validate/off', body: base, expect: { status: 404, message: 'no route POST /validate/off' } },

    // AdmissionReview envelope.
    { name: 'request missing', body: json({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), expect: { status: 400, message: 'request is missing' } },
    { name: 'request null', body: edited((r) => (r.request = null)), expect: { status: 400, message: 'request is missing' } },
    { name: 'request empty', body: edited((r) => (r.request = {})), expect: { status: 400, message: 'request.uid is missing or empty' } },
    { name: 'request an array', body: edited((r) => (r.request = [r.request])), expect: { status: 400, message: 'request must be an object' } },
    { name: 'uid missing', body: edited((r) => delete r.request.uid), expect: { status: 400, message: 'request.uid is missing or empty' } },
    { name: 'uid empty', body: edited((r) => (r.request.uid = '')), expect: { status: 400, message: 'request.uid is missing or empty' } },
    { name: 'uid a number', body: edited((r) => (r.request.uid = 12345)), expect: { status: 400, message: 'request.uid is missing or empty' } },
    { name: 'admission.k8s.io/v1beta1', body: edited((r) => (r.apiVersion = 'admission.k8s.io/v1beta1')), expect: { status: 400, message: "got 'admission.k8s.io/v1beta1'" } },
    { name: 'unknown apiVersion', body: edited((r) => (r.apiVersion = 'admission.k8s.io/v2')), expect: { status: 400, message: 'apiVersion must be admission.k8s.io/v1' } },
    { name: 'apiVersion missing', body: edited((r) => delete r.apiVersion), expect: { status: 400, message: 'apiVersion must be admission.k8s.io/v1' } },
    { name: 'kind not AdmissionReview', body: edited((r) => (r.kind = 'AdmissionResponse')), expect: { status: 400, message: 'kind must be AdmissionReview' } },
    { name: 'operation unknown', body: edited((r) => (r.request.operation = 'PATCH')), expect: { status: 400, message: 'request.operation' } },
    { name: 'request.kind missing', body: edited((r) => delete r.request.kind), expect: { status: 400, message: 'request.kind' } },
    { name: 'object null on CREATE', body: edited((r) => (r.request.object = null)), expect: { status: 400, message: 'request.object is required for CREATE' } },
    { name: 'object a string', body: edited((r) => (r.request.object = 'pod')), expect: { status: 400, message: 'request.object' } },
    { name: 'object an array', body: edited((r) => (r.request.object = [r.request.object])), expect: { status: 400, message: 'request.object' } },
    { name: 'dryRun a string', body: edited((r) => (r.request.dryRun = 'true')), expect: { status: 400, message: 'request.dryRun' } },
    { name: 'userInfo.groups a string', body: edited((r) => (r.request.userInfo.groups = 'system:masters')), expect: { status: 400, message: 'request.userInfo.groups' } },
    { name: 'long uid is echoed, not refused', body: edited((r) => (r.request.uid = 'u'.repeat(10_000))), expect: { status: 200, sameAs: base } },

    // Prototype keys: refused by the parser (the API server never sends them: no map in a Pod accepts them),
    // and harmless names that merely look like Object.prototype members change nothing.
    { name: '__proto__ key in the object', body: podField('metadata.labels', '__LABELS__').replace('"__LABELS__"', '{"app":"web","__proto__":{"polluted":"yes"}}'), expect: { status: 400, message: 'forbidden __proto__' } },
    { name: '__proto__ key at the top', body: base.replace('{', '{"__proto__":{"allowed":true},'), expect: { status: 400, message: 'forbidden __proto__' } },
    { name: 'constructor.prototype key', body: withRawField('{"prototype":{"polluted":"yes"}}', 'constructor'), expect: { status: 400, message: 'forbidden constructor.prototype key' } },
    {
      name: 'labels named like Object.prototype members',
      body: podField('metadata.labels', { app: 'web', 'pod-template-hash': '7c9d5b8f6d', constructor: 'x', hasOwnProperty: 'y', toString: 'z', valueOf: 'v' }),
      expect: { status: 200, sameAs: base },
    },
    { name: 'constructor key with a plain value', body: withRawField('"x"', 'constructor'), expect: { status: 200, sameAs: base } },

    // Size and shape.
    // Nesting: refused above MAX_JSON_DEPTH (no Kubernetes object comes close); below it, ignored where unknown.
    { name: '10,000-deep nesting in an unknown field', url: '/mutate', body: withRawField(nested(10_000)), expect: { status: 400, message: 'deeper than 256 levels' } },
    { name: '10,000-deep nesting in the envelope', body: base.replace('{', `{"deep":${nested(10_000)},`), expect: { status: 400, message: 'deeper than 256 levels' }, overTls: true },
    { name: '10,000-deep nesting where the engine reads', body: withRawField(nested(10_000), 'command'), expect: { status: 400, message: 'deeper than 256 levels' } },
    { name: '200-deep nesting in an unknown field', url: '/mutate', body: withRawField(nested(200)), expect: { status: 200, sameAs: edited(() => {}) } },
    { name: '200-deep nesting where the engine reads', body: withRawField(nested(200), 'command'), expect: unreadable('spec.containers[0].command') },
    { name: '100,000-element array in an unknown field', url: '/mutate', body: withRawField(json(Array.from({ length: 100_000 }, (_, i) => i))), expect: { status: 200, sameAs: edited(() => {}) } },
    { name: '100,000 args', body: podField('spec.containers.0.args', Array.from({ length: 100_000 }, (_, i) => `--flag-${i}`)), expect: { status: 200, sameAs: base } },
    {
      name: '10,000 env entries',
      url: '/mutate',
      body: podField('spec.containers.0.env', [
        { name: 'DB_HOST', value: '127.0.0.1' },
        { name: 'DB_PORT', value: '5432' },
        ...Array.from({ length: 10_000 }, (_, i) => ({ name: `E${i}`, value: 'v' })),
      ]),
      expect: { status: 200, sameAs: edited(() => {}) },
    },
    { name: 'huge string (1 MiB image name)', body: podField('spec.containers.0.image', `registry.example/${'a'.repeat(1 << 20)}:1`), expect: { status: 200, wellFormed: true } },
    { name: 'huge annotation (2 MiB)', body: podField('metadata.annotations', { note: 'n'.repeat(2 << 20) }), expect: { status: 200, sameAs: base } },
    { name: 'invalid UTF-8 inside a string', body: Buffer.concat([Buffer.from(podField('metadata.annotations', { note: '__X__' }).split('__X__')[0]!), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(podField('metadata.annotations', { note: '__X__' }).split('__X__')[1]!)]), expect: { status: 200, sameAs: podField('metadata.annotations', { note: '\ufffd\ufffd\ufffd' }) }, overTls: true },
    { name: 'invalid UTF-8 outside strings', body: Buffer.concat([Buffer.from('{'), Buffer.from([0xff, 0xfe]), Buffer.from(base.slice(1))]), expect: { status: 400, message: 'not valid JSON' } },
    { name: 'duplicate container names', url: '/mutate', body: edited((r) => r.request.object.spec.containers.push(structuredClone(r.request.object.spec.containers[0]))), expect: { status: 200, wellFormed: true } },
    { name: 'duplicate JSON keys (last wins)', body: base.replace('"kind":"AdmissionReview"', '"kind":"Nonsense","kind":"AdmissionReview"'), expect: { status: 200, sameAs: base } },
    { name: 'grace period 1e308', url: '/mutate', body: podField('spec.terminationGracePeriodSeconds', 1e308), expect: { status: 200, wellFormed: true } },
    { name: 'negative grace period', url: '/mutate', body: podField('spec.terminationGracePeriodSeconds', -5), expect: { status: 200, wellFormed: true } },

    // Audit mode: the same unreadable object is allowed with a warning naming the field.
    { name: 'unreadable object in audit mode', url: '/validate/audit', body: podField('spec.containers', { name: 'app' }), expect: { status: 200, allowed: true, message: 'cannot read this object: Pod: spec.containers' } },
    { name: 'unreadable object on /mutate (enforce)', url: '/mutate', body: podField('spec.containers.0.ports.0.containerPort', '8080'), expect: unreadable('spec.containers[0].ports[0].containerPort') },
  ];
  for (const [path, value, field] of WRONG_TYPES) {
    cases.push({ name: `wrong type: ${path} = ${JSON.stringify(value)?.slice(0, 40)}`, body: podField(path, value), expect: unreadable(field) });
  }
  for (const [path, value, field] of CONTROLLER_WRONG_TYPES) {
    cases.push({ name: `wrong type (Deployment): ${path} = ${JSON.stringify(value)}`, body: podField(path, value, 'deployment-create-proxy'), expect: unreadable(field) });
  }
  cases.push(
    { name: 'wrong type (CronJob): spec.jobTemplate = "job"', body: cronJob('job'), expect: unreadable('spec.jobTemplate') },
    { name: 'wrong type (CronJob): spec.jobTemplate.spec.template = []', body: cronJob({ spec: { template: [] } }), expect: unreadable('spec.jobTemplate.spec.template') },
    { name: 'a well-formed CronJob is answered', body: cronJob(undefined), expect: { status: 200, wellFormed: true } },
  );
  return cases;
}

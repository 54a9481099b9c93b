/**
 * Property-based fuzzing of the HTTP layer (fast-check, bounded runs so `npm test` stays quick): random JSON
 * bodies and random mutations of valid reviews. No exception escapes (never a 5xx, no error log), every 200
 * is a well-formed AdmissionReview echoing the request's uid, and every returned patch applies cleanly, with
 * validation, to the request object.
 */
import t from 'tap';
import fc from 'fast-check';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { AdmissionReviewResponse } from '../../src/admission/schema.js';
import { testServer } from '../helpers/server.js';
import { fixture } from './lib/catalogue.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const ENDPOINTS = ['/mutate', '/validate', '/mutate/enforce', '/mutate/audit', '/validate/enforce', '/validate/audit'] as const;
const FIXTURES = ['pod-create-proxy', 'deployment-create-proxy', 'deployment-update-replicas'] as const;

// Hundreds of requests: give the file room when `npm test` runs every file at once on a busy 2-core machine.
t.setTimeout(120_000);

const server = testServer();
t.teardown(() => server.app.close());

type Path = Array<string | number>;

/** Every path into `value` (objects and arrays), the root excluded. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...prefix, i]), pathsOf(v, [...prefix, i], out)));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push([...prefix, k]), pathsOf(v, [...prefix, k], out);
  }
  return out;
}

interface Mutation {
  pathIndex: number;
  action: 'replace' | 'delete' | 'wrap' | 'duplicate' | 'stringify';
  value: unknown;
}

function mutate(doc: Record<string, unknown>, m: Mutation): void {
  const paths = pathsOf(doc);
  if (paths.length === 0) return;
  const path = paths[m.pathIndex % paths.length]!;
  let parent: Record<string | number, unknown> = doc;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = path.at(-1)!;
  const old = parent[key];
  switch (m.action) {
    case 'replace':
      parent[key] = m.value;
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'wrap':
      parent[key] = [old];
      break;
    case 'duplicate':
      if (Array.isArray(old) && old.length > 0) old.push(structuredClone(old[0]));
      else parent[key] = { value: old };
      break;
    case 'stringify':
      parent[key] = typeof old === 'number' ? String(old) : JSON.stringify(old);
      break;
  }
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  pathIndex: fc.nat(),
  action: fc.constantFrom('replace', 'delete', 'wrap', 'duplicate', 'stringify'),
  value: fc.jsonValue({ maxDepth: 3 }),
});

interface Checked {
  status: number;
  answer?: AdmissionReviewResponse;
}

/** POSTs and checks what must hold for any input; returns the answer for further checks. */
async function postAndCheck(url: string, payload: string): Promise<Checked> {
  const res = await server.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
  if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${payload.slice(0, 200)}: ${res.body}`);
  if (res.statusCode !== 200) {
    const body = res.json() as { error?: unknown; code?: unknown };
    if (typeof body.error !== 'string' || typeof body.code !== 'string' || body.error.includes('\n')) {
      throw new Error(`${res.statusCode} without a one-line reason: ${res.body}`);
    }
    return { status: res.statusCode };
  }
  const answer = res.json() as AdmissionReviewResponse;
  if (answer.apiVersion !== 'admission.k8s.io/v1' || answer.kind !== 'AdmissionReview') throw new Error(`not an AdmissionReview: ${res.body}`);
  if (typeof answer.response?.allowed !== 'boolean') throw new Error(`no allowed: ${res.body}`);
  for (const w of answer.response.warnings ?? []) if (typeof w !== 'string' || w.length >= 120) throw new Error(`bad warning: ${w}`);
  if (!answer.response.allowed && typeof answer.response.status?.message !== 'string') throw new Error(`denied without a message: ${res.body}`);
  return { status: 200, answer };
}

function checkPatchApplies(answer: AdmissionReviewResponse, object: unknown): void {
  const { patch, patchType } = answer.response;
  if (patch === undefined) return;
  if (patchType !== 'JSONPatch') throw new Error(`patch without patchType JSONPatch`);
  const ops = JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as Operation[];
  if (!Array.isArray(ops) || ops.length === 0) throw new Error('patch is not a non-empty array of operations');
  const error = jsonpatch.validate(ops, structuredClone(object));
  if (error) throw new Error(`patch does not apply: ${error.name} ${error.message}`);
  jsonpatch.applyPatch(structuredClone(object), ops, true, false);
}

const WORKLOAD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'Service'];
const randomObject = fc.oneof(
  fc.object(),
  fc.record({ kind: fc.constantFrom(...WORKLOAD_KINDS), metadata: fc.oneof(fc.object(), fc.jsonValue()), spec: fc.oneof(fc.object({ maxDepth: 4 }), fc.jsonValue()) }),
);
/** An AdmissionReview envelope (sometimes right, often not) around a random object. */
const randomReview = fc
  .record({
    uid: fc.oneof(fc.string({ minLength: 1 }), fc.jsonValue()),
    kind: fc.record({ group: fc.constantFrom('', 'apps', 'batch'), version: fc.constant('v1'), kind: fc.constantFrom(...WORKLOAD_KINDS) }),
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'PATCH'),
    object: randomObject,
    oldObject: fc.option(randomObject, { nil: undefined }),
  })
  .map((request) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));

t.test('random JSON bodies never get a 5xx, and a 200 echoes the uid', async (t) => {
  let answered = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.oneof(fc.json({ maxDepth: 4 }), fc.string(), randomReview), async (url, payload) => {
      const { status, answer } = await postAndCheck(url, payload);
      if (status === 200) {
        answered++;
        const uid = (JSON.parse(payload) as { request: { uid: unknown } }).request.uid;
        if (answer!.response.uid !== uid) throw new Error(`uid ${answer!.response.uid} does not echo ${String(uid)}`);
      }
    }),
    { numRuns: RUNS },
  );
  t.comment(`${answered} of ${RUNS} random bodies were usable reviews`);
  t.ok(answered > 0, 'some random bodies reached the engine');
});

t.test('random mutations of valid reviews: well-formed answers, uid echoed, patches apply', async (t) => {
  const outcomes = { 200: 0, 400: 0, other: 0, patched: 0 };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...FIXTURES), fc.constantFrom(...ENDPOINTS), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (name, url, mutations) => {
      const review = fixture(name) as Record<string, unknown>;
      for (const m of mutations) mutate(review, m);
      const payload = JSON.stringify(review);
      const { status, answer } = await postAndCheck(url, payload);
      if (status === 200) {
        outcomes[200]++;
        const request = (review.request ?? {}) as { uid?: unknown; object?: unknown };
        if (answer!.response.uid !== request.uid) throw new Error(`uid ${answer!.response.uid} does not echo ${String(request.uid)}`);
        if (answer!.response.patch) outcomes.patched++;
        checkPatchApplies(answer!, request.object);
      } else if (status === 400) outcomes[400]++;
      else outcomes.other++;
    }),
    { numRuns: RUNS * 2 },
  );
  t.comment(`outcomes: ${JSON.stringify(outcomes)}`);
  t.ok(outcomes[200] > 0 && outcomes[400] > 0, 'the mutations reach both the engine and the decoder');
  t.ok(outcomes.patched > 0, 'some mutated reviews were patched (and the patches applied)');
});

t.test('no error was logged while fuzzing', async (t) => {
  const errors = server.logs().filter((l) => (l.level as number) >= 50);
  t.same(errors.slice(0, 3), [], 'no error-level log lines');
});

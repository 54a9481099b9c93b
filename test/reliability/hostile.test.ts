/**
 * The hostile-input catalogue (test/reliability/lib/catalogue.ts), replayed through app.inject() and, for the
 * transport-level cases, over a real TLS socket. For every case: the expected status and reason, never a 5xx,
 * Object.prototype untouched, and a normal review answered correctly right after. Durations are recorded and
 * printed as a comment (speed is checked by the fault scripts and the bench, not here).
 */
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { AdmissionReviewResponse } from '../../src/admission/schema.js';
import { applyPatch, patchOf, testServer } from '../helpers/server.js';
import { BASE, catalogue, edited, type HostileCase } from './lib/catalogue.js';
import { sendRaw, tlsTestServer } from './lib/tls.js';

interface Reply {
  status: number;
  text: string;
}

async function inject(app: FastifyInstance, url: string, body: string | Buffer, contentType: string | null | undefined): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (contentType !== null) headers['content-type'] = contentType ?? 'application/json';
  const res = await app.inject({ method: 'POST', url, headers, payload: body });
  return { status: res.statusCode, text: res.body };
}

/** The answer without its uid, for comparing decisions. */
function decision(text: string): unknown {
  const answer = JSON.parse(text) as AdmissionReviewResponse;
  const { uid: _uid, ...rest } = answer.response;
  return { apiVersion: answer.apiVersion, kind: answer.kind, response: rest };
}

function requestOf(body: string | Buffer): { uid?: unknown; object?: unknown } {
  try {
    return (JSON.parse(body.toString()) as { request?: { uid?: unknown; object?: unknown } }).request ?? {};
  } catch {
    return {};
  }
}

const prototypeKeys = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** Checks one reply against its case; `send` re-sends a body the same way (for sameAs comparisons). */
async function checkReply(t: Test, c: HostileCase, reply: Reply, send: (body: string | Buffer) => Promise<Reply>): Promise<void> {
  const e = c.expect;
  t.equal(reply.status, e.status, 'status');
  t.ok(reply.status < 500, 'never a 5xx');
  if (e.status !== 200) {
    const body = JSON.parse(reply.text) as { error: string; code: string };
    t.match(body.error, e.message, 'reason');
    t.notMatch(body.error, /\n/, 'reason is one line');
    t.type(body.code, 'string', 'error code');
    return;
  }
  if (reply.status !== 200) return;
  const answer = JSON.parse(reply.text) as AdmissionReviewResponse;
  t.equal(answer.apiVersion, 'admission.k8s.io/v1');
  t.equal(answer.kind, 'AdmissionReview');
  t.equal(answer.response.uid, requestOf(c.body).uid, 'echoes the uid');
  for (const w of answer.response.warnings ?? []) t.ok(w.length < 120, `warning under 120 characters: ${w.slice(0, 60)}`);
  if ('allowed' in e) {
    t.equal(answer.response.allowed, e.allowed, 'allowed');
    const text = e.allowed ? (answer.response.warnings ?? []).join('\n') : (answer.response.status?.message ?? '');
    t.match(text, e.message, 'message names the problem');
  } else if ('sameAs' in e) {
    const plain = await send(e.sameAs);
    t.equal(plain.status, 200, 'the request without the hostile part is answered');
    t.same(decision(reply.text), decision(plain.text), 'same decision as without the hostile part');
  } else {
    const patch = patchOf(answer);
    t.doesNotThrow(() => applyPatch(requestOf(c.body).object, patch), 'the patch applies to request.object');
  }
}

// The catalogue builds several multi-MiB bodies; on a busy 2-core machine the file needs more than tap's 30 s default.
t.setTimeout(180_000);

const cases = catalogue();

t.test('the catalogue holds at least 40 cases', async (t) => {
  t.ok(cases.length >= 40, `${cases.length} cases`);
  t.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'names are unique');
});

t.test('every hostile request through app.inject()', async (t) => {
  const server = testServer();
  t.teardown(() => server.app.close());
  const normal = edited(() => {});
  const normalMutate = await inject(server.app, '/mutate', normal, undefined);
  const normalValidate = await inject(server.app, '/validate', normal, undefined);
  t.equal(normalMutate.status, 200);
  t.ok(patchOf(JSON.parse(normalMutate.text) as AdmissionReviewResponse).length > 0, `the normal ${BASE} review gets a patch`);

  const durations: Array<[string, number]> = [];
  const before = prototypeKeys();
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const url = c.url ?? '/validate';
      const started = performance.now();
      const reply = await inject(server.app, url, c.body, c.contentType);
      durations.push([c.name, performance.now() - started]);
      await checkReply(t, c, reply, (body) => inject(server.app, url, body, c.contentType));

      t.equal(prototypeKeys(), before, 'Object.prototype has no new keys');
      t.equal(({} as Record<string, unknown>).polluted, undefined, 'no polluted property on objects');
      t.equal(({} as Record<string, unknown>).allowed, undefined, 'no allowed property on objects');

      const afterMutate = await inject(server.app, '/mutate', normal, undefined);
      const afterValidate = await inject(server.app, '/validate', normal, undefined);
      t.same(decision(afterMutate.text), decision(normalMutate.text), 'a normal /mutate review right after is answered as before');
      t.same(decision(afterValidate.text), decision(normalValidate.text), 'a normal /validate review right after is answered as before');
    });
  }
  const errors = server.logs().filter((l) => (l.level as number) >= 50);
  t.same(errors, [], 'no error-level log lines');
  durations.sort((a, b) => b[1] - a[1]);
  t.comment(`inject durations, slowest first (ms): ${durations.slice(0, 10).map(([n, ms]) => `${n}: ${ms.toFixed(1)}`).join('; ')}`);
  t.comment(`median ${durations[durations.length >> 1]?.[1].toFixed(2)} ms over ${durations.length} cases`);
});

t.test('transport-level cases over a real TLS socket', async (t) => {
  const server = await tlsTestServer();
  t.teardown(() => server.close());
  const normal = edited(() => {});
  const send = (c: HostileCase, body: string | Buffer, chunked = false) =>
    sendRaw(server.baseUrl, server.caPem, c.url ?? '/validate', body, { contentType: c.contentType, chunked });
  const normalAnswer = await sendRaw(server.baseUrl, server.caPem, '/mutate', normal);

  for (const c of cases.filter((c) => c.overTls)) {
    await t.test(c.name, async (t) => {
      await checkReply(t, c, await send(c, c.body), (body) => send(c, body));
      const after = await sendRaw(server.baseUrl, server.caPem, '/mutate', normal);
      t.same(decision(after.text), decision(normalAnswer.text), 'a normal review right after is answered as before');
    });
  }

  const overLimit = cases.find((c) => c.expect.status === 413)!;
  await t.test(`${overLimit.name}, sent chunked (no content-length)`, async (t) => {
    await checkReply(t, overLimit, await send(overLimit, overLimit.body, true), (body) => send(overLimit, body, true));
    const after = await sendRaw(server.baseUrl, server.caPem, '/mutate', normal);
    t.same(decision(after.text), decision(normalAnswer.text), 'a normal review right after is answered as before');
  });
});

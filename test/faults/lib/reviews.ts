/**
 * The reviews the fault scripts send and how their answers are checked. The expected answer of each case is
 * taken from the server before the fault starts (`learnExpected`) and must then stay the same, uid aside, for
 * every request during the fault: a request answered differently under load or during a reload is a failure.
 */
import { loadReview } from '../../helpers/server.js';

export interface ReviewCase {
  name: string;
  /** /mutate, /validate/audit, ... */
  path: string;
  body(uid: string): Buffer;
  /** The answer without its uid, as JSON text; set by learnExpected. */
  expected?: string;
  /** Instead of `expected`: why this (well-formed, uid-echoing) answer is wrong, or undefined when it is right. */
  accept?(response: AdmissionResponseLike): string | undefined;
}

export interface AdmissionResponseLike {
  allowed?: boolean;
  warnings?: string[];
  patch?: string;
  status?: { message?: string };
}

export function fixtureReview(name: string): Record<string, unknown> {
  return loadReview(`${name}.json`) as Record<string, unknown>;
}

/** A case that sends `review` (with a fresh uid each time) to `path`. */
export function reviewCase(name: string, path: string, review: Record<string, unknown>): ReviewCase {
  const marker = '"uid":"__UID__"';
  const text = JSON.stringify({ ...review, request: { ...(review.request as object), uid: '__UID__' } });
  const [before, after] = text.split(marker) as [string, string];
  return { name, path, body: (uid) => Buffer.from(`${before}"uid":${JSON.stringify(uid)}${after}`) };
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortedKeys(v)]));
}

/** The answer as compared: the response without its uid, keys in a stable order. */
function comparable(answer: Record<string, unknown>): string {
  const response = { ...(answer.response as Record<string, unknown>) };
  delete response.uid;
  return JSON.stringify(sortedKeys({ apiVersion: answer.apiVersion, kind: answer.kind, response }));
}

/** Why `text` is not the right answer to the request with `uid`, or undefined when it is. */
export function checkAnswer(reviewCase: ReviewCase, uid: string, text: string): string | undefined {
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return `not JSON: ${text.slice(0, 80)}`;
  }
  const response = answer.response as { uid?: unknown } | undefined;
  if (answer.apiVersion !== 'admission.k8s.io/v1' || answer.kind !== 'AdmissionReview') return `not an AdmissionReview: ${text.slice(0, 80)}`;
  if (response?.uid !== uid) return `${reviewCase.name}: uid ${String(response?.uid)} does not echo ${uid}`;
  if (reviewCase.accept) {
    const problem = reviewCase.accept(answer.response as AdmissionResponseLike);
    return problem ? `${reviewCase.name}: ${problem}` : undefined;
  }
  if (reviewCase.expected !== undefined && comparable(answer) !== reviewCase.expected) {
    return `${reviewCase.name}: answer differs from the expected one: ${comparable(answer).slice(0, 200)}`;
  }
  return undefined;
}

/** Sends each case once and records its answer as the expected one. */
export async function learnExpected(baseUrl: string, ca: string, cases: readonly ReviewCase[]): Promise<void> {
  const { Agent, request } = await import('node:https');
  const agent = new Agent({ ca });
  for (const c of cases) {
    const body = c.body('learn');
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${baseUrl}${c.path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${c.name}: status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    c.expected = comparable(JSON.parse(text) as Record<string, unknown>);
  }
  agent.destroy();
}

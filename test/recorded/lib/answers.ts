/**
 * The answers of test/recorded/lib/cases.ts as the webhook gives them (handleReview: decision, and the response
 * the API server reads: allowed, status, warnings, patch, audit annotations), and the recorded snapshot of them.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { handleReview } from '../../../src/admission/handle.js';
import { RULES } from '../../../src/rules/index.js';
import type { RecordedCase } from './cases.js';

export const SNAPSHOT = fileURLToPath(new URL('../../fixtures/recorded-answers.tsv', import.meta.url));

/** The answer, byte for byte as the server would serialise it; a thrown error is an answer too (its code and message). */
export function answer(c: RecordedCase): string {
  // A fresh copy per call, as each request body is parsed anew: an engine that kept state on input objects would show.
  const review = JSON.parse(JSON.stringify(c.review)) as unknown;
  const settings = {
    modes: { defaultMode: 'enforce' as const, exemptNamespaces: [], ownNamespace: undefined },
    engine: { rules: RULES, context: { config: c.policy, cluster: c.cluster } },
  };
  try {
    const { outcome } = handleReview(c.endpoint, c.mode, review, settings);
    return JSON.stringify({ decision: outcome.decision, response: outcome.response });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return JSON.stringify({ thrown: `${err.code ?? 'Error'}: ${err.message ?? String(e)}` });
  }
}

/** 16 hex digits of SHA-256: enough to see any change; the test prints the new answer of a changed case. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export function snapshotText(cases: readonly RecordedCase[]): string {
  return cases.map((c) => `${digest(answer(c))}\t${c.key}\n`).join('');
}

export function readSnapshot(): Map<string, string> {
  const entries = readFileSync(SNAPSHOT, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      return [line.slice(tab + 1), line.slice(0, tab)] as [string, string];
    });
  return new Map(entries);
}

export function writeSnapshot(text: string): void {
  writeFileSync(SNAPSHOT, text);
}

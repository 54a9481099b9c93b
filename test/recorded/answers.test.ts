import t from 'tap';
import { answer, digest, readSnapshot } from './lib/answers.js';
import { recordedCases } from './lib/cases.js';

/**
 * Every recorded review is answered exactly as recorded (test/fixtures/recorded-answers.tsv, `npm run
 * answers:record`): allowed, status, warnings, patch and audit annotations, byte for byte. Speed work on the
 * engine and the admission layer must not change an answer; a deliberate change re-records and shows in the diff.
 */
const cases = recordedCases();
const recorded = readSnapshot();

t.test('the recorded cases are the cases made now', async (t) => {
  const keys = cases.map((c) => c.key);
  t.equal(new Set(keys).size, keys.length, 'keys are unique');
  t.same(keys.filter((k) => !recorded.has(k)), [], 'no case without a recorded answer');
  const now = new Set(keys);
  t.same([...recorded.keys()].filter((k) => !now.has(k)), [], 'no recorded answer without a case');
  t.ok(cases.length > 5000, `${cases.length} answers recorded`);
});

t.test('every answer is byte-identical to the recorded one', async (t) => {
  const changed: string[] = [];
  const endpoints = { mutate: 0, validate: 0, patches: 0, denials: 0 };
  for (const c of cases) {
    const text = answer(c);
    endpoints[c.endpoint]++;
    if (text.includes('"patchType"')) endpoints.patches++;
    if (text.includes('"allowed":false')) endpoints.denials++;
    const want = recorded.get(c.key);
    if (want !== undefined && digest(text) !== want) changed.push(`${c.key}\n    now: ${text.slice(0, 600)}`);
  }
  t.same(changed.slice(0, 10), [], `${changed.length} answers differ from the recording`);
  // The recording covers what it must: patches, denials and both endpoints.
  t.ok(endpoints.patches > 300 && endpoints.denials > 50 && endpoints.mutate > 1000 && endpoints.validate > 1000, JSON.stringify(endpoints));
});

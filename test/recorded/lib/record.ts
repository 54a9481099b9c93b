/**
 * Rewrites test/fixtures/recorded-answers.tsv from what the webhook answers now: `npm run answers:record`.
 * Only for a deliberate change of behaviour (a rule's message, a new fix): speed work must leave it unchanged.
 */
import { recordedCases } from './cases.js';
import { SNAPSHOT, snapshotText, writeSnapshot } from './answers.js';

const cases = recordedCases();
const keys = new Set(cases.map((c) => c.key));
if (keys.size !== cases.length) throw new Error(`${cases.length - keys.size} recorded cases share a key`);
writeSnapshot(snapshotText(cases));
process.stdout.write(`wrote ${SNAPSHOT}: ${cases.length} answers\n`);

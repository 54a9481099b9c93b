/**
 * Rewrites test/fixtures/real-world/expected-findings.yaml and expected-fixes.yaml from what audit and mutate
 * do now: `npm run corpus:update`. Review the diff before committing it (REVIEW.md). Also prints the state of
 * the corpus checks that do not compare with these files (order independence, what mutate keeps), as
 * test/real-world/order.test.ts and mutate-fidelity.test.ts judge them.
 */
import { writeFileSync } from 'node:fs';
import { EXPECTED_FINDINGS, EXPECTED_FIXES, listSources, manifestFiles, mutateFile } from './corpus.js';
import { currentFindings, currentFixes, findingsText, fixesText } from './expected.js';
import { checkFidelity } from './fidelity.js';
import { orderDifferences } from './order.js';

const say = (s: string) => process.stdout.write(`${s}\n`);

const findings = await currentFindings();
writeFileSync(EXPECTED_FINDINGS, findingsText(findings));
const fixes = await currentFixes();
writeFileSync(EXPECTED_FIXES, fixesText(fixes));

const byRule = new Map<string, number>();
for (const s of findings) for (const f of s.findings) byRule.set(`${f.rule} ${f.action}`, (byRule.get(`${f.rule} ${f.action}`) ?? 0) + 1);
say(`wrote ${EXPECTED_FINDINGS}: ${findings.length} sources, ${findings.reduce((n, s) => n + s.findings.length, 0)} findings`);
for (const [k, n] of [...byRule].sort()) say(`  ${k}: ${n}`);
say(`wrote ${EXPECTED_FIXES}: ${fixes.reduce((n, s) => n + s.files.reduce((m, f) => m + f.fixed.length, 0), 0)} documents changed by mutate`);

if (!process.argv.includes('--checks')) process.exit(0);
say('order independence (order.test.ts):');
for (const source of listSources()) {
  for (const d of await orderDifferences(source)) {
    say(`  ${source.name}, ${d.order}: ${d.onlyForward.length} findings only in name order, ${d.onlyThis.length} only in this order`);
  }
}
say('mutate keeps what it does not fix (mutate-fidelity.test.ts):');
for (const source of listSources()) {
  for (const path of await manifestFiles(source.dir)) {
    const r = await mutateFile(path);
    if (r.output === undefined || r.output === r.input) continue;
    const f = checkFidelity(r.file, r.input, r.output);
    if (f.lostLines.length + f.changedValues.length === 0) continue;
    say(`  ${r.file}: ${f.changedDocuments} documents changed, ${f.lostLines.length} lines lost, ${f.changedValues.length} values changed`);
  }
}

/**
 * The real-world corpus (test/fixtures/real-world: manifests this team did not write, see SOURCES.md) through
 * `gracekeeper audit <folder>` and `gracekeeper mutate <file>`, compared with the committed expected-findings.yaml
 * and expected-fixes.yaml. A rule change shows its effect here as a diff of one line per finding; when the change
 * is intended, `npm run corpus:update` rewrites both files and the diff is reviewed (REVIEW.md).
 */
import t from 'tap';
import { auditArgs, listSources, manifestFiles, mutateFile } from './lib/corpus.js';
import {
  readExpectedFindings,
  readExpectedFixes,
  sourceFindingLines,
  sourceFixLines,
  type FileFixes,
  type SourceFixes,
} from './lib/expected.js';

const UPDATE = 'if the change is intended: npm run corpus:update, then review the diff';

/** An error that is a bug, not bad input: a rule threw (the CLI turns that into this message, file and line). */
const isCrash = (message: string) => message.includes('rules could not evaluate') || message.includes('internal error');

// Audit and mutate over ~1,700 documents; generous on a loaded 2-core machine (this bounds a hang, it is not a speed check).
t.setTimeout(600_000);

const sources = listSources();
const expectedFindings = new Map(readExpectedFindings().map((s) => [s.source, s]));
const expectedFixes = new Map(readExpectedFixes().map((s) => [s.source, s]));

t.test('the expected files name exactly the corpus source folders', async (t) => {
  const names = sources.map((s) => s.name);
  t.same([...expectedFindings.keys()], names, `expected-findings.yaml sources; ${UPDATE}`);
  t.same([...expectedFixes.keys()], names, `expected-fixes.yaml sources; ${UPDATE}`);
});

for (const source of sources) {
  t.test(`gracekeeper audit ${source.name}`, async (t) => {
    const files = await manifestFiles(source.dir);
    const actual = await auditArgs([source.dir]);
    t.equal(actual.files, files.length, 'every manifest file of the folder was read');
    t.same(actual.errors.filter(isCrash), [], 'no rule threw on any workload');
    const expected = expectedFindings.get(source.name);
    t.ok(expected, `expected-findings.yaml has ${source.name}; ${UPDATE}`);
    if (!expected) return;
    t.equal(
      sourceFindingLines({ source: source.name, ...actual }).join('\n'),
      sourceFindingLines(expected).join('\n'),
      `findings of ${source.name} match expected-findings.yaml; ${UPDATE}`,
    );
  });

  t.test(`gracekeeper mutate on each file of ${source.name}`, async (t) => {
    const paths = await manifestFiles(source.dir);
    const files: FileFixes[] = [];
    const unprinted: string[] = [];
    const changedUnfixed: string[] = [];
    const crashes: string[] = [];
    let processed = 0;
    for (const path of paths) {
      const r = await mutateFile(path); // a throw is a crash, and fails this test
      processed++;
      crashes.push(...r.errors.filter(isCrash));
      if (r.errors.length === 0 && r.output === undefined) unprinted.push(r.file);
      if (r.fixed.length === 0 && r.errors.length === 0 && r.output !== r.input) changedUnfixed.push(r.file);
      if (r.fixed.length > 0 || r.errors.length > 0) files.push({ file: r.file, errors: r.errors, fixed: r.fixed });
    }
    t.equal(processed, paths.length, `all ${paths.length} files processed`);
    t.same(crashes, [], 'no rule threw on any workload');
    t.same(unprinted, [], 'mutate printed the manifests of every file it reported no error on');
    t.same(changedUnfixed, [], 'a file with nothing to fix comes out byte for byte');
    const expected = expectedFixes.get(source.name);
    t.ok(expected, `expected-fixes.yaml has ${source.name}; ${UPDATE}`);
    if (!expected) return;
    const actual: SourceFixes = { source: source.name, files };
    t.equal(sourceFixLines(actual).join('\n'), sourceFixLines(expected).join('\n'), `fixes in ${source.name} match expected-fixes.yaml; ${UPDATE}`);
  });
}

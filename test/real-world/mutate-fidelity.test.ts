/**
 * `gracekeeper mutate` on every corpus file changes only what its fixes change: in every document it edits, each
 * original line that no fix touches is still there, byte for byte (indentation, flow style, quotes, comments), and
 * read as Kubernetes reads YAML (1.1: `0400` is octal) every field no fix touched keeps its value.
 */
import t from 'tap';
import { listSources, manifestFiles, mutateFile } from './lib/corpus.js';
import { checkFidelity } from './lib/fidelity.js';

t.setTimeout(600_000); // bounds a hang on a loaded machine; not a speed check

const SHOWN = 8;

for (const source of listSources()) {
  t.test(`gracekeeper mutate keeps what it does not fix: ${source.name}`, async (t) => {
    for (const path of await manifestFiles(source.dir)) {
      const r = await mutateFile(path);
      if (r.output === undefined || r.output === r.input) continue;
      const report = checkFidelity(r.file, r.input, r.output);
      const lost = report.lostLines.slice(0, SHOWN).map((l) => `  ${l.line}: ${l.text}`);
      t.same(lost, [], `${r.file}: no original line outside the fixes is lost (${report.lostLines.length} lost)`);
      const values = report.changedValues.slice(0, SHOWN).map((v) => `  ${v.path}: ${JSON.stringify(v.before)} -> ${JSON.stringify(v.after)}`);
      t.same(values, [], `${r.file}: no value outside the fixes changes when read as YAML 1.1 (${report.changedValues.length} changed)`);
    }
  });
}

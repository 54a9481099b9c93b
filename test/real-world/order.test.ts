/**
 * `gracekeeper audit` gives the same findings whatever the order of its arguments: each corpus source folder's
 * files in name order (as `audit <folder>` reads them), reversed, and shuffled with a fixed seed. Findings (and
 * errors) are compared as sets of lines: what, where, on which workload, the message.
 */
import t from 'tap';
import { listSources } from './lib/corpus.js';
import { auditLines, orders } from './lib/order.js';

t.setTimeout(600_000); // bounds a hang on a loaded machine; not a speed check

for (const source of listSources()) {
  t.test(`gracekeeper audit ${source.name}: same findings for any file order`, async (t) => {
    const [forward, ...others] = await orders(source);
    const expected = await auditLines(forward!.files);
    for (const o of others) t.equal(await auditLines(o.files), expected, `${o.files.length} files, ${o.name}`);
  });
}

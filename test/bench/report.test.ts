import t from 'tap';
import { percentile, summarise } from '../../bench/percentiles.js';
import { KEEP_MARKER, keptNotes } from '../../bench/report.js';

t.test('nearest-rank percentiles', async (t) => {
  const sorted = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
  t.equal(percentile(sorted, 0.5), 500);
  t.equal(percentile(sorted, 0.99), 990);
  t.equal(percentile(sorted, 0.999), 999);
  t.equal(percentile(sorted, 1), 1000);
  t.equal(percentile(Float64Array.of(7), 0.999), 7);
  t.ok(Number.isNaN(percentile(new Float64Array(0), 0.5)));
});

t.test('summarise sorts a copy', async (t) => {
  const latencies = Float64Array.of(3, 1, 2);
  t.same(summarise(latencies), { p50: 2, p99: 3, p999: 3, max: 3 });
  t.same([...latencies], [3, 1, 2]);
});

t.test('hand-written notes after the marker survive a new run; nothing else does', async (t) => {
  t.equal(keptNotes(`# old table\n${KEEP_MARKER}\n## Profile\nbefore/after\n`), '## Profile\nbefore/after\n');
  t.equal(keptNotes('# a results file without the marker'), '');
  t.equal(keptNotes(undefined), '');
});

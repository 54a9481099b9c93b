/**
 * `npm run bench -- --smoke` end to end on a tiny corpus: both servers start, every payload goes through both
 * drivers, and the report holds every figure. No timing is asserted: speed belongs to `npm run bench`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ENDPOINTS, type BenchReport } from '../../bench/bench.js';
import { benchCli, repoRoot } from '../../bench/cli.js';
import { SCALING_CONTAINERS, mainCorpus } from '../../bench/corpus.js';
import { productionNodeFlags } from '../cluster/node-flags.js';
import { checkTargets } from '../../bench/report.js';

t.setTimeout(240_000);

const root = repoRoot();
// The servers run from source with the TypeScript loader tap gives this file, so the test needs no build.
const nodeArgs = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
const dir = t.testdir();
const out = await benchCli(
  ['--smoke', '--out', join(dir, 'RESULTS.md'), '--json', join(dir, 'results.json')],
  {
    webhook: { nodeArgs: [...productionNodeFlags(root), ...nodeArgs], entry: join(root, 'src', 'main.ts') },
    baseline: { nodeArgs, entry: join(root, 'bench', 'baseline-server.ts') },
  },
  (line) => t.comment(line),
);
if (!out) throw new Error('benchCli returned no report');
const { report, markdown } = out;

const finite = (v: number) => Number.isFinite(v) && v >= 0;

t.test('a row per payload for the baseline and each webhook endpoint, each with every figure and no errors', async (t) => {
  const servers = ['webhook', 'rules-off'];
  const expected = mainCorpus().flatMap((p) => [`${p.id} baseline`, ...servers.flatMap((s) => ENDPOINTS.map((e) => `${p.id} ${s} ${e}`))]);
  t.same(
    report.rows.map((r) => (r.server === 'baseline' ? `${r.payload} baseline` : `${r.payload} ${r.server} ${r.path}`)),
    expected,
  );
  for (const r of report.rows) {
    const name = `${r.payload} ${r.server} ${r.path}`;
    t.ok(r.closed.requests > 0 && finite(r.closed.requestsPerSecond), `${name}: throughput`);
    t.equal(r.open.completed, r.open.sent, `${name}: every open-loop request answered`);
    t.ok([r.open.p50, r.open.p99, r.open.p999, r.open.max].every(finite), `${name}: latency percentiles`);
    t.ok(r.open.p50 <= r.open.p99 && r.open.p99 <= r.open.p999 && r.open.p999 <= r.open.max, `${name}: percentiles in order`);
    t.ok(finite(r.cpuMicrosPerRequest), `${name}: CPU per request`);
    t.ok(r.peakRssMb > 0, `${name}: peak RSS`);
    t.equal(r.closed.errors + r.open.errors, 0, `${name}: no errors ${r.open.errorSamples.join('; ')}`);
    if (r.server !== 'baseline') {
      t.ok(r.throughputRatio !== undefined && r.throughputRatio > 0, `${name}: ratio to the baseline`);
      t.match(r.answer, /^(allowed|denied)/, `${name}: a decision, not an error`);
    }
  }
});

t.test('the webhook really works on the typical Pod: it patches on /mutate and warns on /validate', async (t) => {
  const typical = (path: string) => report.rows.find((r) => r.server === 'webhook' && r.payload === 'typical-pod' && r.path === path)?.answer;
  t.match(typical(ENDPOINTS[0]), /patch of \d+ ops/);
  t.match(typical(ENDPOINTS[1]), /\d+ warnings?/);
});

t.test('the rules-off server runs no rule: the typical Pod is allowed unchanged, with no warning', async (t) => {
  for (const path of ENDPOINTS) {
    const row = report.rows.find((r) => r.server === 'rules-off' && r.payload === 'typical-pod' && r.path === path);
    t.equal(row?.answer, 'allowed', path);
  }
  t.ok(report.lifetimePeakRssMb['rules-off'] > 0);
});

t.test('scaling line, start-up and targets are all measured', async (t) => {
  for (const count of SCALING_CONTAINERS) {
    const points = report.scaling.filter((s) => s.containers === count);
    t.equal(points.length, 3, `${count} containers: baseline and both endpoints`);
    for (const p of points) t.ok(finite(p.open.p99) && finite(p.cpuMicrosPerRequest) && p.open.errors === 0, `${count} ${p.server} ${p.path}`);
  }
  t.same(report.startup.map((s) => s.server).sort(), ['baseline', 'webhook']);
  for (const s of report.startup) t.ok(s.medianMs > 0, `${s.server} start to ready`);
  t.ok(report.lifetimePeakRssMb.webhook > 0 && report.lifetimePeakRssMb.baseline > 0);
  // The smoke plan runs below 1,000 req/s, so the two fixed-rate latency targets have no row to judge.
  const unmeasured = checkTargets(report).filter((c) => c.met === undefined).map((c) => c.target);
  t.same(unmeasured, ['p99 <= 5 ms at 1,000 req/s', 'p99.9 <= 20 ms at 1,000 req/s']);
});

t.test('RESULTS.md and the JSON report are written', async (t) => {
  t.equal(readFileSync(out.markdownFile, 'utf8'), markdown);
  for (const heading of ['## Targets', '## Per payload and endpoint', '## Scaling with pod size', '## Start to ready', '## Method']) t.match(markdown, heading);
  t.match(markdown, `${report.machine.cores} cores`);
  t.match(markdown, '**Smoke run**');
  t.match(markdown, report.machine.node);
  t.ok(existsSync(out.jsonFile));
  const json = JSON.parse(readFileSync(out.jsonFile, 'utf8')) as BenchReport;
  t.equal(json.rows.length, report.rows.length);
});

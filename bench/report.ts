/** BenchReport as Markdown: targets, the per-payload table, the scaling line, start-up, and how it was measured. */
import { ENDPOINTS, type BenchReport, type Row, type ScalingPoint } from './bench.js';

/** Everything below this line in RESULTS.md is hand-written (profiles, fixes, before/after) and kept by each run. */
export const KEEP_MARKER = '<!-- Generated above by npm run bench; notes below this line are kept across runs. -->';

export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined: not measured in this run (e.g. payloads filtered). */
  met: boolean | undefined;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function worst(rows: Row[], pick: (r: Row) => number): { value: number; row: Row } | undefined {
  let found: { value: number; row: Row } | undefined;
  for (const row of rows) if (!found || pick(row) > found.value) found = { value: pick(row), row };
  return found;
}

const where = (r: Row) => `${r.payload} ${r.path}`;

export function checkTargets(report: BenchReport): TargetCheck[] {
  const webhook = report.rows.filter((r) => r.server === 'webhook');
  const atFullRate = webhook.filter((r) => r.open.rate >= 1000);
  const typical = webhook.filter((r) => r.payload === 'typical-pod');
  const large = webhook.filter((r) => r.payload === 'large-pod');
  const checks: TargetCheck[] = [];

  const lowest = worst(typical, (r) => -(r.throughputRatio ?? 0));
  checks.push({
    target: 'typical Pod throughput >= 0.80 x baseline',
    measured: typical.map((r) => `${r.path} ${(r.throughputRatio ?? 0).toFixed(2)}`).join(', ') || 'not measured',
    met: lowest ? -lowest.value >= 0.8 : undefined,
  });
  for (const [label, pick, limit] of [
    ['p99 <= 5 ms at 1,000 req/s', (r: Row) => r.open.p99, 5],
    ['p99.9 <= 20 ms at 1,000 req/s', (r: Row) => r.open.p999, 20],
  ] as const) {
    const w = worst(atFullRate, pick);
    checks.push({ target: label, measured: w ? `worst ${ms(w.value)} ms (${where(w.row)})` : 'not measured', met: w ? w.value <= limit : undefined });
  }
  const errors = report.rows.reduce((n, r) => n + r.closed.errors + r.open.errors, 0) + report.scaling.reduce((n, p) => n + p.open.errors, 0);
  checks.push({ target: 'zero errors', measured: `${errors} errors in ${int(totalRequests(report))} requests`, met: errors === 0 });
  const l = worst(large, (r) => r.open.p99);
  checks.push({
    target: 'large Pod p99 <= 25 ms',
    measured: l ? `worst ${ms(l.value)} ms at ${l.row.open.rate} req/s (${l.row.path})` : 'not measured',
    met: l ? l.value <= 25 : undefined,
  });
  // The corpus rows are the load the issue sets; the scaling line adds Pods of up to 100 containers (~340 KB),
  // more than twice its large Pod, so the whole run is reported as its own row.
  const corpusRss = worst(webhook, (r) => r.peakRssMb);
  const baselineRss = worst(report.rows.filter((r) => r.server === 'baseline'), (r) => r.peakRssMb);
  const bare = (mb: number | undefined) => (mb === undefined ? '' : `; the bare baseline ${mb.toFixed(1)} MB`);
  const typicalRss = typical.length ? Math.max(...typical.map((r) => r.peakRssMb)) : undefined;
  checks.push({
    target: 'peak RSS <= 120 MB under load (the four payloads)',
    measured: corpusRss
      ? `${corpusRss.value.toFixed(1)} MB (${where(corpusRss.row)})${typicalRss === undefined ? '' : `, ${typicalRss.toFixed(1)} MB in the typical Pod rows`}${bare(baselineRss?.value)}`
      : 'not measured',
    met: corpusRss ? corpusRss.value <= 120 : undefined,
  });
  const rss = report.lifetimePeakRssMb.webhook;
  checks.push({
    target: 'peak RSS <= 120 MB over the whole run, scaling line included',
    measured: `${rss.toFixed(1)} MB${bare(report.lifetimePeakRssMb.baseline)}`,
    met: rss <= 120,
  });
  const start = report.startup.find((s) => s.server === 'webhook');
  checks.push({
    target: 'start to ready <= 500 ms (no cluster view)',
    measured: start ? `median ${int(start.medianMs)} ms of ${start.samplesMs.length}` : 'not measured',
    met: start ? start.medianMs <= 500 : undefined,
  });
  return checks;
}

function totalRequests(report: BenchReport): number {
  return report.rows.reduce((n, r) => n + r.closed.requests + r.open.completed, 0) + report.scaling.reduce((n, p) => n + p.open.completed, 0);
}

function machineSection(report: BenchReport): string[] {
  const m = report.machine;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  // Only the load before the run says whether other work was running: by its end the bench's own client and
  // servers have pushed the 1-minute average up to about 1.5 on 2 cores.
  const busy = m.loadAverage[0] > m.cores / 2;
  return [
    ...(report.plan.closedAmount ? ['**Smoke run** (`--smoke`): a few requests per cell to check that everything runs. The figures mean nothing.', ''] : []),
    `Run of ${m.date} (${report.seconds.toFixed(0)} s). Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB, ${m.platform}, Node ${m.node}.`,
    `Load average (1 / 5 / 15 min): ${load(m.loadAverage)} at the start, ${load(report.loadAverageAfter)} at the end.`,
    `Webhook started as \`${report.webhookCommand} ...\` (the node flags of the image's ENTRYPOINT).`,
    ...(busy
      ? ['', `**Noisy run:** other work was using the machine (1-minute load above ${m.cores / 2} on ${m.cores} cores when it started), so the figures below mix in its CPU contention; the lead re-runs the bench on a quiet machine.`]
      : []),
  ];
}

function targetsSection(report: BenchReport): string[] {
  const mark = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'met' : '**missed**');
  return ['| Target | Measured | |', '|---|---|---|', ...checkTargets(report).map((c) => `| ${c.target} | ${c.measured} | ${mark(c.met)} |`)];
}

function rowsSection(report: BenchReport): string[] {
  const p = report.plan;
  const lines = [
    `| Payload | Server | Path | Answer | req/s | vs baseline | Rate | p50 ms | p99 ms | p99.9 ms | max ms | CPU µs/req | Peak RSS MB | Errors |`,
    '|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of report.rows) {
    lines.push(
      `| ${r.payload} (${kb(r.bytes)}) | ${r.server} | ${r.server === 'baseline' ? 'any' : r.path} | ${r.answer} | ${int(r.closed.requestsPerSecond)} | ` +
        `${r.throughputRatio === undefined ? '' : r.throughputRatio.toFixed(2)} | ${r.open.rate}/s | ${ms(r.open.p50)} | ${ms(r.open.p99)} | ${ms(r.open.p999)} | ` +
        `${ms(r.open.max)} | ${int(r.cpuMicrosPerRequest)} | ${r.peakRssMb.toFixed(1)} | ${r.closed.errors + r.open.errors} |`,
    );
  }
  lines.push(
    '',
    `req/s: closed loop, autocannon, ${p.connections} keep-alive connections, ${p.closedAmount ? `${p.closedAmount} requests` : `${p.closedSeconds} s`} after a ${p.warmupSeconds} s warm-up. ` +
      `Latency: open loop at the fixed rate shown for ${p.openSeconds} s, ${p.connections} keep-alive connections, measured from the time each request was due. ` +
      `CPU: the server's user + system time over the open-loop run, per request. Peak RSS: VmHWM over this row's runs. ` +
      `Errors: failed connections, timeouts, non-200 answers and answers without the request's uid, both runs. ` +
      `The baseline ignores the path, so it is measured once per payload. ` +
      `rules-off: the webhook with every rule turned off in its config (same TLS, fastify, parsing, decoding, log line and metrics; ` +
      `an engine with nothing to run): the gap between it and the baseline is the server's own cost, between it and webhook the engine's.`,
  );
  return lines;
}

function scalingSection(report: BenchReport): string[] {
  const at = (count: number, server: string, path?: string): ScalingPoint | undefined =>
    report.scaling.find((s) => s.containers === count && s.server === server && (!path || s.path === path));
  const counts = [...new Set(report.scaling.map((s) => s.containers))];
  const cell = (s: ScalingPoint | undefined) => (s ? `${ms(s.open.p50)} / ${ms(s.open.p99)} / ${int(s.cpuMicrosPerRequest)}` : '-');
  const columns: Array<[string, string | undefined]> = [['baseline', undefined], ...ENDPOINTS.map((e): [string, string] => ['webhook', e])];
  const lines = [
    `| Containers | Size | baseline p50 / p99 ms / CPU µs | ${ENDPOINTS.map((e) => `${e} p50 / p99 ms / CPU µs`).join(' | ')} | CPU µs per added container: baseline / ${ENDPOINTS.join(' / ')} |`,
    '|--:|--:|--:|--:|--:|--:|',
  ];
  counts.forEach((count, i) => {
    const points = columns.map(([server, path]) => at(count, server, path));
    const prev = counts[i - 1];
    const marginal =
      prev === undefined
        ? '-'
        : columns
            .map(([server, path], c) => {
              const before = at(prev, server, path);
              const now = points[c];
              return now && before ? int((now.cpuMicrosPerRequest - before.cpuMicrosPerRequest) / (count - prev)) : '-';
            })
            .join(' / ');
    lines.push(`| ${count} | ${kb(points.find(Boolean)?.bytes ?? 0)} | ${points.map(cell).join(' | ')} | ${marginal} |`);
  });
  const p = report.plan;
  lines.push(
    '',
    `Latency: open loop at ${p.scalingRate} req/s for ${p.scalingSeconds} s per cell. CPU: server time per request over a ${p.closedAmount ? `${p.closedAmount}-request` : `${p.scalingClosedSeconds} s`} closed-loop run ` +
      `(${p.connections} connections; lower than the open-loop CPU of the table above, where each request wakes the server alone). Pods of app containers, ~3.4 KB each. ` +
      'Last column: CPU per container added since the previous row; about the same in every row means cost grows linearly with the number of containers.',
  );
  return lines;
}

function startupSection(report: BenchReport): string[] {
  return [
    '| Server | Start to ready, ms (each start) | Median |',
    '|---|---|--:|',
    ...report.startup.map((s) => `| ${s.server} | ${s.samplesMs.map((v) => int(v)).join(', ')} | ${int(s.medianMs)} |`),
    '',
    'From spawning `node` to the first 200 from `/readyz` (webhook: plain-HTTP health port; baseline: any GET over TLS), polled every 5 ms.',
  ];
}

const METHOD = [
  '- Webhook: `node dist/main.js` (the production build, with the node flags of the Dockerfile\'s ENTRYPOINT) with the config',
  '  the Helm chart ships (its default values, as `templates/configmap.yaml` assembles them; only `shutdownDelaySeconds` is 0',
  '  so the bench restarts it quickly), real TLS with a certificate made for the run, `--no-cluster-view`, JSON logs at level',
  '  info to a file. Paths: `/mutate/enforce` and',
  '  `/validate/enforce`, which the chart\'s webhook configurations call for namespaces in enforce mode.',
  '- Baseline: `bench/baseline-server.ts`, a bare `node:https` server with the same certificate that reads the body, `JSON.parse`s',
  '  it and answers `{uid, allowed: true}`: the cost of TLS and JSON in this runtime, with nothing else.',
  '- Corpus (`bench/corpus.ts`): AdmissionReviews as the API server sends them after defaulting (grace period 30, imagePullPolicy,',
  '  probe defaults, the service-account volume and mounts, tolerations, managedFields).',
  '- Client and servers share the machine: the load generator takes CPU the servers could otherwise use.',
];

export function renderMarkdown(report: BenchReport, keptNotes = ''): string {
  return [
    '# Benchmark results',
    '',
    ...machineSection(report),
    '',
    '## Targets',
    '',
    ...targetsSection(report),
    '',
    '## Per payload and endpoint',
    '',
    ...rowsSection(report),
    '',
    '## Scaling with pod size',
    '',
    ...scalingSection(report),
    '',
    '## Start to ready',
    '',
    ...startupSection(report),
    '',
    '## Method',
    '',
    ...METHOD,
    '',
    KEEP_MARKER,
    keptNotes,
  ].join('\n');
}

/** The hand-written tail of an existing RESULTS.md (after KEEP_MARKER), or ''. */
export function keptNotes(existing: string | undefined): string {
  if (!existing) return '';
  const at = existing.indexOf(KEEP_MARKER);
  return at < 0 ? '' : existing.slice(at + KEEP_MARKER.length).replace(/^\n/, '');
}

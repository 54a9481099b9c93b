/** The results table of `npm run test:node`, written to bench/ROLLOUTS.md by the run. */
import { writeFileSync } from 'node:fs';
import type { LoadCounts } from './load.js';

export interface Row {
  scenario: string;
  strategy: string;
  gracekeeper: 'without' | 'with';
  client: 'ClusterIP' | 'ingress-like';
  rollouts: number;
  sent: number;
  failed: number;
  /** Seconds from the restart to the last old Pod gone, per rollout. */
  durations: number[];
  reasons: Record<string, number>;
}

export function addCounts(row: Row, c: LoadCounts): void {
  row.sent += c.sent;
  row.failed += c.failed;
  for (const [k, v] of Object.entries(c.reasons)) row.reasons[k] = (row.reasons[k] ?? 0) + v;
}

const pct = (failed: number, sent: number): string => (sent === 0 ? '-' : `${((100 * failed) / sent).toFixed(2)}%`);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export function renderTable(rows: readonly Row[]): string {
  const lines = [
    '| scenario | strategy | Gracekeeper | client | rollouts | requests sent | failed | failure % | rollout duration (s, mean; each) | failures seen |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const reasons = Object.entries(r.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${v}× ${k.replace(/\|/g, '/')}`)
      .join('; ');
    lines.push(
      `| ${r.scenario} | ${r.strategy} | ${r.gracekeeper} | ${r.client} | ${r.rollouts} | ${r.sent} | ${r.failed} | ${pct(r.failed, r.sent)} | ` +
        `${mean(r.durations).toFixed(1)}; ${r.durations.map((d) => d.toFixed(1)).join(', ')} | ${reasons || '-'} |`,
    );
  }
  return lines.join('\n');
}

export function writeReport(path: string, rows: readonly Row[], facts: readonly string[], others: readonly string[]): void {
  const text = [
    '# Rollouts on a real node: requests lost with and without Gracekeeper',
    '',
    'Written by `npm run test:node` (test/node/rollouts.node.ts); do not edit by hand. One run on a real kubelet:',
    ...facts.map((f) => `- ${f}`),
    '',
    renderTable(rows),
    '',
    ...others,
    '',
  ].join('\n');
  writeFileSync(path, text);
}

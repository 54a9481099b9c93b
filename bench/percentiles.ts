/** Nearest-rank percentile of values sorted ascending; `p` in [0, 1]. NaN when there are no values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles in milliseconds of latencies given in milliseconds (sorts a copy). */
export function summarise(latenciesMs: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: percentile(sorted, 1) };
}

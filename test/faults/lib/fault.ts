/**
 * The frame of a fault script: a hard time limit, named checks, one line of figures per measurement and an
 * exit status (0 only when every check passed). Child processes started through test/cluster/processes.ts
 * are killed on exit, however the script ends.
 */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export class FaultReport {
  readonly checks: Check[] = [];
  readonly figures: Record<string, unknown> = {};

  constructor(readonly name: string) {}

  check(name: string, ok: boolean, detail: string): void {
    this.checks.push({ name, ok, detail });
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  }

  figure(key: string, value: unknown): void {
    this.figures[key] = value;
    console.log(`  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
}

/** Runs `body`, prints the summary and exits; gives up with status 1 after `timeLimitMs`. */
export function runFault(name: string, timeLimitMs: number, body: (report: FaultReport) => Promise<void>): void {
  const report = new FaultReport(name);
  const started = Date.now();
  const watchdog = setTimeout(() => {
    console.log(`FAIL ${name}: gave up after the time limit of ${timeLimitMs} ms`);
    process.exit(1);
  }, timeLimitMs);
  watchdog.unref();
  console.log(`# fault: ${name}`);
  body(report)
    .catch((e: unknown) => report.check('script ran to the end', false, e instanceof Error ? (e.stack ?? e.message) : String(e)))
    .finally(() => {
      const failed = report.checks.filter((c) => !c.ok).length;
      const passed = report.checks.length - failed;
      console.log(`# ${name}: ${passed} checks passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log(`# figures ${JSON.stringify({ fault: name, ...report.figures })}`);
      process.exit(failed > 0 || report.checks.length === 0 ? 1 : 0);
    });
}

/** The value of a Prometheus sample `name{labels}` in metrics text, or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) * 1024;
}

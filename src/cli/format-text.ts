import type { AuditReport, AuditedWorkload, LocatedFinding } from './audit.js';
import type { Palette } from './colour.js';
import { summarise, type AuditSummary } from './summary.js';

const INDENT = '        ';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `file:line`, or nothing for objects read from a cluster. */
const at = (file: string | null, line: number | null) => (file === null ? '' : line === null ? file : `${file}:${line}`);

function findingLines(f: LocatedFinding, p: Palette): string[] {
  const label = f.action === 'deny' ? p.red(p.bold('DENY')) : p.yellow('warn');
  const notes = [f.container ? `container ${f.container}` : '', f.fixable ? 'fixable' : ''].filter(Boolean);
  return [
    `  ${label}  ${p.bold(f.rule)}${notes.length ? p.dim(` (${notes.join(', ')})`) : ''}`,
    `${INDENT}${f.message}`,
    p.dim(`${INDENT}at ${[at(f.file, f.line), f.path].filter(Boolean).join(' ')}`),
  ];
}

function workloadBlock(w: AuditedWorkload, p: Palette): string {
  const name = w.namespace ? `${w.namespace}/${w.name}` : w.name;
  const where = at(w.file, w.line);
  const head = `${p.bold(`${w.kind} ${name}`)}${where ? `  ${p.dim(where)}` : ''}`;
  return [head, ...w.findings.flatMap((f) => findingLines(f, p))].join('\n');
}

function summaryLine(s: AuditSummary, p: Palette, where: string | undefined): string {
  const scope = `${plural(s.workloads, 'workload')} in ${where ?? plural(s.files, 'file')}`;
  const errors = s.errors ? `; ${p.red(plural(s.errors, where ? 'error' : 'input error'))} (on stderr)` : '';
  if (s.findings === 0) return `${p.green('No findings')} in ${scope}${errors}.`;
  const counts = [s.deny ? p.red(`${s.deny} deny`) : '', s.warn ? p.yellow(`${s.warn} warn`) : ''].filter(Boolean);
  return `${counts.join(', ')} in ${s.workloadsWithFindings} of ${scope}${errors}.`;
}

/** The default output: findings grouped per workload, each with the file:line of the field it concerns. */
export function formatAuditText(report: AuditReport, p: Palette): string {
  const blocks = report.workloads.filter((w) => w.findings.length > 0).map((w) => workloadBlock(w, p));
  return [...blocks, summaryLine(summarise(report), p, report.scope)].join('\n\n') + '\n';
}

import type { AuditReport, AuditedWorkload, LocatedFinding } from './audit.js';
import type { Palette } from './colour.js';
import { summarise, type AuditSummary } from './summary.js';

const INDENT = '        ';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function findingLines(f: LocatedFinding, p: Palette): string[] {
  const label = f.action === 'deny' ? p.red(p.bold('DENY')) : p.yellow('warn');
  const notes = [f.container ? `container ${f.container}` : '', f.fixable ? 'fixable' : ''].filter(Boolean);
  return [
    `  ${label}  ${p.bold(f.rule)}${notes.length ? p.dim(` (${notes.join(', ')})`) : ''}`,
    `${INDENT}${f.message}`,
    p.dim(`${INDENT}at ${f.file}:${f.line} ${f.path}`),
  ];
}

function workloadBlock(w: AuditedWorkload, p: Palette): string {
  const name = w.namespace ? `${w.namespace}/${w.name}` : w.name;
  const head = `${p.bold(`${w.kind} ${name}`)}  ${p.dim(`${w.file}:${w.line}`)}`;
  return [head, ...w.findings.flatMap((f) => findingLines(f, p))].join('\n');
}

function summaryLine(s: AuditSummary, p: Palette): string {
  const scope = `${plural(s.workloads, 'workload')} in ${plural(s.files, 'file')}`;
  const errors = s.errors ? `; ${p.red(plural(s.errors, 'input error'))} (on stderr)` : '';
  if (s.findings === 0) return `${p.green('No findings')} in ${scope}${errors}.`;
  const counts = [s.deny ? p.red(`${s.deny} deny`) : '', s.warn ? p.yellow(`${s.warn} warn`) : ''].filter(Boolean);
  return `${counts.join(', ')} in ${s.workloadsWithFindings} of ${scope}${errors}.`;
}

/** The default output: findings grouped per workload, each with the file:line of the field it concerns. */
export function formatAuditText(report: AuditReport, p: Palette): string {
  const blocks = report.workloads.filter((w) => w.findings.length > 0).map((w) => workloadBlock(w, p));
  return [...blocks, summaryLine(summarise(report), p)].join('\n\n') + '\n';
}

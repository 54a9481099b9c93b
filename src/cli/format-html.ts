import { stringify } from 'yaml';
import type { PolicyConfig } from '../config/policy.js';
import type { Rule } from '../engine/types.js';
import type { AuditReport, AuditedWorkload, LocatedFinding, WorkloadFix } from './audit.js';
import { diffLines, hunks } from './line-diff.js';
import { summarise } from './summary.js';

export interface HtmlOptions {
  rules: readonly Rule[];
  config: PolicyConfig;
  version: string;
  /** Shown in the header; default now. */
  generatedAt?: Date;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and quoted attributes: manifests are untrusted input. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const e = escapeHtml;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const workloadName = (w: { namespace: string; name: string }) => (w.namespace ? `${w.namespace}/${w.name}` : w.name);
const where = (file: string | null, line: number | null) => (file === null ? '' : line === null ? file : `${file}:${line}`);

// Inline, so the page is one file that opens offline; the CSP below forbids scripts and every external load.
const STYLE = `
:root { color-scheme: light; --deny: #b42318; --deny-bg: #fef3f2; --warn: #93370d; --warn-bg: #fffaeb;
  --ok: #067647; --line: #d0d5dd; --muted: #475467; --add: #e6f4ea; --del: #fdecea; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #101828;
  background: #f9fafb; overflow-wrap: anywhere; }
main { max-width: 1200px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 8px; }
h3 { font-size: 1rem; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card b { display: block; font-size: 1.6rem; }
.card.deny b { color: var(--deny); } .card.warn b { color: var(--warn); }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-top: 1px solid var(--line); }
thead th { background: #f2f4f7; font-size: 0.85rem; color: var(--muted); overflow-wrap: normal; white-space: nowrap; }
table.findings { table-layout: fixed; }
col.action { width: 72px; } col.rule { width: 290px; } col.container { width: 110px; } col.field { width: 270px; }
td.rule code { white-space: nowrap; }
tr.workload th { background: #eef4ff; font-weight: 600; }
tr.workload .loc { font-weight: normal; color: var(--muted); margin-left: 8px; }
code, pre { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.badge { white-space: nowrap; display: inline-block; padding: 0 6px; border-radius: 4px; font-weight: 600; font-size: 0.8rem; }
.badge.deny { color: var(--deny); background: var(--deny-bg); border: 1px solid var(--deny); }
.badge.warn { color: var(--warn); background: var(--warn-bg); border: 1px solid var(--warn); }
.badge.fix { color: var(--ok); border: 1px solid var(--ok); font-weight: normal; }
.muted { color: var(--muted); }
ul { margin: 4px 0; padding-left: 20px; }
.diff { margin: 6px 0 0; padding: 6px 0; background: #fff; border: 1px solid var(--line); border-radius: 6px;
  overflow-x: auto; max-width: 100%; }
.diff span { display: block; padding: 0 8px; white-space: pre; }
.diff .add { background: var(--add); } .diff .del { background: var(--del); } .diff .hunk { color: var(--muted); }
.errors li { color: var(--deny); }
@media (max-width: 720px) {
  main { padding: 10px; }
  table, tbody, tr, td, th { display: block; width: 100%; }
  colgroup { display: none; }
  thead { display: none; }
  tr { border-top: 1px solid var(--line); }
  td, th { border: 0; padding: 3px 8px; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: 0.85rem; }
}
`;

export const HIDDEN_VALUE = '(value not shown)';

/**
 * A copy with the literal value of every env var replaced: a report is made to be attached to tickets, and an env
 * value may be a password (plaintext-secret-env says so without ever printing it). Only the diff shows values.
 */
export function hideEnvValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hideEnvValues);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      key === 'env' && Array.isArray(child)
        ? child.map((v) => (v !== null && typeof v === 'object' && 'value' in v ? { ...v, value: HIDDEN_VALUE } : v))
        : hideEnvValues(child);
  }
  return out;
}

const yamlLines = (value: unknown) => stringify(hideEnvValues(value), { lineWidth: 0 }).trimEnd().split('\n');

/** The pod spec before and after the fixes as YAML, diffed line by line; the JSON Patch when too large to diff. */
function diffBlock(fix: WorkloadFix): string {
  const before = yamlLines(fix.before);
  const after = yamlLines(fix.after);
  const lines = diffLines(before, after);
  const at = fix.pointer.split('/').slice(1).join('.');
  if (!lines) {
    const ops = fix.patch.map((op) => `<span>${e(JSON.stringify(hideEnvValues(op)))}</span>`).join('');
    return `<pre class="diff" aria-label="JSON Patch"><span class="hunk">JSON Patch (the pod spec is too large to diff by line)</span>${ops}</pre>`;
  }
  const body = hunks(lines)
    .map((h) => {
      const header = `<span class="hunk">@@ ${e(at)} line ${h.beforeStart} (as given) / ${h.afterStart} (as fixed) @@</span>`;
      const rows = h.lines.map((l) => {
        const cls = l.op === '+' ? ' class="add"' : l.op === '-' ? ' class="del"' : '';
        return `<span${cls}>${l.op} ${e(l.text)}</span>`;
      });
      return header + rows.join('');
    })
    .join('');
  return `<pre class="diff">${body}</pre>`;
}

function findingRow(f: LocatedFinding): string {
  const badge = `<span class="badge ${f.action}">${f.action === 'deny' ? 'DENY' : 'warn'}</span>`;
  const fixable = f.fixable ? ' <span class="badge fix">fixed by the patch</span>' : '';
  const loc = where(f.file, f.line);
  return (
    `<tr class="finding ${f.action}"><td data-label="Action">${badge}</td>` +
    `<td data-label="Rule" class="rule"><code>${e(f.rule)}</code>${fixable}</td>` +
    `<td data-label="Container">${f.container ? e(f.container) : '<span class="muted">pod</span>'}</td>` +
    `<td data-label="Message">${e(f.message)}</td>` +
    `<td data-label="Field"><code>${e(f.path)}</code>${loc ? `<br><span class="muted">${e(loc)}</span>` : ''}</td></tr>`
  );
}

function workloadRows(w: AuditedWorkload): string {
  const loc = where(w.file, w.line);
  const head = `<tr class="workload"><th colspan="5">${e(w.kind)} ${e(w.name)}${loc ? `<span class="loc">${e(loc)}</span>` : ''}</th></tr>`;
  const fix = w.fix
    ? `<tr class="fix"><td colspan="5">What mutation would change (${e(w.fix.rules.join(', ') || 'no listed rule')}):${diffBlock(w.fix)}</td></tr>`
    : '';
  return head + w.findings.map(findingRow).join('') + fix;
}

function namespaceSection(namespace: string, workloads: readonly AuditedWorkload[]): string {
  const title = namespace ? `Namespace ${e(namespace)}` : 'No namespace given';
  const findings = workloads.flatMap((w) => w.findings);
  const deny = findings.filter((f) => f.action === 'deny').length;
  return (
    `<section class="namespace"><h2>${title}</h2>` +
    `<p class="muted">${plural(workloads.length, 'workload')} with findings: ${deny} deny, ${findings.length - deny} warn.</p>` +
    `<table class="findings"><colgroup><col class="action"><col class="rule"><col class="container"><col><col class="field"></colgroup>` +
    `<thead><tr><th>Action</th><th>Rule</th><th>Container</th><th>Message</th><th>Field</th></tr></thead>` +
    `<tbody>${workloads.map(workloadRows).join('')}</tbody></table></section>`
  );
}

function summarySection(report: AuditReport, options: HtmlOptions): string {
  const s = summarise(report);
  const cards = [
    ['', s.workloads, 'workloads audited'],
    ['', s.workloadsWithFindings, 'with findings'],
    ['deny', s.deny, 'deny findings'],
    ['warn', s.warn, 'warn findings'],
    ['', report.workloads.filter((w) => w.fix).length, 'would be changed by mutation'],
  ]
    .map(([cls, n, label]) => `<div class="card ${cls}"><b>${n}</b>${label}</div>`)
    .join('');

  const byRule = new Map<string, { deny: number; warn: number; workloads: Set<AuditedWorkload> }>();
  for (const w of report.workloads) {
    for (const f of w.findings) {
      const row = byRule.get(f.rule) ?? { deny: 0, warn: 0, workloads: new Set() };
      row[f.action] += 1;
      row.workloads.add(w);
      byRule.set(f.rule, row);
    }
  }
  const order = new Map(options.rules.map((r, i) => [r.id, i]));
  const ruleRows = [...byRule.entries()]
    .sort(([a], [b]) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9))
    .map(([id, row]) => {
      const rule = options.rules.find((r) => r.id === id);
      const action = options.config.rules[id] ?? rule?.defaultAction ?? '';
      return (
        `<tr><td data-label="Rule" class="rule"><code>${e(id)}</code></td><td data-label="Action">${e(action)}</td>` +
        `<td data-label="Deny">${row.deny}</td><td data-label="Warn">${row.warn}</td><td data-label="Workloads">${row.workloads.size}</td>` +
        `<td data-label="What it catches">${e(rule?.summary ?? '')}</td></tr>`
      );
    })
    .join('');
  const byRuleTable = ruleRows
    ? `<table><thead><tr><th>Rule</th><th>Action</th><th>Deny</th><th>Warn</th><th>Workloads</th><th>What it catches</th></tr></thead><tbody>${ruleRows}</tbody></table>`
    : '<p>No findings.</p>';

  const denied = report.workloads.filter((w) => w.findings.some((f) => f.action === 'deny'));
  const deniedList = denied.length
    ? `<ul>${denied
        .map((w) => {
          const rules = [...new Set(w.findings.filter((f) => f.action === 'deny').map((f) => f.rule))];
          return `<li>${e(w.kind)} <b>${e(workloadName(w))}</b>: ${rules.map((r) => `<code>${e(r)}</code>`).join(', ')}</li>`;
        })
        .join('')}</ul>`
    : '<p>Nothing: enforce would admit every workload.</p>';

  const changed = report.workloads.filter((w) => w.fix);
  const changedList = changed.length
    ? `<ul>${changed
        .map((w) => `<li>${e(w.kind)} <b>${e(workloadName(w))}</b>: ${w.fix!.rules.map((r) => `<code>${e(r)}</code>`).join(', ')}</li>`)
        .join('')}</ul>`
    : '<p>Nothing: every Pod would be admitted as it is.</p>';

  const errors = report.errors.length
    ? `<h3>${plural(report.errors.length, 'input error')} (not audited)</h3><ul class="errors">${report.errors
        .map((err) => `<li>${e(err.message)}</li>`)
        .join('')}</ul>`
    : '';

  return (
    `<section class="summary"><h2>Summary</h2><div class="cards">${cards}</div>` +
    `<h3>Findings by rule</h3>${byRuleTable}` +
    `<h3>What enforce would deny (${plural(denied.length, 'workload')})</h3>${deniedList}` +
    `<h3>What mutation would change (${plural(changed.length, 'workload')}: the Pods they create get these fixes)</h3>${changedList}` +
    `${errors}</section>`
  );
}

/**
 * `--output html`: one self-contained page (inline CSS, no script, nothing loaded from elsewhere) with a summary,
 * a table per namespace and, per workload, the fixes as a before/after diff of its pod spec. Every text from the
 * manifests is escaped.
 */
export function formatAuditHtml(report: AuditReport, options: HtmlOptions): string {
  const generated = (options.generatedAt ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
  const scope = report.scope ?? plural(report.files, 'file');
  const byNamespace = new Map<string, AuditedWorkload[]>();
  for (const w of report.workloads) {
    if (w.findings.length === 0) continue;
    const list = byNamespace.get(w.namespace) ?? [];
    list.push(w);
    byNamespace.set(w.namespace, list);
  }
  const sections = [...byNamespace.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([ns, ws]) => namespaceSection(ns, ws))
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gracekeeper audit report</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Gracekeeper audit report</h1>
<p class="meta">${e(scope)} · gracekeeper ${e(options.version)} · ${e(generated)}</p>
${summarySection(report, options)}
${sections}
</main>
</body>
</html>
`;
}

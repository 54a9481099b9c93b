import { OfflineClusterView } from '../cluster/offline.js';
import type { PolicyConfig } from '../config/policy.js';
import { actionFor } from '../engine/evaluate.js';
import type { Rule } from '../engine/types.js';
import type { OutputFormat } from './args.js';
import type { Palette } from './colour.js';

interface RuleRow {
  id: string;
  defaultAction: string;
  /** The action in force: the config's override, else the default. */
  action: string;
  fixable: boolean;
  summary: string;
}

function rows(rules: readonly Rule[], config: PolicyConfig): RuleRow[] {
  const ctx = { config, cluster: new OfflineClusterView([], config.kubernetesVersion) };
  return rules.map((r) => ({
    id: r.id,
    defaultAction: r.defaultAction,
    action: actionFor(r, ctx),
    fixable: typeof r.fix === 'function',
    summary: r.summary,
  }));
}

/** `gracekeeper rules`: one rule a line, aligned; or `{"rules": [...]}`. */
export function formatRules(rules: readonly Rule[], config: PolicyConfig, output: OutputFormat, p: Palette): string {
  const list = rows(rules, config);
  if (output === 'json') return `${JSON.stringify({ rules: list }, null, 2)}\n`;
  const action = (r: RuleRow) => (r.action === r.defaultAction ? r.action : `${r.action} (default ${r.defaultAction})`);
  const idWidth = Math.max(4, ...list.map((r) => r.id.length));
  const actionWidth = Math.max(6, ...list.map((r) => action(r).length));
  const colourAction = (r: RuleRow, text: string) => (r.action === 'deny' ? p.red(text) : r.action === 'warn' ? p.yellow(text) : p.dim(text));
  const header = p.bold(`${'RULE'.padEnd(idWidth)}  ${'ACTION'.padEnd(actionWidth)}  FIX  SUMMARY`);
  const lines = list.map(
    (r) => `${r.id.padEnd(idWidth)}  ${colourAction(r, action(r).padEnd(actionWidth))}  ${(r.fixable ? 'yes' : 'no').padEnd(3)}  ${r.summary}`,
  );
  return [header, ...lines].join('\n') + '\n';
}

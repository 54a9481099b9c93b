import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import type { PolicyConfig } from '../config/policy.js';
import type { Rule } from '../engine/types.js';
import type { AuditReport, LocatedFinding } from './audit.js';
import { STDIN_NAME } from './inputs.js';

/** The project's home (the chart's `home`); the rules are documented in the README's Rules section. */
export const PROJECT_URI = 'https://github.com/gracekeeper/gracekeeper';
/**
 * The rule's row in the README's Rules table: each row carries an anchor named after the rule id
 * (`<a id="<rule-id>" name="<rule-id>">`; GitHub documents `name` for custom anchors, HTML5 uses `id`).
 */
export const ruleHelpUri = (id: string): string => `${PROJECT_URI}/blob/main/README.md#${encodeURIComponent(id)}`;

/** The key of our fingerprint in partialFingerprints: a new version if what it hashes ever changes. */
export const FINGERPRINT_KEY = 'gracekeeper/workloadField/v1';

const SRCROOT = '%SRCROOT%';

export interface SarifOptions {
  rules: readonly Rule[];
  config: PolicyConfig;
  version: string;
  /** Directory file URIs are made relative to (the current directory). */
  cwd: string;
}

const LEVEL = { deny: 'error', warn: 'warning' } as const;

/**
 * A file name as a URI reference relative to `cwd`, with forward slashes and each segment percent-encoded; a
 * file outside `cwd` keeps its `../` steps. Standard input has no URI (undefined).
 */
export function artifactUri(file: string, cwd: string): string | undefined {
  if (file === STDIN_NAME) return undefined;
  const rel = isAbsolute(file) ? relative(cwd, file) : relative(cwd, `${cwd}${sep}${file}`);
  return rel
    .split(sep)
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/**
 * Identifies a finding across runs whatever moves in the file around it: the rule, the workload, the container
 * and the field, plus the file, so the same workload in two overlays stays two results. Lines are left out on
 * purpose: an edit above a workload must not make its findings look new.
 */
export function fingerprint(f: LocatedFinding, uri: string | undefined): string {
  const parts = [f.rule, uri ?? f.file, f.kind, f.namespace, f.name, f.container ?? '', f.path];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** What the summary leaves out: the default action and whether the mutating webhook fixes it. */
function ruleTraits(rule: Rule): string {
  const fix = rule.fix !== undefined ? 'fixed automatically where that is safe (mutating webhook, gracekeeper mutate)' : 'not fixed automatically';
  return `Default action: ${rule.defaultAction}; ${fix}.`;
}

function descriptor(rule: Rule, config: PolicyConfig): Sarif.ReportingDescriptor {
  const action = config.rules[rule.id] ?? rule.defaultAction;
  const defaultConfiguration: Sarif.ReportingConfiguration =
    action === 'off' ? { enabled: false, level: LEVEL[rule.defaultAction] } : { level: LEVEL[action] };
  return {
    id: rule.id,
    name: rule.id,
    shortDescription: { text: rule.summary },
    fullDescription: { text: `${rule.summary} ${ruleTraits(rule)}` },
    helpUri: ruleHelpUri(rule.id),
    help: {
      text: `${rule.summary} ${ruleTraits(rule)} Rule '${rule.id}' in the Rules table: ${ruleHelpUri(rule.id)}`,
      markdown: `${rule.summary} ${ruleTraits(rule)} See [\`${rule.id}\`](${ruleHelpUri(rule.id)}) in the Rules table.`,
    },
    defaultConfiguration,
    properties: { fixable: rule.fix !== undefined, defaultAction: rule.defaultAction },
  };
}

const workloadLabel = (f: LocatedFinding) => `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`;

function result(f: LocatedFinding, ruleIndex: Map<string, number>, cwd: string): Sarif.Result {
  const uri = f.file === null ? undefined : artifactUri(f.file, cwd);
  const locations: Sarif.Location[] = [];
  const logical: Sarif.LogicalLocation = {
    name: f.name,
    fullyQualifiedName: `${f.kind}/${f.namespace ? `${f.namespace}/` : ''}${f.name}${f.path}`,
    kind: 'object',
  };
  if (uri !== undefined) {
    const physicalLocation: Sarif.PhysicalLocation = { artifactLocation: { uri, uriBaseId: SRCROOT } };
    if (f.line !== null) physicalLocation.region = { startLine: f.line };
    locations.push({ physicalLocation, logicalLocations: [logical] });
  } else {
    locations.push({ logicalLocations: [logical] });
  }
  const index = ruleIndex.get(f.rule);
  return {
    ruleId: f.rule,
    ...(index === undefined ? {} : { ruleIndex: index }),
    level: LEVEL[f.action],
    message: { text: `${workloadLabel(f)}${f.container ? ` (container ${f.container})` : ''}: ${f.message}` },
    locations,
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(f, uri) },
    properties: {
      action: f.action,
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      container: f.container ?? null,
      path: f.path,
      fixable: f.fixable,
    },
  };
}

/**
 * `--output sarif`: one SARIF 2.1.0 log with one run. Every rule is a reportingDescriptor (its level the action
 * in force); every finding a result at the file and line of its field, with a fingerprint stable across runs.
 * Input errors become tool execution notifications, and executionSuccessful is false when there are any.
 */
export function formatAuditSarif(report: AuditReport, options: SarifOptions): string {
  const { rules, config, cwd } = options;
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const results = report.workloads.flatMap((w) => w.findings.map((f) => result(f, ruleIndex, cwd)));
  const notifications: Sarif.Notification[] = report.errors.map((e) => ({
    level: 'error',
    message: { text: e.message },
    descriptor: { id: e.code },
  }));
  const log: Sarif.Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'gracekeeper',
            version: options.version,
            semanticVersion: options.version,
            informationUri: PROJECT_URI,
            rules: rules.map((r) => descriptor(r, config)),
          },
        },
        originalUriBaseIds: { [SRCROOT]: { uri: pathToFileURL(cwd.endsWith(sep) ? cwd : `${cwd}${sep}`).href } },
        invocations: [{ executionSuccessful: report.errors.length === 0, toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type * as Sarif from 'sarif';
import { artifactUri, FINGERPRINT_KEY } from '../../src/cli/format-sarif.js';
import { RULES, RULE_IDS } from '../../src/rules/index.js';
import { cli } from '../helpers/cli.js';

// The SARIF 2.1.0 schema (rtm.5, the one the schema store and code scanning tools publish as sarif-2.1.0) as
// shipped by Microsoft's @microsoft/jest-sarif package (MIT), a devDependency: nothing vendored here.
const require = createRequire(import.meta.url);
const schemaPath = join(require.resolve('@microsoft/jest-sarif/package.json'), '..', 'lib', 'schemas', 'sarif-2.1.0-rtm.5.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
// unicodeRegExp off: the schema's language pattern ('^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$') is not valid with the u flag.
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats.default(ajv);
const validateSarif = ajv.compile(schema);

const REPO = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/**
 * The rows of the README's Rules table (between `## Rules` and the next heading), by rule id. A row starts with the
 * anchor SARIF's helpUri lands on, named after the id (`id` for HTML, `name` as GitHub documents custom anchors),
 * then the id as code, and has the table's four cells.
 */
const RULE_ROWS: Map<string, string> = (() => {
  const section = /^## Rules\n([\s\S]*?)^#{1,3} /m.exec(README)?.[1] ?? '';
  const header = '| rule | default | what it catches |';
  const rows = new Map<string, string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith(header) && !l.startsWith('| ---'))) {
    const row = /^\| <a id="([a-z0-9-]+)" name="\1"><\/a>`\1` \| (?:deny|warn) \|/.exec(line);
    if (!row) throw new Error(`README Rules table: a row without its anchor and id: ${line.slice(0, 80)}`);
    // Four cells: nothing in a cell may add a column (no unescaped '|' outside code spans).
    const cells = line.replace(/`[^`]*`/g, '').split(/(?<!\\)\|/).length - 2;
    if (cells !== 4) throw new Error(`README Rules table: the row of ${row[1]} has ${cells} cells, not 4`);
    rows.set(row[1]!, line);
  }
  return rows;
})();

// A Deployment whose rollout stops its only pod (deny) and whose container serves without a probe (warn).
const WEB = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  strategy:
    rollingUpdate: {maxUnavailable: 1, maxSurge: 0}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

const everyRule = (action: string) => `policy:\n  rules:\n${RULE_IDS.map((id) => `    ${id}: ${action}\n`).join('')}`;

async function sarifOf(args: string[], stdin?: string): Promise<{ code: number; log: Sarif.Log; stderr: string }> {
  const r = await cli(['audit', '--output', 'sarif', ...args], stdin === undefined ? {} : { stdin });
  const log = JSON.parse(r.stdout) as Sarif.Log;
  return { code: r.code, log, stderr: r.stderr };
}

function assertValid(t: Test, log: unknown): void {
  const ok = validateSarif(log);
  t.ok(ok, `valid SARIF 2.1.0: ${JSON.stringify(validateSarif.errors?.slice(0, 3))}`);
}

t.test('the examples give valid SARIF 2.1.0 with the findings of --output json, at the same lines', async (t) => {
  const { code, log } = await sarifOf(['examples/']);
  const json = await cli(['audit', '--output', 'json', 'examples/']);
  t.equal(code, json.code, 'same exit code as --output json');
  t.equal(code, 1, 'the examples have deny findings');
  assertValid(t, log);
  t.equal(log.version, '2.1.0');
  t.equal(log.runs.length, 1, 'one run');
  const run = log.runs[0]!;
  const driver = run.tool.driver;
  t.equal(driver.name, 'gracekeeper');
  t.match(driver.version, /^\d+\.\d+\.\d+/);
  t.same(
    driver.rules?.map((r) => r.id),
    RULES.map((r) => r.id),
    'one reportingDescriptor per rule, in catalogue order',
  );
  for (const [i, rule] of RULES.entries()) {
    const d = driver.rules![i]!;
    t.equal(d.shortDescription?.text, rule.summary, `${rule.id}: shortDescription is the summary`);
    t.ok(d.fullDescription?.text.startsWith(`${rule.summary} Default action: ${rule.defaultAction}; `), `${rule.id}: fullDescription: the summary, the default action`);
    t.match(d.fullDescription?.text, rule.fix ? /; fixed automatically where that is safe/ : /; not fixed automatically\.$/, `${rule.id}: and whether it is fixed`);
    t.ok(d.help?.text.startsWith(d.fullDescription!.text) && d.help.text.endsWith(d.helpUri!), `${rule.id}: help text: the description and the link`);
    t.ok(d.help?.markdown?.includes(`[\`${rule.id}\`](${d.helpUri})`), `${rule.id}: help markdown links the rule's row`);
    t.equal(d.defaultConfiguration?.level, rule.defaultAction === 'deny' ? 'error' : 'warning', `${rule.id}: level from its action`);
    const help = new URL(d.helpUri!);
    t.equal(`${help.origin}${help.pathname}`, 'https://github.com/gracekeeper/gracekeeper/blob/main/README.md', `${rule.id}: helpUri is the README`);
    t.equal(help.hash, `#${rule.id}`, `${rule.id}: at the rule's own anchor`);
    t.ok(RULE_ROWS.has(rule.id), `${rule.id}: the README's Rules table has its row, with the anchor`);
  }
  t.same([...RULE_ROWS.keys()].sort(), [...RULE_IDS].sort(), 'one row per rule, each with its anchor, and no row of an unknown rule');

  const findings = (JSON.parse(json.stdout) as { findings: Array<{ rule: string; action: string; file: string; line: number; path: string }> })
    .findings;
  const results = run.results!;
  t.equal(results.length, findings.length, 'one result per finding');
  results.forEach((r, i) => {
    const f = findings[i]!;
    t.equal(r.ruleId, f.rule);
    t.equal(r.level, f.action === 'deny' ? 'error' : 'warning');
    t.equal(driver.rules![r.ruleIndex!]!.id, r.ruleId, 'ruleIndex points at the rule');
    const physical = r.locations![0]!.physicalLocation!;
    t.equal(physical.artifactLocation!.uri, f.file, 'uri: the path relative to the current directory');
    t.equal(physical.artifactLocation!.uriBaseId, '%SRCROOT%');
    t.equal(physical.region!.startLine, f.line, 'the line the audit computed');
    t.match(r.message.text, /^(Deployment|StatefulSet|CronJob|Job|Pod|DaemonSet|ReplicaSet) shop\/\S+( \(container \S+\))?: ./, 'message names the workload');
    t.match(r.partialFingerprints?.[FINGERPRINT_KEY], /^[0-9a-f]{64}$/);
  });
  t.equal(new Set(results.map((r) => r.partialFingerprints![FINGERPRINT_KEY])).size, results.length, 'fingerprints are distinct');
  t.equal(run.originalUriBaseIds?.['%SRCROOT%']?.uri, `${new URL(`file://${process.cwd()}/`).href}`);
  t.equal(run.invocations?.[0]?.executionSuccessful, true);
});

t.test('exit codes as the other outputs: 0 without deny, 1 with, 2 on an input error', async (t) => {
  const dir = t.testdir({ 'web.yaml': WEB, 'warn.yaml': everyRule('warn'), 'broken.yaml': 'kind: [\n' });
  const warn = await sarifOf(['-c', join(dir, 'warn.yaml'), join(dir, 'web.yaml')]);
  t.equal(warn.code, 0);
  assertValid(t, warn.log);
  t.ok(warn.log.runs[0]!.results!.every((r) => r.level === 'warning'));
  t.ok(warn.log.runs[0]!.tool.driver.rules!.every((r) => r.defaultConfiguration?.level === 'warning'), 'levels follow --config');

  const deny = await sarifOf([join(dir, 'web.yaml')]);
  t.equal(deny.code, 1);
  t.ok(deny.log.runs[0]!.results!.some((r) => r.level === 'error' && r.ruleId === 'rollout-drops-all-pods'));

  const broken = await sarifOf([join(dir, 'web.yaml'), join(dir, 'broken.yaml')]);
  t.equal(broken.code, 2);
  assertValid(t, broken.log);
  const invocation = broken.log.runs[0]!.invocations![0]!;
  t.equal(invocation.executionSuccessful, false);
  t.match(invocation.toolExecutionNotifications?.[0]?.message.text, /broken\.yaml:\d+: /);
  t.equal(invocation.toolExecutionNotifications?.[0]?.level, 'error');
  t.ok(broken.log.runs[0]!.results!.length > 0, 'the readable file is still reported');
  t.match(broken.stderr, /^error: .*broken\.yaml/m, 'the error is on stderr too');
});

t.test('a rule set to off is listed as disabled, and its findings are gone', async (t) => {
  const dir = t.testdir({ 'web.yaml': WEB, 'c.yaml': 'policy:\n  rules:\n    rollout-drops-all-pods: off\n' });
  const { code, log } = await sarifOf(['-c', join(dir, 'c.yaml'), join(dir, 'web.yaml')]);
  t.equal(code, 0);
  assertValid(t, log);
  const d = log.runs[0]!.tool.driver.rules!.find((r) => r.id === 'rollout-drops-all-pods')!;
  t.equal(d.defaultConfiguration?.enabled, false);
  t.notOk(log.runs[0]!.results!.some((r) => r.ruleId === 'rollout-drops-all-pods'));
});

t.test('fingerprints stay the same across runs and when lines above the workload move', async (t) => {
  const dir = t.testdir({ 'web.yaml': WEB, overlay: { 'web.yaml': WEB } });
  const file = join(dir, 'web.yaml');
  const first = await sarifOf([file]);
  t.same((await sarifOf([file])).log, first.log, 'the same input gives the same log');

  writeFileSync(file, `# a comment\n# and another\n${WEB}`);
  const shifted = (await sarifOf([file])).log.runs[0]!.results!;
  const results = first.log.runs[0]!.results!;
  const fp = (r: Sarif.Result) => r.partialFingerprints![FINGERPRINT_KEY];
  const line = (r: Sarif.Result) => r.locations![0]!.physicalLocation!.region!.startLine!;
  t.equal(shifted.length, results.length);
  t.same(shifted.map(line), results.map((r) => line(r) + 2), 'every line moved by the two comment lines');
  t.same(shifted.map(fp), results.map(fp), 'and every fingerprint stayed');

  const other = join(dir, 'overlay', 'web.yaml');
  const elsewhere = (await sarifOf([other])).log.runs[0]!.results!;
  t.notOk(elsewhere.some((r) => results.map(fp).includes(fp(r))), 'the same workload in another file is another result');
});

t.test('standard input has no file: the result keeps its logical location only', async (t) => {
  const { code, log } = await sarifOf(['-'], WEB);
  t.equal(code, 1);
  assertValid(t, log);
  const r = log.runs[0]!.results![0]!;
  t.equal(r.locations![0]!.physicalLocation, undefined);
  t.match(r.locations![0]!.logicalLocations![0]!.fullyQualifiedName, /^Deployment\/shop\/web\//);
});

t.test('artifact URIs: relative to the current directory, forward slashes, percent-encoded', async (t) => {
  t.equal(artifactUri('examples/admin/admin.yaml', '/repo'), 'examples/admin/admin.yaml');
  t.equal(artifactUri('/repo/k8s/a b#1.yaml', '/repo'), 'k8s/a%20b%231.yaml');
  t.equal(artifactUri('/elsewhere/x.yaml', '/repo'), '../elsewhere/x.yaml');
  t.equal(artifactUri('./k8s/../k8s/x.yaml', '/repo'), 'k8s/x.yaml');
  t.equal(artifactUri('<stdin>', '/repo'), undefined);
});

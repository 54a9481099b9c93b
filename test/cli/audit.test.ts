import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { audit } from '../../src/cli/audit.js';
import { defaultPolicyConfig } from '../../src/config/policy.js';
import type { Rule } from '../../src/engine/types.js';
import { RULE_IDS } from '../../src/rules/index.js';
import { cli } from '../helpers/cli.js';

// A container with a port and no readinessProbe: readiness-probe-missing (the engine's model rule) always finds it,
// whether SERVICE (which routes to it) is given or not (then its port is assumed to receive traffic).
const WEB = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: 8080
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
// Line 5 indents with a tab: a YAML syntax error on that line.
const BROKEN = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "1"\n\tb: "2"\n';

/** A config file setting every rule to `action`, so exit codes do not depend on default actions. */
const everyRule = (action: string) => `policy:\n  rules:\n${RULE_IDS.map((id) => `    ${id}: ${action}\n`).join('')}`;

const FindingSchema = Type.Object(
  {
    rule: Type.String(),
    action: Type.Union([Type.Literal('deny'), Type.Literal('warn')]),
    kind: Type.String(),
    namespace: Type.String(),
    name: Type.String(),
    container: Type.Union([Type.String(), Type.Null()]),
    message: Type.String(),
    path: Type.String({ pattern: '^/' }),
    file: Type.String(),
    line: Type.Integer({ minimum: 1 }),
    fixable: Type.Boolean(),
  },
  { additionalProperties: false },
);
const Count = Type.Integer({ minimum: 0 });
const AuditJsonSchema = Type.Object(
  {
    findings: Type.Array(FindingSchema),
    summary: Type.Object(
      { findings: Count, deny: Count, warn: Count, workloads: Count, workloadsWithFindings: Count, files: Count, errors: Count },
      { additionalProperties: false },
    ),
    errors: Type.Array(
      Type.Object({ code: Type.String(), where: Type.Union([Type.String(), Type.Null()]), message: Type.String() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

t.test('exit 0 when no finding is deny, and the findings are printed', async (t) => {
  const dir = t.testdir({ 'web.yaml': WEB, 'config.yaml': everyRule('warn') });
  const r = await cli(['audit', '--config', join(dir, 'config.yaml'), join(dir, 'web.yaml')]);
  t.equal(r.code, 0);
  t.match(r.stdout, /Deployment shop\/web/);
  t.match(r.stdout, /warn {2}readiness-probe-missing/);
  t.notMatch(r.stdout, /DENY/);
  t.equal(r.stderr, '');
});

t.test('exit 0 and a clean summary for manifests without workloads', async (t) => {
  const dir = t.testdir({ 'svc.yaml': SERVICE });
  const r = await cli(['audit', join(dir, 'svc.yaml')]);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'No findings in 0 workloads in 1 file.\n');
});

t.test('exit 1 on a deny finding', async (t) => {
  const dir = t.testdir({ 'web.yaml': WEB, 'config.yaml': everyRule('deny') });
  const r = await cli(['audit', '-c', join(dir, 'config.yaml'), join(dir, 'web.yaml')]);
  t.equal(r.code, 1);
  t.match(r.stdout, /DENY {2}readiness-probe-missing \(container web/);
  t.match(r.stdout, new RegExp(`at ${join(dir, 'web.yaml')}:12 /spec/template/spec/containers/0/readinessProbe`), 'file:line of the container');
});

t.test('a syntax error names file and line, exits 2, and the other files are still audited', async (t) => {
  const dir = t.testdir({ 'a-broken.yaml': BROKEN, 'b-web.yaml': WEB, 'config.yaml': everyRule('deny') });
  const r = await cli(['audit', '-c', join(dir, 'config.yaml'), join(dir, 'a-broken.yaml'), join(dir, 'b-web.yaml')]);
  t.equal(r.code, 2, 'an input error outranks deny findings');
  t.match(r.stderr, `error: ${join(dir, 'a-broken.yaml')}:5: `);
  t.match(r.stdout, /DENY {2}readiness-probe-missing/, 'findings of the other file are printed');
  t.match(r.stdout, /1 input error/);
});

t.test('a broken document does not hide the other documents of the same file', async (t) => {
  const r = await cli(['audit', '-'], { stdin: `${BROKEN}---\n${WEB}` });
  t.equal(r.code, 2);
  t.match(r.stderr, /<stdin>:5: /);
  t.match(r.stdout, /Deployment shop\/web {2}<stdin>:7/);
});

t.test('a workload of the wrong shape is an input error naming file:line and field', async (t) => {
  const bad = WEB.replace('containerPort: 8080', 'containerPort: "eighty"').replace('name: web\n  namespace', 'name: bad\n  namespace');
  const r = await cli(['audit', '-'], { stdin: `${bad}---\n${WEB}` });
  t.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], /^error: <stdin>:(14|15): Deployment: spec\.template\.spec\.containers\[0\]\.ports/);
  t.match(r.stdout, /Deployment shop\/web/, 'the other document is audited');
  t.notMatch(r.stdout, /shop\/bad/);
});

t.test('a workload missing its pod spec names the field', async (t) => {
  const r = await cli(['audit', '-'], { stdin: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: empty\nspec:\n  replicas: 1\n' });
  t.equal(r.code, 2);
  t.match(r.stderr, /^error: <stdin>:5: Deployment: spec\.template is required\n$/);
});

t.test('--output json follows the schema and its summary agrees with the findings', async (t) => {
  const dir = t.testdir({ 'a.yaml': `${WEB}---\n${SERVICE}`, 'b.yaml': BROKEN, 'config.yaml': everyRule('deny') });
  const r = await cli(['audit', '--output', 'json', '-c', join(dir, 'config.yaml'), join(dir, 'a.yaml'), join(dir, 'b.yaml')]);
  t.equal(r.code, 2);
  const out = JSON.parse(r.stdout);
  t.ok(Value.Check(AuditJsonSchema, out), JSON.stringify([...Value.Errors(AuditJsonSchema, out)].slice(0, 3)));
  const { findings, summary, errors } = out;
  t.ok(findings.length > 0);
  t.equal(summary.findings, findings.length);
  t.equal(summary.deny, findings.filter((f: { action: string }) => f.action === 'deny').length);
  t.equal(summary.deny + summary.warn, summary.findings);
  t.same({ workloads: summary.workloads, files: summary.files, errors: summary.errors }, { workloads: 1, files: 2, errors: 1 });
  t.match(findings.find((f: { rule: string }) => f.rule === 'readiness-probe-missing'), {
    kind: 'Deployment',
    namespace: 'shop',
    name: 'web',
    container: 'web',
    path: '/spec/template/spec/containers/0/readinessProbe',
    file: join(dir, 'a.yaml'),
    line: 12,
    fixable: true,
  });
  t.match(errors, [{ code: 'MANIFEST_SYNTAX', where: `${join(dir, 'b.yaml')}:5` }]);
});

t.test('an unrendered Helm template: each bad document named by line, with a hint, and nothing else on stderr', async (t) => {
  const template = [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    '  name: web',
    'spec:',
    '  type: {{ .Values.serviceType }}',
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '      - name: web',
    '        image: {{ .Values.image.repository }}:{{ .Values.image.tag }}',
    '',
  ].join('\n');
  const dir = t.testdir({ 'web.yaml': template });
  const r = await cli(['audit', join(dir, 'web.yaml')]);
  t.equal(r.code, 2);
  const hint = "(the file holds '{{ }}': an unrendered Helm or Go template? Render it first, e.g. with helm template)";
  t.same(r.stderr.trimEnd().split('\n'), [
    // sigs.k8s.io/yaml refuses a mapping as a key ("unsupported map key"): not a Service with a made-up type.
    `error: ${join(dir, 'web.yaml')}:6: a mapping key is itself a mapping or a list, which Kubernetes cannot read ${hint}`,
    `error: ${join(dir, 'web.yaml')}:17: Unexpected scalar at node end ${hint}`,
  ]);
  const plain = await cli(['audit', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "1"\n\tb: "2"\n' });
  t.notMatch(plain.stderr, 'helm template', 'no template hint for a file without {{');
});

t.test('stdin: `-` reads standard input', async (t) => {
  const r = await cli(['audit', '-o', 'json', '-'], { stdin: WEB });
  t.equal(r.code, 0);
  const out = JSON.parse(r.stdout);
  t.ok(out.findings.length > 0);
  t.ok(out.findings.every((f: { file: string }) => f.file === '<stdin>'));
  const twice = await cli(['audit', '-', '-'], { stdin: WEB });
  t.equal(twice.code, 2, 'stdin can be read once');
});

t.test('empty standard input is an input error (the command before the pipe failed)', async (t) => {
  const r = await cli(['audit', '-'], { stdin: ' \n' });
  t.equal(r.code, 2);
  t.equal(r.stderr, 'error: <stdin>: standard input is empty\n');
});

t.test('directories are walked recursively for .yaml, .yml and .json, skipping hidden folders and other files', async (t) => {
  const dir = t.testdir({
    'web.yaml': WEB,
    nested: { deeper: { 'svc.yml': SERVICE, 'pod.json': JSON.stringify(podJson('api')) } },
    'notes.txt': 'not: a manifest\n',
    '.git': { 'config.yaml': WEB.replace('name: web\n', 'name: hidden\n') },
  });
  const r = await cli(['audit', '-o', 'json', dir]);
  t.equal(r.code, 0);
  const out = JSON.parse(r.stdout);
  t.equal(out.summary.files, 3);
  t.equal(out.summary.workloads, 2);
  const names = new Set(out.findings.map((f: { kind: string; name: string }) => `${f.kind}/${f.name}`));
  t.same([...names].sort(), ['Deployment/web', 'Pod/api']);
  t.ok(out.findings.some((f: { file: string }) => f.file === join(dir, 'nested', 'deeper', 'pod.json')));
});

t.test('an empty directory and a missing path are input errors; other inputs are still audited', async (t) => {
  const dir = t.testdir({ empty: {}, 'web.yaml': WEB });
  const r = await cli(['audit', join(dir, 'empty'), join(dir, 'nope.yaml'), join(dir, 'web.yaml')]);
  t.equal(r.code, 2);
  t.match(r.stderr, `error: ${join(dir, 'empty')}: directory holds no .yaml, .yml or .json files`);
  t.match(r.stderr, `error: ${join(dir, 'nope.yaml')}: no such file or directory`);
  t.match(r.stdout, /Deployment shop\/web/);
});

/** A bare Pod SERVICE routes to (label app: web), on a port it does not declare: traffic still reaches it. */
function podJson(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: 'web' } },
    spec: { containers: [{ name, image: 'example/api:1.0', ports: [{ containerPort: 9000 }] }] },
  };
}

t.test('List kinds (kubectl get -o yaml / -o json) are expanded, each item with its own line', async (t) => {
  const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one, namespace: shop}
  spec:
    containers: [{name: one, image: "example/one:1", ports: [{containerPort: 80}]}]
- apiVersion: v1
  kind: Pod
  metadata: {name: two, namespace: shop}
  spec:
    containers: [{name: two, image: "example/two:1", ports: [{containerPort: 80}]}]
`;
  const yaml = JSON.parse((await cli(['audit', '-o', 'json', '-'], { stdin: list })).stdout);
  t.equal(yaml.summary.workloads, 2);
  const lineOf = (out: { findings: Array<{ name: string; line: number }> }, name: string) => out.findings.find((f) => f.name === name)?.line;
  t.equal(lineOf(yaml, 'one'), 8, 'line of the item container');
  t.equal(lineOf(yaml, 'two'), 13);

  const kubectlJson = JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [podJson('a'), podJson('b')] }, null, 2);
  const json = JSON.parse((await cli(['audit', '-o', 'json', '-'], { stdin: kubectlJson })).stdout);
  t.equal(json.summary.workloads, 2);
  t.same([...new Set(json.findings.map((f: { name: string }) => f.name))], ['a', 'b']);
});

t.test('text output has no colour unless the terminal takes it', async (t) => {
  const plain = await cli(['audit', '-'], { stdin: WEB, colour: false });
  t.notMatch(plain.stdout, /\u001b\[/);
  const coloured = await cli(['audit', '-'], { stdin: WEB, colour: true });
  t.match(coloured.stdout, /\u001b\[/);
  t.equal(coloured.stdout.replace(/\u001b\[\d+m/g, ''), plain.stdout, 'same text, only styled');
});

t.test('config errors are one line naming the file and the field, exit 2', async (t) => {
  const dir = t.testdir({
    'bad-value.yaml': 'policy:\n  timings:\n    drainSeconds: soon\n',
    'bad-rule.yaml': 'policy:\n  rules:\n    no-such-rule: deny\n',
    'top-level.yaml': 'rules:\n  readiness-probe-missing: off\n',
    'syntax.yaml': 'policy:\n  rules: [\n',
  });
  const cases: Array<[string, RegExp]> = [
    ['bad-value.yaml', /bad-value\.yaml: policy\.timings\.drainSeconds: /],
    ['bad-rule.yaml', /bad-rule\.yaml: policy\.rules: unknown rule id 'no-such-rule'/],
    ['top-level.yaml', /top-level\.yaml: rules: 'rules' belongs under 'policy:'/],
    ['syntax.yaml', /syntax\.yaml:\d+: /],
    ['missing.yaml', /missing\.yaml: no such file/],
  ];
  for (const [file, message] of cases) {
    const r = await cli(['audit', '--config', join(dir, file), '-'], { stdin: WEB });
    t.equal(r.code, 2, file);
    t.match(r.stderr, message, file);
    t.equal(r.stderr.trim().split('\n').length, 1, `${file}: one line`);
    t.equal(r.stdout, '', `${file}: nothing audited with a bad config`);
  }
});

t.test('usage errors print the help and exit 2; --help and --version exit 0', async (t) => {
  for (const argv of [[], ['audit'], ['audit', '--bogus', 'x'], ['audit', '-o', 'xml', 'x'], ['lint', 'x'], ['--nope'], ['mutate'], ['mutate', 'a', 'b'], ['rules', 'extra']]) {
    const r = await cli(argv);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.stderr, /^error: .+\n\nUsage: gracekeeper/, `${argv.join(' ')}: error then help`);
    t.equal(r.stdout, '');
  }
  const help = await cli(['audit', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: gracekeeper audit/);
  const main = await cli(['--help']);
  t.match(main.stdout, /Commands:\n {2}audit/);
  const version = await cli(['--version']);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  t.equal(version.stdout, `${pkg.version}\n`);
  t.equal(version.code, 0);
});

// A rule that reports whether the offline view knows the Service named like the workload.
const lookup: Rule = {
  id: 'test-lookup',
  summary: 'test',
  defaultAction: 'warn',
  check: (w, ctx) => {
    const svc = ctx.cluster.getService(w.metadata.namespace ?? '', w.metadata.name ?? '');
    return [{ path: '/metadata/name', message: svc.found ? 'service found' : svc.reason }];
  },
};

t.test('references resolve across every input: one offline view of all documents', async (t) => {
  const inputs = [
    { name: 'svc.yaml', text: SERVICE },
    { name: 'web.yaml', text: WEB },
    { name: 'other-ns.yaml', text: WEB.replace('namespace: shop', 'namespace: other') },
  ];
  const report = audit(inputs, defaultPolicyConfig(), [], [lookup]);
  t.same(
    report.workloads.map((w) => `${w.namespace}: ${w.findings[0]?.message}`),
    ['shop: service found', "other: Service 'web' is not among the manifests given"],
  );
});

t.test('a rule that throws is an error for that workload only', async (t) => {
  const broken: Rule = { ...lookup, id: 'test-throws', check: (w) => (w.metadata.name === 'bad' ? [][0]!['x' as never] : []) };
  const inputs = [{ name: 'a.yaml', text: `${WEB.replace('name: web\n  namespace', 'name: bad\n  namespace')}---\n${WEB}` }];
  const report = audit(inputs, defaultPolicyConfig(), [], [broken]);
  t.equal(report.workloads.length, 1, 'the other workload is still audited');
  t.match(report.errors, [{ code: 'EVALUATION_FAILED', where: 'a.yaml:1' }]);
  t.match(report.errors[0]!.message, /rules could not evaluate this workload: /);
});

import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { stringify } from 'yaml';
import { audit } from '../../src/cli/audit.js';
import { escapeHtml, formatAuditHtml, hideEnvValues, HIDDEN_VALUE } from '../../src/cli/format-html.js';
import { diffLines, hunks } from '../../src/cli/line-diff.js';
import { summarise } from '../../src/cli/summary.js';
import { defaultPolicyConfig } from '../../src/config/policy.js';
import { RULES } from '../../src/rules/index.js';
import { cli } from '../helpers/cli.js';
import { HOSTILE } from '../helpers/hostile-manifest.js';

const OPTIONS = { rules: RULES, config: defaultPolicyConfig(), version: '9.9.9', generatedAt: new Date('2026-01-02T03:04:05Z') };

t.test('escapeHtml leaves no markup', async (t) => {
  t.equal(escapeHtml(`<script>alert("x")</script> & 'q'`), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
});

t.test('hostile names, messages and fields are text, never markup', async (t) => {
  const report = audit([{ name: 'evil/<script>alert(0)</script>.yaml', text: HOSTILE }], defaultPolicyConfig());
  t.ok(report.workloads.some((w) => w.findings.length > 0), 'the hostile workload has findings');
  t.ok(report.workloads.some((w) => w.fix), 'and a fix, so its diff is rendered too');
  const html = formatAuditHtml(report, OPTIONS);
  t.notMatch(html, /<script/i, 'no script element, whatever the input');
  t.notMatch(html, /<img/i);
  t.notMatch(html, /<[a-z]+[^>]*\sonerror=/i, 'no attribute from the input: onerror= appears only as text');
  const tags = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase()));
  const allowed = ['html', 'head', 'meta', 'title', 'style', 'body', 'main', 'h1', 'h2', 'h3', 'p', 'section', 'div', 'b', 'table'];
  const more = ['colgroup', 'col', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'code', 'br', 'pre', 'ul', 'li'];
  t.same([...tags].filter((tag) => ![...allowed, ...more].includes(tag)), [], 'only the elements the formatter writes');
  t.match(html, '&lt;script&gt;alert(&#39;ns&#39;)&lt;/script&gt;', 'the namespace is shown, escaped');
  t.match(html, '&lt;img src=x onerror=alert(1)&gt;', 'the workload name is shown, escaped');
  t.match(html, '&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;', 'the container name is shown, escaped');
  t.match(html, 'evil/&lt;script&gt;alert(0)&lt;/script&gt;.yaml', 'the file name is shown, escaped');
  t.notMatch(html, 'hunter2', 'env values never reach the page, not even as diff context');
  t.match(html, `value: ${HIDDEN_VALUE}`);
});

t.test('self-contained: inline CSS, a CSP that forbids scripts and loads, no external reference', async (t) => {
  const r = await cli(['audit', '--output', 'html', 'examples/']);
  t.equal(r.code, 1, 'same exit code as the text output (deny findings)');
  const html = r.stdout;
  t.match(html, /^<!doctype html>/);
  t.match(html, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
  t.notMatch(html, /<script|<link|<img|<iframe|@import|url\(|src=|href=/i, 'nothing loaded from anywhere');
  t.match(html, /<style>[\s\S]+<\/style>/);
});

t.test('summary, a table per namespace, and each finding with message, field and the fix as a diff', async (t) => {
  const { readInputs } = await import('../../src/cli/inputs.js');
  const io = { readStdin: async () => '', stdout: { write: () => 0 }, stderr: { write: () => 0 }, colour: false };
  const { inputs } = await readInputs(['examples/'], io);
  const report = audit(inputs, defaultPolicyConfig());
  const html = formatAuditHtml(report, OPTIONS);
  const s = summarise(report);
  t.match(html, `<div class="card "><b>${s.workloads}</b>workloads audited</div>`);
  t.match(html, `<div class="card deny"><b>${s.deny}</b>deny findings</div>`);
  t.match(html, `<div class="card warn"><b>${s.warn}</b>warn findings</div>`);
  t.match(html, 'gracekeeper 9.9.9 · 2026-01-02T03:04:05Z');
  const namespaces = new Set(report.workloads.filter((w) => w.findings.length).map((w) => w.namespace));
  t.equal((html.match(/<section class="namespace">/g) ?? []).length, namespaces.size, 'one table per namespace');
  for (const w of report.workloads) {
    for (const f of w.findings) {
      t.match(html, escapeHtml(f.message), `${f.rule} on ${w.name}: message`);
      t.match(html, `<code>${escapeHtml(f.path)}</code><br><span class="muted">${escapeHtml(`${f.file}:${f.line}`)}</span>`, 'field and file:line');
    }
  }
  const denied = report.workloads.filter((w) => w.findings.some((f) => f.action === 'deny'));
  t.match(html, `What enforce would deny (${denied.length} workload`);
  for (const w of denied) t.match(html, `<b>${escapeHtml(`${w.namespace}/${w.name}`)}</b>`);
  const fixed = report.workloads.filter((w) => w.fix);
  t.ok(fixed.length > 0);
  t.equal((html.match(/<tr class="fix">/g) ?? []).length, fixed.length, 'a diff for each workload a fix changes');
  // Each line the fixes add to a pod spec (as YAML) is shown as an added line, each line they drop as removed.
  for (const w of fixed) {
    const before = stringify(hideEnvValues(w.fix!.before), { lineWidth: 0 }).trimEnd().split('\n');
    const after = stringify(hideEnvValues(w.fix!.after), { lineWidth: 0 }).trimEnd().split('\n');
    for (const line of after.filter((l) => !before.includes(l))) t.match(html, `<span class="add">+ ${escapeHtml(line)}</span>`, `${w.name}: +${line}`);
    for (const line of before.filter((l) => !after.includes(l))) t.match(html, `<span class="del">- ${escapeHtml(line)}</span>`, `${w.name}: -${line}`);
  }
  t.match(html, /<span class="hunk">@@ spec\.template\.spec line \d+ \(as given\) \/ \d+ \(as fixed\) @@<\/span>/);
});

t.test('env values are hidden wherever a pod spec or a patch holds them', async (t) => {
  const spec = { containers: [{ name: 'a', env: [{ name: 'P', value: 's3cret' }, { name: 'R', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } }] }] };
  t.same(hideEnvValues(spec), {
    containers: [{ name: 'a', env: [{ name: 'P', value: HIDDEN_VALUE }, { name: 'R', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } }] }],
  });
  t.equal(spec.containers[0]!.env[0]!.value, 's3cret', 'the input is left as it was');
  const op = { op: 'add', path: '/spec/initContainers', value: spec.containers };
  t.notMatch(JSON.stringify(hideEnvValues(op)), 's3cret');
});

t.test('line diff: keeping the kept and added lines gives the new text, the kept and removed ones the old', async (t) => {
  const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 30 });
  fc.assert(
    fc.property(lines, lines, (before, after) => {
      const d = diffLines(before, after)!;
      t.strictSame(d.filter((l) => l.op !== '+').map((l) => l.text), before);
      t.strictSame(d.filter((l) => l.op !== '-').map((l) => l.text), after);
      // Every change is in exactly one hunk.
      const changed = d.filter((l) => l.op !== ' ').length;
      t.equal(hunks(d).flatMap((h) => h.lines).filter((l) => l.op !== ' ').length, changed);
      return true;
    }),
    { numRuns: 300 },
  );
  t.same(diffLines(['x', 'y'], ['x', 'y'])!.map((l) => l.op), [' ', ' ']);
  t.same(hunks(diffLines(['x', 'y'], ['x', 'y'])!), [], 'no change, no hunk');
  const many = Array.from({ length: 50 }, (_, i) => `line ${i}`);
  const h = hunks(diffLines(many, [...many.slice(0, 25), 'new', ...many.slice(25)])!);
  t.equal(h.length, 1);
  t.same(
    { beforeStart: h[0]!.beforeStart, afterStart: h[0]!.afterStart, lines: h[0]!.lines.length },
    { beforeStart: 23, afterStart: 23, lines: 7 },
    'three lines of context on each side',
  );
  t.equal(diffLines(Array.from({ length: 3000 }, (_, i) => `a${i}`), Array.from({ length: 3000 }, (_, i) => `b${i}`)), undefined, 'too large: no diff');
});

t.test('--output html of an input error still renders, lists the error, and exits 2', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'kind: [\n' });
  const r = await cli(['audit', '--output', 'html', join(dir, 'bad.yaml')]);
  t.equal(r.code, 2);
  t.match(r.stdout, /1 input error \(not audited\)/);
  t.match(r.stderr, /bad\.yaml/);
});

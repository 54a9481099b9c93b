import { join } from 'node:path';
import jsonpatch from 'fast-json-patch';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import type { KubeObject } from '../../src/engine/types.js';
import { toWorkload } from '../../src/engine/workload.js';
import { parseManifests } from '../../src/manifests/parse.js';
import { RULES } from '../../src/rules/index.js';
import { cli } from '../helpers/cli.js';
import { contextFor } from '../helpers/engine.js';

// kubectl-style layout (sequences not indented under their key), comments everywhere, a Deployment whose
// serving container lacks a readiness probe (readiness-probe-missing always fixes that), and documents that
// hold no workload.
const CONFIG_MAP = `# Settings for the web app.
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings   # referenced by envFrom
data:
  LOG_LEVEL:   "info"
`;
const DEPLOYMENT = `# The storefront. Owned by team shop.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # keep: dashboards use it
  namespace: shop
  labels: {app: web, tier: front}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: web
        image: registry.example.com/shop/web:2.4.1 # pinned by renovate
        args: ["--listen=:8080", "--log-format=json"]
        ports:
        - name: http
          containerPort: 8080
        envFrom:
        - configMapRef: {name: web-settings}
      # end of containers
`;
const SERVICE = `---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: http}
`;
const INPUT = `${CONFIG_MAP}---\n${DEPLOYMENT}${SERVICE}`;

const objectsOf = (text: string, name = 'out.yaml') => {
  const parsed = parseManifests(text, name);
  if (parsed.errors.length) throw parsed.errors[0];
  return parsed.manifests.map((m) => m.object);
};

/** What the engine (and so the webhook) makes of each object: the patch applied to a copy. */
function engineFixed(objects: KubeObject[]): KubeObject[] {
  const ctx = contextFor(objects);
  return objects.map((o) => {
    const result = evaluate(o, RULES, ctx, { fix: true });
    return result ? jsonpatch.applyPatch(structuredClone(o), result.patch, true, false).newDocument : o;
  });
}

t.test('mutate applies the engine fixes, and the output re-audited has nothing left to fix', async (t) => {
  const r = await cli(['mutate', '-'], { stdin: INPUT });
  t.equal(r.code, 0, r.stderr);
  const before = objectsOf(INPUT);
  const after = objectsOf(r.stdout);
  t.same(after, engineFixed(before), 'same objects as the webhook would make');
  t.not(JSON.stringify(after), JSON.stringify(before), 'something was fixed');
  t.match(r.stderr, /^fixed Deployment web \(<stdin>:10\): .*readiness-probe-missing/m);

  const ctx = contextFor(after);
  for (const o of after) {
    const result = evaluate(o, RULES, ctx, { fix: true });
    if (result) t.same(result.patch, [], `${String(o.kind)}: fixing again changes nothing`);
  }
  const reaudit = JSON.parse((await cli(['audit', '-o', 'json', '-'], { stdin: r.stdout })).stdout);
  t.same(
    reaudit.findings.filter((f: { fixable: boolean }) => f.fixable),
    [],
    'no fixable finding left',
  );
});

t.test('mutate keeps comments, key order, layout and the documents it does not fix', async (t) => {
  const r = await cli(['mutate', '-'], { stdin: INPUT });
  t.ok(r.stdout.startsWith(`${CONFIG_MAP}---\n`), 'a document without a workload is copied byte for byte');
  t.ok(r.stdout.endsWith(SERVICE), 'so is the Service after the workload');
  for (const comment of ['# The storefront. Owned by team shop.', '# keep: dashboards use it', '# pinned by renovate', '# end of containers']) {
    t.match(r.stdout, comment, `comment kept: ${comment}`);
  }
  t.match(r.stdout, '      containers:\n      - name: web\n', 'sequences stay unindented, as written');
  t.match(r.stdout, 'labels: {app: web, tier: front}', 'flow mappings stay flow, without added padding');
  t.match(r.stdout, 'args: ["--listen=:8080", "--log-format=json"]', 'quoting kept');

  const [deployment] = objectsOf(r.stdout).filter((o) => o.kind === 'Deployment');
  const original = objectsOf(INPUT).find((o) => o.kind === 'Deployment')!;
  const keysInOrder = (o: unknown, path: string[]): string[] =>
    Object.keys(path.reduce((acc: any, k) => acc[k], o));
  for (const path of [[], ['spec'], ['spec', 'template', 'spec'], ['spec', 'template', 'spec', 'containers', '0']]) {
    const was = keysInOrder(original, path);
    t.same(keysInOrder(deployment, path).slice(0, was.length), was, `keys of /${path.join('/')} keep their order, new ones after`);
  }
});

t.test('CRLF files keep CRLF line ends', async (t) => {
  const r = await cli(['mutate', '-'], { stdin: INPUT.replace(/\n/g, '\r\n') });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout, /[^\r]\n/, 'every line ends with CRLF');
  t.same(objectsOf(r.stdout), objectsOf((await cli(['mutate', '-'], { stdin: INPUT })).stdout));
});

t.test('mutate of input with nothing to fix prints it unchanged', async (t) => {
  const text = `${CONFIG_MAP}${SERVICE}`;
  const r = await cli(['mutate', '-'], { stdin: text });
  t.equal(r.code, 0);
  t.equal(r.stdout, text);
  t.equal(r.stderr, '');
});

t.test('JSON in, JSON out (a kubectl List, items fixed in place)', async (t) => {
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: objectsOf(INPUT),
  };
  const dir = t.testdir({ 'list.json': JSON.stringify(list, null, 4) });
  const r = await cli(['mutate', join(dir, 'list.json')]);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.same(out.items, engineFixed(list.items));
  t.match(r.stdout, /^\{\n {4}"apiVersion"/, 'indentation of the input');
});

t.test('a YAML List and YAML aliases: each item is fixed on its own', async (t) => {
  // Two Pods share one container through an anchor: fixing one must not edit the other behind its back.
  const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one, namespace: shop}
  spec:
    containers:
    - &web
      name: web
      image: example/web:1
      ports: [{containerPort: 80}]
- apiVersion: v1
  kind: Pod
  metadata: {name: two, namespace: shop}
  spec:
    containers:
    - *web
`;
  const r = await cli(['mutate', '-'], { stdin: text });
  t.equal(r.code, 0, r.stderr);
  t.same(objectsOf(r.stdout), engineFixed(objectsOf(text)));
  t.match(r.stderr, /fixed Pod one \(<stdin>:4\)/);
  t.match(r.stderr, /fixed Pod two \(<stdin>:13\)/);
});

t.test('mutate refuses input it cannot reproduce: a syntax error prints nothing and exits 2', async (t) => {
  const r = await cli(['mutate', '-'], { stdin: `${DEPLOYMENT}---\nkind: ConfigMap\ndata:\n\tx: 1\n` });
  t.equal(r.code, 2);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^error: <stdin>:\d+: /m);
});

t.test('a workload of the wrong shape is left as written, named on stderr, exit 2', async (t) => {
  const broken = DEPLOYMENT.replace('containerPort: 8080', 'containerPort: http').replace('name: web #', 'name: broken #');
  const text = `${broken}---\n${DEPLOYMENT}`;
  const r = await cli(['mutate', '-'], { stdin: text });
  t.equal(r.code, 2);
  t.match(r.stderr, /error: <stdin>:\d+: Deployment: spec\.template\.spec\.containers\[0\]\.ports/);
  t.ok(r.stdout.startsWith(`${broken}---\n`), 'the broken document is printed unchanged');
  const docs = parseAllDocuments(r.stdout);
  t.equal(docs.length, 2);
  t.match(r.stderr, /fixed Deployment web/, 'the good one is fixed');
});

t.test('mutate reads a file and rejects a directory', async (t) => {
  const dir = t.testdir({ 'web.yaml': INPUT, sub: { 'a.yaml': CONFIG_MAP, 'b.yaml': CONFIG_MAP } });
  const file = await cli(['mutate', join(dir, 'web.yaml')]);
  t.equal(file.code, 0);
  t.same(objectsOf(file.stdout), objectsOf((await cli(['mutate', '-'], { stdin: INPUT })).stdout));
  const folder = await cli(['mutate', join(dir, 'sub')]);
  t.equal(folder.code, 2);
  t.match(folder.stderr, /mutate takes one file/);
});

t.test('toWorkload sees every workload the mutate output holds', async (t) => {
  // Guards the test above: the fixture must hold a workload, or "nothing left to fix" proves nothing.
  t.equal(objectsOf(INPUT).filter((o) => toWorkload(o) !== null).length, 1);
});

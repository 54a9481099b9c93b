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
import { keptLines } from '../helpers/line-check.js';
import { mutate } from '../../src/cli/mutate.js';
import { parsePolicyConfig } from '../../src/config/policy.js';
import type { Rule } from '../../src/engine/types.js';
import { RULE_IDS } from '../../src/rules/index.js';

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

// ---- untouched lines stay byte for byte, in every layout (issue 15)

/** A Deployment (a web app and a database proxy sidecar, file modes, YAML 1.1 booleans) and its Service. */
const POD_SPEC = {
  serviceAccountName: 'shop',
  enableServiceLinks: false,
  automountServiceAccountToken: true,
  terminationGracePeriodSeconds: 5,
  containers: [
    {
      name: 'web',
      image: 'registry.example.com/shop/web:2.4.1',
      ports: [{ name: 'http', containerPort: 8080 }],
      volumeMounts: [{ name: 'token', mountPath: '/var/run/token' }],
    },
    { name: 'cloud-sql-proxy', image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1', args: ['--port=5432', 'shop:eu:db'] },
  ],
  volumes: [
    { name: 'token', secret: { secretName: 'token', defaultMode: 256 } },
    { name: 'scripts', configMap: { name: 'scripts', defaultMode: 493, items: [{ key: 'run.sh', path: 'run.sh', mode: 420 }] } },
  ],
};
const WORKLOAD = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: POD_SPEC } },
};
const ROUTE = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } };

/** Block YAML as kubectl writes it (sequences not indented), octal modes, `off`, and comments. */
const BLOCK_KUBECTL = `# The storefront.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # keep
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      serviceAccountName: shop
      enableServiceLinks: off   # YAML 1.1: false
      automountServiceAccountToken: on
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: registry.example.com/shop/web:2.4.1 # pinned
        ports:
        - name: http
          containerPort: 8080
        volumeMounts:
        - {name: token, mountPath: /var/run/token}
      - name: cloud-sql-proxy # the proxy
        image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1
        args: ["--port=5432", 'shop:eu:db']
      volumes:
      - name: token
        secret:
          secretName: token
          defaultMode: 0400
      - name: scripts
        configMap:
          name: scripts
          defaultMode: 0755
          items:
          - {key: run.sh, path: run.sh, mode: 0644}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

/** The same with 4-space indentation and indented sequences, `no` for false. */
const BLOCK_INDENTED = `apiVersion: apps/v1
kind: Deployment
metadata:
    name: web
    namespace: shop
spec:
    replicas: 2
    selector:
        matchLabels:
            app: web
    template:
        metadata:
            labels:
                app: web
        spec:
            serviceAccountName: shop
            enableServiceLinks: no
            automountServiceAccountToken: yes
            terminationGracePeriodSeconds: 5
            containers:
                - name: web
                  image: registry.example.com/shop/web:2.4.1
                  ports:
                      - name: http
                        containerPort: 8080
                  volumeMounts:
                      - name: token
                        mountPath: /var/run/token
                # the proxy
                - name: cloud-sql-proxy
                  image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1
                  args:
                      - --port=5432
                      - shop:eu:db
            volumes:
                - name: token
                  secret:
                      secretName: token
                      defaultMode: 0400
                - name: scripts
                  configMap:
                      name: scripts
                      defaultMode: 0755
                      items:
                          - key: run.sh
                            path: run.sh
                            mode: 0644
---
apiVersion: v1
kind: Service
metadata:
    name: web
    namespace: shop
spec:
    selector:
        app: web
    ports:
        - port: 80
          targetPort: http
`;

/** Flow style, one line per object, with a comment in a flow list spread over lines. */
const FLOW = `# flow style
{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop}, spec: {replicas: 2, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {serviceAccountName: shop, enableServiceLinks: off, automountServiceAccountToken: on, terminationGracePeriodSeconds: 5, containers: [
  {name: web, image: "registry.example.com/shop/web:2.4.1", ports: [{name: http, containerPort: 8080}], volumeMounts: [{name: token, mountPath: /var/run/token}]},  # the app
  {name: cloud-sql-proxy, image: "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1", args: [--port=5432, "shop:eu:db"]}  # the proxy
], volumes: [{name: token, secret: {secretName: token, defaultMode: 0400}}, {name: scripts, configMap: {name: scripts, defaultMode: 0755, items: [{key: run.sh, path: run.sh, mode: 0644}]}}]}}}}
---
{apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}}
`;

const LIST = { apiVersion: 'v1', kind: 'List', items: [WORKLOAD, ROUTE] };
const LAYOUTS: Record<string, { text: string; file: string; changed: RegExp }> = {
  'block, sequences not indented': { text: BLOCK_KUBECTL, file: 'web.yaml', changed: /terminationGracePeriodSeconds: 5$/ },
  'block, 4 spaces, indented sequences': { text: BLOCK_INDENTED, file: 'web.yaml', changed: /terminationGracePeriodSeconds: 5$/ },
  'flow style with comments in a flow list': { text: FLOW, file: 'web.yaml', changed: /^\{apiVersion: apps\/v1|^ {2}\{name: (web|cloud-sql-proxy)|^\], volumes/ },
  'JSON on one line': { text: JSON.stringify(LIST), file: 'web.json', changed: /^\{"apiVersion":"v1","kind":"List"/ },
  'JSON pretty-printed': { text: `${JSON.stringify(LIST, null, 2)}\n`, file: 'web.json', changed: /"terminationGracePeriodSeconds": 5,$|^ *[\]}],?$/ },
  'CRLF line ends': { text: BLOCK_KUBECTL.replace(/\n/g, '\r\n'), file: 'web.yaml', changed: /terminationGracePeriodSeconds: 5\r$/ },
};

for (const [name, { text, file, changed }] of Object.entries(LAYOUTS)) {
  t.test(`untouched lines stay byte for byte: ${name}`, async (t) => {
    const before = objectsOf(text, file);
    t.same(before, [WORKLOAD, ROUTE], 'the input reads as the intended objects (0400 is 256, off is false)');
    const dir = t.testdir({ [file]: text });
    const r = await cli(['mutate', join(dir, file)]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /fixed Deployment web .*: proxy-sidecar-no-prestop, app-no-drain-delay, readiness-probe-missing, grace-period-too-short/);
    const after = objectsOf(r.stdout, file);
    t.same(after, engineFixed(before), 'the output reads (YAML 1.1) as exactly what the engine makes');
    t.not(JSON.stringify(after), JSON.stringify(before), 'something was fixed');
    const volumes = (after[0]!.spec as any).template.spec.volumes;
    t.same([volumes[0].secret.defaultMode, volumes[1].configMap.defaultMode, volumes[1].configMap.items[0].mode], [256, 493, 420], 'file modes unchanged');
    // Every input line is in the output, unchanged and in order, but the lines a fix changes.
    const lines = text.split('\n');
    const lost = keptLines(text, r.stdout).lost.map((i) => lines[i]!);
    t.same(lost.filter((l) => !changed.test(l)), [], 'only lines a fix changes are missing');
    if (file.endsWith('.json')) t.doesNotThrow(() => JSON.parse(r.stdout), 'JSON in, JSON out');
    if (text.includes('\r\n')) t.notMatch(r.stdout, /[^\r]\n/, 'every line ends with CRLF');
  });
}

t.test('octal modes and YAML 1.1 booleans next to a fixed line stay as written', async (t) => {
  const r = await cli(['mutate', '-'], { stdin: BLOCK_KUBECTL });
  for (const kept of ['      enableServiceLinks: off   # YAML 1.1: false\n', '          defaultMode: 0400\n', '          defaultMode: 0755\n', '- {key: run.sh, path: run.sh, mode: 0644}\n']) {
    t.ok(r.stdout.includes(kept), `kept: ${kept.trim()}`);
  }
  t.match(r.stdout, '      enableServiceLinks: off   # YAML 1.1: false\n      automountServiceAccountToken: on\n      terminationGracePeriodSeconds: 10\n', 'the grace period line next to them is the one that changed');
  t.match(r.stdout, 'initContainers:\n      - name: cloud-sql-proxy # the proxy\n', 'the proxy moved with its comment, next to containers');
  const out = parseManifests(r.stdout, 'out.yaml').manifests[0]!.object as any;
  t.equal(out.spec.template.spec.volumes[0].secret.defaultMode, 256, '0400 reads as 256, not 400');
  t.equal(out.spec.template.spec.enableServiceLinks, false);
  t.equal(out.spec.template.spec.automountServiceAccountToken, true, 'on reads as true');
});

t.test('a fix that cannot be written in place is reported and its document printed unchanged', async (t) => {
  // A rule (not in the catalogue) that removes a field the container takes from a merge key: the editor cannot
  // remove a merged key without rewriting the anchor, so it refuses; the other document is still fixed.
  const dropPullPolicy: Rule = {
    ...RULES.find((r) => r.id === 'app-no-drain-delay')!,
    id: 'drop-pull-policy',
    check: (w) => (w.podSpec.containers.some((c) => c.imagePullPolicy) ? [{ message: 'has a pull policy', path: '/spec' }] : []),
    fix: (spec) => spec.containers.forEach((c) => delete c.imagePullPolicy),
  } as Rule;
  const merged = `apiVersion: v1
kind: Pod
metadata: {name: merged}
spec:
  containers:
  - <<: &defaults {imagePullPolicy: Always, image: web}
    name: web
`;
  const plain = `apiVersion: v1\nkind: Pod\nmetadata: {name: plain}\nspec:\n  containers:\n  - name: web\n    image: web\n    imagePullPolicy: Always # goes\n`;
  const r = mutate({ name: 'pods.yaml', text: `${merged}---\n${plain}` }, parsePolicyConfig({}, RULE_IDS), [dropPullPolicy]);
  t.match(r.errors.map((e) => `${e.code} ${e.where}: ${e.detail}`), [/^EVALUATION_FAILED pods\.yaml:1: fixes could not be written in place: .*merge key/]);
  t.ok(r.output!.startsWith(`${merged}---\n`), 'the document that could not be written is printed as it was');
  t.ok(r.output!.endsWith('  - name: web\n    image: web\n'), 'the other is fixed');
  t.same(r.fixed.map((f) => f.name), ['plain']);
});

t.test('a directive between documents stays, and both documents are fixed', async (t) => {
  const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    ports: [{containerPort: 80}]\n`;
  const text = `${pod('a')}...\n%YAML 1.1\n---\n${pod('b')}`;
  const r = await cli(['mutate', '-'], { stdin: text });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /fixed Pod a .*\nfixed Pod b /);
  t.match(r.stdout, '...\n%YAML 1.1\n---\n');
  t.same(objectsOf(r.stdout), engineFixed(objectsOf(text)));
});

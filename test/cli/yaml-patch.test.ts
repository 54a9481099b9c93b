import assert from 'node:assert/strict';
import fc from 'fast-check';
import t from 'tap';
import { isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import { patchText } from '../../src/cli/yaml-patch.js';
import { detectYamlStyle } from '../../src/cli/yaml-style.js';
import { parseManifestDocuments } from '../../src/manifests/yaml11.js';
import { podDocument, renderDocument, type Json, type Layout } from '../helpers/yaml-layouts.js';
import { firstLostLine } from '../helpers/line-check.js';

const read = (text: string) => {
  const docs = parseManifestDocuments(text, undefined, { keepSourceTokens: true });
  assert.equal(docs.length, 1, 'one document');
  assert.deepEqual(docs[0]!.errors, []);
  return docs[0]!;
};

/** `text` edited to read as `after`; fails unless it reads back (with Kubernetes' YAML rules) as `after`. */
function patch(text: string, edit: (value: any) => void): string {
  const doc = read(text);
  const before = doc.toJS();
  const after = JSON.parse(JSON.stringify(before)); // aliases read as one shared object: copy them apart
  edit(after);
  const out = patchText(text, doc, [{ pointer: '', before, after }], detectYamlStyle(text));
  assert.deepEqual(read(out).toJS(), after, 'the edited text reads as the wanted value');
  return out;
}

t.test('a changed scalar keeps its place, quoting style and comment; octal neighbours stay octal', async (t) => {
  const text = `spec:
  grace: 30 # raised by the fix
  name: "web" # quoted
  other: 'x'
  defaultMode: 0400
  flag: yes
`;
  const out = patch(text, (v) => {
    v.spec.grace = 45;
    v.spec.name = 'api';
    v.spec.other = "it's";
  });
  t.equal(out, `spec:
  grace: 45 # raised by the fix
  name: "api" # quoted
  other: 'it''s'
  defaultMode: 0400
  flag: yes
`);
  t.same(read(out).toJS().spec, { grace: 45, name: 'api', other: "it's", defaultMode: 256, flag: true });
});

t.test('new strings that would read as numbers or booleans are quoted', async (t) => {
  const out = patch('a: 1\n', (v) => Object.assign(v, { mode: '0755', on: 'yes', n: 'N', list: ['0644', 'off', '1:20'] }));
  t.equal(out, `a: 1\nmode: "0755"\n"on": "yes"\n"n": "N"\nlist:\n  - "0644"\n  - "off"\n  - 1:20\n`);
  // Not a merge key, not a date to other YAML 1.1 readers, and no bare `:` inside a flow collection.
  t.equal(patch('a: 1\n', (v) => Object.assign(v, { '<<': '2024-01-01' })), 'a: 1\n"<<": "2024-01-01"\n');
  t.equal(patch('a: {b: 1}\n', (v) => (v.a.image = 'nginx:1.27')), 'a: {b: 1, image: "nginx:1.27"}\n');
});

t.test('keys added to a block mapping after its last entry, at its indentation, in the file style', async (t) => {
  const text = `spec:
    containers:
    -   name: web   # the app
        image: nginx
        args:
        - --a
    # between
    volumes: []
`;
  const out = patch(text, (v) => {
    v.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 5 } } };
    v.spec.containers[0].args.push('--b');
    v.spec.terminationGracePeriodSeconds = 35;
  });
  t.equal(out, `spec:
    containers:
    -   name: web   # the app
        image: nginx
        args:
        - --a
        - --b
        lifecycle:
            preStop:
                sleep:
                    seconds: 5
    # between
    volumes: []
    terminationGracePeriodSeconds: 35
`);
});

t.test('items inserted in front of a named list keep every item and comment where it was', async (t) => {
  const text = `initContainers:
- name: migrate # runs the schema migrations
  image: example/migrate:1
containers:
- name: web # the app
  image: example/web:1
- name: proxy # moves to initContainers
  image: example/proxy:1
  args: [--port=5432] # flow style kept
`;
  const out = patch(text, (v) => {
    const proxy = v.containers.pop();
    v.initContainers.unshift({ ...proxy, restartPolicy: 'Always' });
    v.containers[0].lifecycle = { preStop: { sleep: { seconds: 5 } } };
  });
  t.equal(out, `initContainers:
- name: proxy # moves to initContainers
  image: example/proxy:1
  args: [--port=5432] # flow style kept
  restartPolicy: Always
- name: migrate # runs the schema migrations
  image: example/migrate:1
containers:
- name: web # the app
  image: example/web:1
  lifecycle:
    preStop:
      sleep:
        seconds: 5
`);
});

t.test('a list that did not exist is created next to the list its items come from', async (t) => {
  const text = `spec:
  containers:
    - name: web
    # the comment above an item goes with it
    - name: proxy # keep me
      image: p
  volumes:
    - name: v
`;
  const out = patch(text, (v) => {
    const proxy = v.spec.containers.pop();
    v.spec.initContainers = [{ ...proxy, restartPolicy: 'Always' }];
  });
  t.equal(out, `spec:
  containers:
    - name: web
  initContainers:
    # the comment above an item goes with it
    - name: proxy # keep me
      image: p
      restartPolicy: Always
  volumes:
    - name: v
`);
});

t.test('a dropped item is not reused for an unrelated item of the same name', async (t) => {
  const out = patch('env:\n- name: proxy # the env var\n  value: "on"\n', (v) => {
    v.env = [];
    v.containers = [{ name: 'proxy', image: 'p' }];
  });
  t.equal(out, 'env: []\ncontainers:\n- name: proxy\n  image: p\n');
});

t.test('a list of one-line flow mappings gets its new items so', async (t) => {
  const text = 'env:\n- {name: A, value: "1"} # first\n- {name: B, value: "2"}\n';
  t.equal(
    patch(text, (v) => v.env.push({ name: 'CSQL_PROXY_MIN_SIGTERM_DELAY', value: '30s' })),
    'env:\n- {name: A, value: "1"} # first\n- {name: B, value: "2"}\n- {name: CSQL_PROXY_MIN_SIGTERM_DELAY, value: 30s}\n',
  );
});

t.test('removing keys and items removes their lines only', async (t) => {
  const text = `a:
  - name: x # first
    v: 1
  - name: y
  - name: z
b: 2 # bee
c:
  d: 1
`;
  const out = patch(text, (v) => {
    v.a.splice(1, 1);
    delete v.a[0].name;
    delete v.b;
  });
  t.equal(out, `a:
  - v: 1
  - name: z
c:
  d: 1
`);
});

t.test('flow collections on one line stay on one line, with the spacing they have', async (t) => {
  const text = `metadata: {name: web, labels: { app: web }} # on one line
spec: {containers: [{name: web, ports: [80]}], volumes: []}
`;
  const out = patch(text, (v) => {
    v.metadata.labels.tier = 'front';
    v.spec.containers[0].ports.push(443);
    v.spec.containers[0].probe = { tcpSocket: { port: 80 } };
    v.spec.volumes.push({ name: 'v', emptyDir: {} });
    v.metadata.annotations = { note: 'a, b' };
  });
  t.equal(out, `metadata: {name: web, labels: { app: web, tier: front }, annotations: {note: "a, b"}} # on one line
spec: {containers: [{name: web, ports: [80, 443], probe: {tcpSocket: {port: 80}}}], volumes: [{name: v, emptyDir: {}}]}
`);
});

t.test('flow lists over several lines keep their comments; removal takes one comma', async (t) => {
  const text = `args: [
  --a,  # first
  --b,  # second
  --c   # third
]
env: [
  {name: A, value: "1"},
  {name: B, value: "2"}
]
`;
  const out = patch(text, (v) => {
    v.args.push('--d');
    v.env.pop();
  });
  t.equal(out, `args: [
  --a,  # first
  --b,  # second
  --c,
  --d   # third
]
env: [
  {name: A, value: "1"}
]
`);
});

t.test('JSON stays JSON: compact on one line, pretty-printed with its indent', async (t) => {
  const compact = '{"kind":"Pod","spec":{"containers":[{"name":"web","ports":[{"containerPort":80}]}]}}';
  t.equal(
    patch(compact, (v) => {
      v.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 5 } } };
      v.spec.terminationGracePeriodSeconds = 35;
    }),
    '{"kind":"Pod","spec":{"containers":[{"name":"web","ports":[{"containerPort":80}],"lifecycle":{"preStop":{"sleep":{"seconds":5}}}}],"terminationGracePeriodSeconds":35}}',
  );
  const pretty = `{
    "kind": "Pod",
    "spec": {
        "containers": [
            {
                "name": "web"
            },
            {
                "name": "proxy"
            }
        ]
    }
}
`;
  t.equal(
    patch(pretty, (v) => {
      const proxy = v.spec.containers.pop();
      v.spec.initContainers = [{ ...proxy, restartPolicy: 'Always' }];
      v.spec.containers[0].ports = [{ containerPort: 80 }];
    }),
    `{
    "kind": "Pod",
    "spec": {
        "containers": [
            {
                "name": "web",
                "ports": [
                    {
                        "containerPort": 80
                    }
                ]
            }
        ],
        "initContainers": [
            {
                "name": "proxy",
                "restartPolicy": "Always"
            }
        ]
    }
}
`,
  );
});

t.test('CRLF line ends, document markers and leading comments are kept', async (t) => {
  const text = '# head\r\n---\r\na: 1\r\nb:\r\n- x\r\n...\r\n# tail\r\n';
  const out = patch(text, (v) => {
    v.b.push('z');
    v.c = { d: 1 };
  });
  t.equal(out, '# head\r\n---\r\na: 1\r\nb:\r\n- x\r\n- z\r\nc:\r\n  d: 1\r\n...\r\n# tail\r\n');
});

t.test('a file without a final line break gets none', async (t) => {
  t.equal(
    patch('a: 1', (v) => (v.b = 2)),
    'a: 1\nb: 2',
  );
});

t.test('an alias is never edited through; an anchored node that changes leaves its aliases their old value', async (t) => {
  const text = `one:
  c: &web {name: web, image: w}
two:
  c: *web
three:
  c: *web
`;
  const out = patch(text, (v) => {
    v.one.c.port = 80;
    v.three.c.port = 81;
  });
  t.equal(out, `one:
  c: &web {name: web, image: w, port: 80}
two:
  c: {name: web, image: w}
three:
  c: {name: web, image: w, port: 81}
`);
});

t.test('a key that comes from a merge key is overridden in place', async (t) => {
  const text = `base: &b {a: 1, b: 2}
m:
  <<: *b
  c: 3
`;
  const out = patch(text, (v) => (v.m.b = 5));
  t.equal(out, `base: &b {a: 1, b: 2}
m:
  <<: *b
  c: 3
  b: 5
`);
});

t.test('a List item is edited at its pointer', async (t) => {
  const text = 'kind: List\nitems:\n- kind: Pod # one\n  spec: {}\n- kind: Pod # two\n  spec: {}\n';
  const doc = read(text);
  const before = doc.toJS();
  const out = patchText(text, doc, [{ pointer: '/items/1', before: before.items[1], after: { kind: 'Pod', spec: { x: 1 } } }], detectYamlStyle(text));
  t.equal(out, 'kind: List\nitems:\n- kind: Pod # one\n  spec: {}\n- kind: Pod # two\n  spec: {x: 1}\n');
});

t.test('layout detection', async (t) => {
  t.match(detectYamlStyle('a:\n- x\nb:\n    c: 1\n'), { indent: 4, indentSeq: false, seqGap: 1, eol: '\n' });
  t.match(detectYamlStyle('a:\n  - x\nb:\n  c: 1\r\n'), { indent: 2, indentSeq: true, eol: '\r\n' });
  t.match(detectYamlStyle('a:\n-   b: 1\n    c: 2\n'), { indentSeq: false, seqGap: 3 });
  t.match(detectYamlStyle('a: {b: 1}\nc: [d]\n'), { flowPadding: false });
  t.match(detectYamlStyle('a: { b: 1 }\n'), { flowPadding: true });
});

// ---- property: random pod-like documents in random layouts, random edits of the shapes fixes make

type Path = Array<string | number>;
type Op =
  | { op: 'replace'; path: Path; value: Json }
  | { op: 'add'; path: Path; key: string | number; value: Json }
  | { op: 'remove'; path: Path }
  | { op: 'move'; from: number; to: 'initContainers' };

const get = (v: any, path: Path) => path.reduce((acc, k) => acc[k], v);

/** Paths of every scalar, mapping and sequence in `v`. */
function paths(v: Json, at: Path = []): Array<{ path: Path; value: Json }> {
  const here = [{ path: at, value: v }];
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [...here, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return here;
}

const isPrefix = (a: Path, b: Path) => a.length <= b.length && a.every((k, i) => b[i] === k);

/** Applies ops on distinct subtrees of the original value (an op inside another's subtree is skipped). */
function applyOps(before: any, ops: Op[]): { after: any; applied: Op[] } {
  const after = structuredClone(before);
  const applied: Op[] = [];
  const touched: Path[] = [];
  const free = (p: Path) => !touched.some((q) => isPrefix(q, p) || isPrefix(p, q));
  // Deepest and last positions first, so no op shifts the indices of another; moves last, on a containers list
  // no other op reshaped, so their indices still name the original items.
  const where = (o: Op): Path => (o.op === 'move' ? [] : o.op === 'add' ? [...o.path, o.key] : o.path);
  const order = (a: Op, b: Op) => {
    const [p, q] = [where(a), where(b)];
    for (let i = 0; i < Math.min(p.length, q.length); i++) {
      if (p[i] !== q[i]) return typeof p[i] === 'number' && typeof q[i] === 'number' ? (q[i] as number) - (p[i] as number) : String(q[i]) < String(p[i]) ? -1 : 1;
    }
    return q.length - p.length;
  };
  for (const op of [...ops.filter((o) => o.op !== 'move').sort(order), ...ops.filter((o) => o.op === 'move')]) {
    if (op.op === 'move') {
      const containers = after.spec.containers as any[];
      if (!Array.isArray(containers)) continue;
      const p: Path = ['spec', 'containers', op.from];
      const reshaped = touched.some((q) => q.length <= 3 && isPrefix(q, ['spec', 'containers', q[2] ?? 0]));
      if (op.from >= containers.length - 1 || reshaped || !free(p) || !free(['spec', 'initContainers'])) continue;
      const [c] = containers.splice(op.from, 1);
      after.spec.initContainers = [{ ...c, restartPolicy: 'Always' }, ...(after.spec.initContainers ?? [])];
      touched.push(p, ['spec', 'initContainers']);
      applied.push(op);
      continue;
    }
    const target = op.op === 'add' ? op.path : op.path;
    if (!free(target) || target.length === 0) continue;
    const parent = get(after, op.op === 'add' ? op.path : op.path.slice(0, -1));
    if (op.op === 'replace') parent[op.path.at(-1)!] = op.value;
    else if (op.op === 'remove') {
      if (Array.isArray(parent)) {
        if (parent.length <= 1) continue;
        parent.splice(op.path.at(-1) as number, 1);
      } else delete parent[op.path.at(-1)!];
    } else if (Array.isArray(parent)) parent.splice(Math.min(Number(op.key), parent.length), 0, op.value);
    else if (!(op.key in parent)) parent[op.key] = op.value;
    else continue;
    touched.push(target);
    applied.push(op);
  }
  return { after, applied };
}

/** The node at a path of the parsed document. */
function nodeAt(doc: ReturnType<typeof read>, path: Path): Node {
  let node: unknown = doc.contents;
  for (const k of path) {
    if (isMap(node)) node = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(k))!.value;
    else if (isSeq(node)) node = node.items[Number(k)];
  }
  return node as Node;
}

/** Input lines an op may change: the lines of what it replaces or removes, or of the flow collection it adds to. */
function touchedLines(text: string, doc: ReturnType<typeof read>, ops: Op[]): Set<number> {
  const lineOf = (pos: number) => text.slice(0, pos).split('\n').length - 1;
  const lines = new Set<number>();
  const removedUnder = new Map<string, Set<string>>();
  const span = (node: Node, from?: number) => {
    const [start, end] = node.range!;
    for (let l = lineOf(from ?? start); l <= lineOf(Math.max(start, end - 1)); l++) lines.add(l);
  };
  const parentSpan = (path: Path) => {
    // The entry's own line (its key or dash) and, inside flow collections, the collection's lines (commas move).
    const node = nodeAt(doc, path);
    const parent = nodeAt(doc, path.slice(0, -1)) as Node & { flow?: boolean };
    const pair = isMap(parent) ? parent.items.find((p) => p.value === node) : undefined;
    span(node, (pair?.key as Node | undefined)?.range?.[0] ?? node.range![0]);
    if (parent.flow) span(parent);
  };
  for (const op of ops) {
    if (op.op === 'move') {
      parentSpan(['spec', 'containers', op.from]);
      const init = nodeAt(doc, ['spec']) as any;
      const existing = init.items.find((p: any) => p.key.value === 'initContainers')?.value as Node & { flow?: boolean } | undefined;
      if (existing?.flow) span(existing);
      if ((nodeAt(doc, ['spec']) as any).flow) span(nodeAt(doc, ['spec']));
    } else if (op.op === 'add') {
      const node = nodeAt(doc, op.path) as Node & { flow?: boolean };
      if (node.flow) span(node);
    } else {
      parentSpan(op.path);
      // The first key of `- name: x` removed: the next key moves up onto the dash's line.
      const node = nodeAt(doc, op.path);
      const lineStart = text.lastIndexOf('\n', node.range![0] - 1) + 1;
      const keyStart = (nodeAt(doc, op.path.slice(0, -1)) as any).items?.find?.((p: any) => p.value === node)?.key?.range?.[0] ?? node.range![0];
      if (op.op === 'remove' && /^ *- +$/.test(text.slice(lineStart, keyStart))) {
        span(nodeAt(doc, op.path.slice(0, -1)));
      }
      // Equal items are interchangeable: removing one of them may remove another.
      const siblings = get(doc.toJS(), op.path.slice(0, -1));
      if (op.op === 'remove' && Array.isArray(siblings)) {
        const removedValue = JSON.stringify(siblings[op.path.at(-1) as number]);
        siblings.forEach((x: Json, i: number) => JSON.stringify(x) === removedValue && parentSpan([...op.path.slice(0, -1), i]));
      }
      // The last entry removed: the collection is written as `{}` or `[]` after its key.
      const parent = nodeAt(doc, op.path.slice(0, -1)) as unknown as { items: unknown[] };
      if (op.op === 'remove' && parent.items.length === 1 && op.path.length > 1) parentSpan(op.path.slice(0, -1));
      if (op.op === 'remove' && op.path.length > 1) {
        const key = JSON.stringify(op.path.slice(0, -1));
        removedUnder.set(key, new Set([...(removedUnder.get(key) ?? []), String(op.path.at(-1))]));
      }
    }
  }
  // Several removals that empty one collection between them: it is written as `{}` or `[]` too.
  for (const [key, removed] of removedUnder) {
    const path = JSON.parse(key) as Path;
    const parent = nodeAt(doc, path) as unknown as { items?: unknown[] } | undefined;
    if (parent?.items && removed.size >= parent.items.length) parentSpan(path);
  }
  return lines;
}

const scalarArb = fc.oneof(
  fc.constantFrom<Json>('web', 'nginx:1.27', '0755', 'yes', 'on', 'a b', 'x: y', 'p#q', '1:20', '', '--port=80', 'null'),
  fc.integer({ min: 0, max: 600 }),
  fc.boolean(),
);
const smallValue = fc.oneof(scalarArb, fc.constant<Json>({ preStop: { sleep: { seconds: 5 } } }), fc.constant<Json>(['sleep', '5']), fc.constant<Json>({}));
const opArb: fc.Arbitrary<(v: Json) => Op> = fc.oneof(
  fc.tuple(fc.nat(), scalarArb).map(([i, value]) => (v: Json) => {
    // Not a name in a list of named items: a renamed item is a new item (fixes never rename).
    const scalars = paths(v).filter((p) => (p.value === null || typeof p.value !== 'object') && p.path.at(-1) !== 'name');
    return { op: 'replace', path: scalars[i % scalars.length]!.path, value } as Op;
  }),
  fc.tuple(fc.nat(), fc.nat(), smallValue).map(([i, k, value]) => (v: Json) => {
    const collections = paths(v).filter((p) => p.value !== null && typeof p.value === 'object');
    const { path, value: c } = collections[i % collections.length]!;
    return { op: 'add', path, key: Array.isArray(c) ? k % (c.length + 1) : `k${k % 5}`, value } as Op;
  }),
  fc.nat().map((i) => (v: Json) => {
    const all = paths(v).filter((p) => p.path.length > 1);
    return { op: 'remove', path: all[i % all.length]!.path } as Op;
  }),
  fc.nat(3).map((from) => () => ({ op: 'move', from, to: 'initContainers' }) as Op),
);

const layoutArb: fc.Arbitrary<Layout> = fc.record({
  kind: fc.constantFrom('block', 'block', 'flow', 'json', 'json-pretty', 'mixed'),
  indent: fc.constantFrom(2, 4),
  indentSeq: fc.boolean(),
  comments: fc.boolean(),
  crlf: fc.boolean(),
  octal: fc.boolean(),
});

t.test('property: any edit of the shapes fixes make reads back exactly, and untouched lines stay byte for byte', async (t) => {
  let runs = 0;
  const edited = new Map<string, number>();
  fc.assert(
    fc.property(podDocument, layoutArb, fc.array(opArb, { minLength: 1, maxLength: 4 }), (pod, layout, makers) => {
      const text = renderDocument(pod, layout);
      const doc = read(text);
      const before = JSON.parse(JSON.stringify(doc.toJS()));
      assert.deepEqual(before, pod, 'the generated text reads as the generated value');
      const { after, applied } = applyOps(before, makers.map((make) => make(before)));
      const out = patchText(text, doc, [{ pointer: '', before, after }], detectYamlStyle(text));
      assert.deepEqual(read(out).toJS(), after, `reads back as the edited value:\n${text}\n---\n${out}`);
      const allowed = touchedLines(text, doc, applied);
      const lost = firstLostLine(text, out, allowed);
      assert.equal(lost, undefined, `only touched lines change:\n${text}\n---\n${out}\n${JSON.stringify(applied)}`);
      if (layout.crlf && layout.kind !== 'json') assert.ok(!/[^\r]\n/.test(out), 'CRLF kept');
      runs++;
      if (applied.length > 0) edited.set(layout.kind, (edited.get(layout.kind) ?? 0) + 1);
    }),
    { numRuns: 400 },
  );
  t.equal(runs, 400);
  // Guards the property: most runs edit something, in every layout.
  t.same([...edited.keys()].sort(), ['block', 'flow', 'json', 'json-pretty', 'mixed']);
  t.ok([...edited.values()].reduce((x, y) => x + y, 0) > 300, `runs with an edit: ${JSON.stringify(Object.fromEntries(edited))}`);
});

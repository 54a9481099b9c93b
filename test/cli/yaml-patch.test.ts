import assert from 'node:assert/strict';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import t from 'tap';
import { parseDocument, stringify } from 'yaml';
import { applyPatchToDocument, patchDocumentTo } from '../../src/cli/yaml-patch.js';
import { detectJsonIndent, detectYamlStyle } from '../../src/cli/yaml-style.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every object or array inside `value`, the root included. */
function containers(value: Json): Array<Json[] | { [k: string]: Json }> {
  if (value === null || typeof value !== 'object') return [];
  const children = Array.isArray(value) ? value : Object.values(value);
  return [value, ...children.flatMap(containers)];
}

/** A copy of `base` with edits at random places: set or delete a key, insert into or drop from an array. */
const editedPair = fc
  .tuple(
    fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>, { minKeys: 1 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('set', 'delete'), fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>), {
      maxLength: 6,
    }),
  )
  .map(([base, edits]) => {
    const edited = structuredClone(base) as Json;
    for (const [where, index, op, key, generated] of edits) {
      // fast-check may hand out one instance in several places: insert a copy, or an edit could put a value
      // inside itself and make the tree cyclic.
      const value = structuredClone(generated);
      const all = containers(edited);
      const target = all[where % all.length]!;
      if (Array.isArray(target)) {
        if (op === 'set') target.splice(index % (target.length + 1), 0, value);
        else if (target.length) target.splice(index % target.length, 1);
      } else {
        const keys = Object.keys(target);
        if (op === 'set') target[keys.length && index % 2 ? keys[index % keys.length]! : key] = value;
        else if (keys.length) delete target[keys[index % keys.length]!];
      }
    }
    // JSON Patch values are JSON, which has no negative zero: fast-json-patch copies op values through
    // JSON.stringify, so -0 arrives as 0 (Kubernetes decodes both to 0). State the property over JSON data.
    const asJson = (v: Json): Json => JSON.parse(JSON.stringify(v)) as Json;
    return { base: asJson(base as Json), edited: asJson(edited) };
  });

t.test('applying the diff of two values to the YAML of the first gives the second', async (t) => {
  fc.assert(
    fc.property(editedPair, ({ base, edited }) => {
      const doc = parseDocument(stringify(base));
      applyPatchToDocument(doc, jsonpatch.compare(base as object, edited as object));
      assert.deepStrictEqual(doc.toJS(), edited);
    }),
    { numRuns: 300 },
  );
  t.pass('300 runs'); // fc.assert throws the shrunk counterexample on failure
});

t.test('patchDocumentTo turns the YAML of a value into any other value', async (t) => {
  const named = fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd'), v: fc.nat(3) }), { maxLength: 4 });
  const lists = fc.record({ one: named, two: fc.option(named, { nil: undefined }) }, { requiredKeys: ['one'] });
  fc.assert(
    fc.property(editedPair, lists, lists, ({ base, edited }, l1, l2) => {
      // Two lists of named items (unique or not, the second sometimes absent) exercise alignment and moves.
      const withLists = (v: Json, l: { one: unknown[]; two?: unknown[] }) => JSON.parse(JSON.stringify({ ...(v as object), ...l }));
      const before = withLists(base, l1);
      const after = withLists(edited, l2);
      const doc = parseDocument(stringify(before));
      patchDocumentTo(doc, '', before, after);
      assert.deepStrictEqual(doc.toJS(), after);
    }),
    { numRuns: 300 },
  );
  t.pass('300 runs'); // fc.assert throws the shrunk counterexample on failure
});

t.test('an item inserted before others in a named list keeps every comment on its item', async (t) => {
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
  const doc = parseDocument(text);
  const before = doc.toJS();
  const after = {
    initContainers: [{ ...before.containers[1], restartPolicy: 'Always' }, before.initContainers[0]],
    containers: [{ ...before.containers[0], lifecycle: { preStop: { sleep: { seconds: 5 } } } }],
  };
  patchDocumentTo(doc, '', before, after);
  t.same(doc.toJS(), after);
  t.equal(
    doc.toString(),
    `initContainers:
  - name: proxy # moves to initContainers
    image: example/proxy:1
    args: [ --port=5432 ] # flow style kept
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
`,
  );
});

t.test('an item moved into a list that did not exist is moved as a node', async (t) => {
  const doc = parseDocument('containers:\n- name: web\n- name: proxy # keep me\n  image: p\n');
  const before = doc.toJS();
  const after = { containers: [before.containers[0]], initContainers: [{ ...before.containers[1], restartPolicy: 'Always' }] };
  patchDocumentTo(doc, '', before, after);
  t.same(doc.toJS(), after);
  t.match(doc.toString(), /initContainers:\n {2}- name: proxy # keep me\n/);
});

t.test('a dropped item is not reused for an unrelated item of the same name', async (t) => {
  // An env var and a container both named "proxy": the container is new, not the env var moved.
  const doc = parseDocument('env:\n- name: proxy # the env var\n  value: "on"\n');
  const before = doc.toJS();
  const after = { env: [], containers: [{ name: 'proxy', image: 'p' }] };
  patchDocumentTo(doc, '', before, after);
  t.same(doc.toJS(), after);
  t.notMatch(doc.toString(), /the env var/);
});

t.test('edits keep comments, untouched scalars and their quoting', async (t) => {
  const text = `# head
spec:
  grace: 30 # raised by the fix
  name: "web" # quoted
  items:
  - a # first
  - b
  - c # third
`;
  // Unnamed list items are diffed by index: removing 'b' rewrites the later values in place.
  const doc = parseDocument(text);
  const before = doc.toJS();
  const after = structuredClone(before);
  after.spec.grace = 45;
  after.spec.items.splice(1, 1);
  after.spec.items.push('d');
  after.spec.added = { x: 1 };
  applyPatchToDocument(doc, jsonpatch.compare(before, after));
  t.equal(
    doc.toString(),
    `# head
spec:
  grace: 45 # raised by the fix
  name: "web" # quoted
  items:
    - a # first
    - c
    - d # third
  added:
    x: 1
`,
  );
});

t.test('a changed scalar type gets a new node, so a number never comes out quoted', async (t) => {
  const doc = parseDocument('port: "http"\n');
  applyPatchToDocument(doc, [{ op: 'replace', path: '/port', value: 8080 }]);
  t.equal(doc.toString(), 'port: 8080\n');
});

t.test('the prefix addresses an object inside the document (a List item)', async (t) => {
  const doc = parseDocument('items:\n  - a: 1\n  - a: 2\n');
  applyPatchToDocument(doc, [{ op: 'add', path: '/b', value: true }], '/items/1');
  t.same(doc.toJS(), { items: [{ a: 1 }, { a: 2, b: true }] });
});

t.test('an op on a path that is not there is an error, not a silent no-op', async (t) => {
  const doc = parseDocument('a: 1\n');
  t.throws(() => applyPatchToDocument(doc, [{ op: 'add', path: '/x/y', value: 1 }]), /no mapping or sequence at \/x/);
});

t.test('layout detection', async (t) => {
  t.match(detectYamlStyle('a:\n- x\nb:\n    c: 1\n'), { indent: 4, indentSeq: false, lineWidth: 0 });
  t.match(detectYamlStyle('a:\n  - x\nb:\n  c: 1\n'), { indent: 2, indentSeq: true });
  t.match(detectYamlStyle('a: {b: 1}\nc: [d]\n'), { flowCollectionPadding: false });
  t.match(detectYamlStyle('a: { b: 1 }\n'), { flowCollectionPadding: true });
  t.equal(detectJsonIndent('{\n    "a": 1\n}'), 4);
  t.equal(detectJsonIndent('{"a":1}'), 2);
});

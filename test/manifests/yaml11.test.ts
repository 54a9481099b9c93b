import t from 'tap';
import { goNumber, manifestDocument, parseManifestDocuments } from '../../src/manifests/yaml11.js';
import { parseManifests } from '../../src/manifests/parse.js';

const read = (text: string): unknown => parseManifestDocuments(text)[0]!.toJS();
const scalar = (source: string): unknown => (read(`v: ${source}\n`) as { v: unknown }).v;

t.test('scalars read as go-yaml v2 (sigs.k8s.io/yaml) reads them', async (t) => {
  // Each value checked against go-yaml v2.4.0's resolve(): the boolean and null tables, strconv.ParseInt with
  // base 0 after removing '_', then its float pattern; timestamps stay strings when decoded into interface{}.
  const cases: Array<[string, unknown]> = [
    ['0755', 493],
    ['0400', 256],
    ['0644', 420],
    ['0o755', 493],
    ['-0755', -493],
    ['0x1F', 31],
    ['+0x1F', 31],
    ['0b101', 5],
    ['1_000', 1000],
    ['0_755', 493],
    ['08', 8],
    ['09.5', 9.5],
    ['00', 0],
    ['0', 0],
    ['+5', 5],
    ['1e3', 1000],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['1.', 1],
    ['e3', 'e3'],
    ['.e3', '.e3'],
    ['.5_0', '.5_0'],
    ['_1', '_1'],
    ['0x', '0x'],
    ['0b102', '0b102'],
    ['1:20', '1:20'],
    ['190:20:30', '190:20:30'],
    ['2001-12-14', '2001-12-14'],
    ['2001-12-14t21:59:43.10-05:00', '2001-12-14t21:59:43.10-05:00'],
    ['"0755"', '0755'],
    ["'0755'", '0755'],
    ['!!str 0755', '0755'],
    ['yes', true],
    ['Yes', true],
    ['YES', true],
    ['y', true],
    ['Y', true],
    ['on', true],
    ['ON', true],
    ['True', true],
    ['no', false],
    ['n', false],
    ['N', false],
    ['off', false],
    ['Off', false],
    ['FALSE', false],
    ['yEs', 'yEs'],
    ['oN', 'oN'],
    ['~', null],
    ['Null', null],
    ['', null],
    ['nan', 'nan'],
    ['inf', 'inf'],
    ['.inf', Infinity],
    ['-.Inf', -Infinity],
    ['!!timestamp 2001-12-14', '2001-12-14'],
  ];
  for (const [source, expected] of cases) t.same(scalar(source), expected, `${source || '(empty)'} reads as ${String(expected)}`);
  t.ok(Number.isNaN(scalar('.nan')), '.nan');
  t.equal(goNumber('18446744073709551615')?.kind, 'int', 'uint64 max is an int to ParseUint');
  t.equal(goNumber('18446744073709551616')?.kind, 'float', 'beyond uint64: a float by the float pattern');
  t.equal(goNumber('0x10000000000000000'), undefined, 'hex beyond uint64: a string');
});

t.test('merge keys, keys that read as numbers or booleans', async (t) => {
  t.same(read('base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n'), { base: { a: 1, b: 2 }, m: { a: 1, b: 3 } });
  t.same(read('0755: x\nyes: v\n'), { 493: 'x', true: 'v' });
});

t.test('the manifest reader uses these rules: defaultMode 0400 is 256, 0755 is 493', async (t) => {
  const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: i}]
  volumes:
  - name: token
    secret: {secretName: s, defaultMode: 0400}
  - name: scripts
    configMap:
      name: scripts
      defaultMode: 0755
      items:
      - {key: run.sh, path: run.sh, mode: 0644}
`;
  const parsed = parseManifests(text, 'pod.yaml');
  t.same(parsed.errors, []);
  const volumes = (parsed.manifests[0]!.object.spec as { volumes: any[] }).volumes;
  t.equal(volumes[0].secret.defaultMode, 256);
  t.equal(volumes[1].configMap.defaultMode, 493);
  t.equal(volumes[1].configMap.items[0].mode, 420);
});

t.test('new YAML written with these rules reads back as the value written', async (t) => {
  const values = ['0755', '0o17', 'yes', 'on', 'N', '1_000', '08', '1e3', '.5', '~', 'null', '', '1:20', '2001-12-14', 'plain'];
  const text = manifestDocument({ values }).toString();
  t.same(read(text), { values });
  for (const v of ['0755', 'yes', 'on', 'N', '1_000', '08', '1e3', '.5']) t.match(text, `"${v}"`, `${v} is quoted`);
  t.match(text, /- 1:20\n/, 'a string Kubernetes reads as a string stays plain');
  t.same(read(manifestDocument({ n: 493, b: true, f: 0.5, z: null }).toString()), { n: 493, b: true, f: 0.5, z: null });
});

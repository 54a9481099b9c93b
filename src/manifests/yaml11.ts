import { Document, LineCounter, parseAllDocuments, type DocumentOptions, type ParseOptions, type SchemaOptions, type ScalarTag, type Tags } from 'yaml';

/**
 * How Kubernetes reads a plain scalar. kubectl and the API server read YAML with sigs.k8s.io/yaml, which decodes
 * with go-yaml v2 (YAML 1.1 rules) and converts to JSON:
 * - booleans are y/Y/yes/Yes/YES/on/On/ON/true/True/TRUE and n/N/no/No/NO/off/Off/OFF/false/False/FALSE;
 * - a scalar starting with a digit or a sign is an integer when, with every `_` removed, Go's strconv.ParseInt
 *   with base 0 reads it: `0755` and `0o755` are octal (493), `0x1F` hex, `0b101` binary, `1_000` is 1000;
 *   otherwise a float when it matches go-yaml's float pattern (`08` is 8, `1e3` is 1000);
 * - a scalar starting with `.` is a float when Go's ParseFloat reads it as is (`.5`); `.inf`, `.nan` as in YAML;
 * - timestamps stay strings (go-yaml v2 gives a string when decoding into interface{}), and there is no
 *   sexagesimal number: `1:20` is a string. !!binary, !!set, !!omap and !!pairs have no special meaning.
 * The `yaml` package's own YAML 1.1 schema differs on the last three points and reads `e3` as a float.
 */
export type GoNumber = { kind: 'int' | 'float'; value: number };

const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/;
const PREFIXED = /^([-+]?)0([xXoObB])([0-9a-fA-F]+)$/;
const LEGACY_OCTAL = /^([-+]?)0([0-7]+)$/;
const DECIMAL = /^[-+]?(?:0|[1-9][0-9]*)$/;
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's ParseInt (then ParseUint) range: an integer outside it is not an integer to go-yaml. */
function inGoRange(n: bigint): boolean {
  return n < 0n ? -n <= INT64_MAX + 1n : n <= UINT64_MAX;
}

function parseRadix(digits: string, radix: number): bigint | undefined {
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 16: /^[0-9a-fA-F]+$/ }[radix as 2 | 8 | 16];
  if (!valid.test(digits)) return undefined;
  return [...digits.toLowerCase()].reduce((acc, d) => acc * BigInt(radix) + BigInt(parseInt(d, 16)), 0n);
}

/** The number go-yaml v2 reads from a plain scalar, or undefined when it reads a string (or a bool or null). */
export function goNumber(source: string): GoNumber | undefined {
  const first = source[0];
  if (first === '.') return DOT_FLOAT.test(source) ? { kind: 'float', value: Number(source) } : undefined;
  if (first === undefined || !/[-+0-9]/.test(first)) return undefined;
  const plain = source.replace(/_/g, '');
  const prefixed = PREFIXED.exec(plain);
  const octal = prefixed ? undefined : LEGACY_OCTAL.exec(plain);
  if (prefixed || octal) {
    const [, sign, letter, digits] = prefixed ?? [octal![0], octal![1], 'o', octal![2]];
    const radix = { x: 16, o: 8, b: 2 }[letter!.toLowerCase() as 'x' | 'o' | 'b'];
    const magnitude = parseRadix(digits!, radix);
    if (magnitude !== undefined) {
      const n = sign === '-' ? -magnitude : magnitude;
      if (inGoRange(n)) return { kind: 'int', value: Number(n) };
    }
  } else if (DECIMAL.test(plain)) {
    const n = BigInt(plain);
    if (inGoRange(n)) return { kind: 'int', value: Number(n) };
  }
  // Not an integer to Go (a bad octal digit as in `08`, or out of range): a float if it looks like one.
  return GO_FLOAT.test(plain) ? { kind: 'float', value: Number(plain) } : undefined;
}

/** The `yaml` package only calls `.test()` on a tag's pattern: a RegExp whose test is go-yaml's resolver. */
function matcher(test: (source: string) => boolean): RegExp {
  const re = new RegExp('');
  Object.defineProperty(re, 'test', { value: test });
  return re;
}

const INT = 'tag:yaml.org,2002:int';
const FLOAT = 'tag:yaml.org,2002:float';
const KEPT = new Set(['map', 'seq', 'str', 'null', 'bool', 'merge'].map((t) => `tag:yaml.org,2002:${t}`));

/** The yaml package's YAML 1.1 tags, with numbers read as go-yaml v2 reads them and no timestamps. */
function goYamlTags(tags: Tags): Tags {
  const floatTags = tags.filter((t) => (t as ScalarTag).tag === FLOAT) as ScalarTag[];
  const nanInf = floatTags.find((t) => t.test?.test('.nan'));
  const plainFloat = floatTags.find((t) => t.format === undefined && t !== nanInf);
  const int: ScalarTag = {
    identify: (v) => typeof v === 'bigint' || Number.isInteger(v),
    default: true,
    tag: INT,
    test: matcher((s) => goNumber(s)?.kind === 'int'),
    resolve: (s) => goNumber(s)!.value,
    stringify: ({ value }) => String(value),
  };
  const float: ScalarTag = {
    identify: (v) => typeof v === 'number',
    default: true,
    tag: FLOAT,
    // Any number: ints are matched by the int tag first; an explicit !!float on an int gives a float, as in Go.
    test: matcher((s) => goNumber(s) !== undefined),
    resolve: (s) => goNumber(s)!.value,
    stringify: plainFloat?.stringify ?? (({ value }) => String(value)),
  };
  const kept = tags.filter((t) => KEPT.has((t as ScalarTag).tag));
  return [...kept, int, ...(nanInf ? [nanInf] : []), float];
}

// resolveKnownTags off: an explicit !!timestamp or !!binary stays a string, as go-yaml v2 gives it to JSON.
const SCHEMA = { version: '1.1', schema: 'yaml-1.1', customTags: goYamlTags, merge: true, resolveKnownTags: false } as const;

/**
 * Parse options for manifests: YAML 1.1 as go-yaml v2 reads it, duplicate keys allowed (the last one wins). The
 * library's own warnings stay off stderr (it would print a Node process warning for a mapping used as a key): what
 * is wrong with a document is reported by the reader, with file and line.
 */
export const MANIFEST_PARSE_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  ...SCHEMA,
  prettyErrors: false,
  uniqueKeys: false,
  logLevel: 'error',
};

/** Every document of a manifest text, read with Kubernetes' YAML rules. The one reader of manifests. */
export function parseManifestDocuments(text: string, lineCounter?: LineCounter, extra: { keepSourceTokens?: boolean } = {}): Document.Parsed[] {
  const docs = parseAllDocuments(text, { ...MANIFEST_PARSE_OPTIONS, ...extra, ...(lineCounter ? { lineCounter } : {}) });
  return Array.isArray(docs) ? docs : [];
}

/** A document holding `value`, for writing new YAML that Kubernetes reads back as `value` (`"0755"`, `"yes"` quoted). */
export function manifestDocument(value: unknown): Document {
  return new Document(value, SCHEMA);
}

import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** How a generated document is written: block YAML, one-line flow YAML, JSON, or block with flow parts. */
export interface Layout {
  kind: 'block' | 'flow' | 'json' | 'json-pretty' | 'mixed';
  indent: number;
  indentSeq: boolean;
  comments: boolean;
  crlf: boolean;
  /** File modes written as YAML 1.1 octal (`0400`) and booleans as yes/no. */
  octal: boolean;
}

const text = fc.constantFrom<Json>('web', 'nginx:1.27', 'example/app', '0755', 'yes', 'on', 'a b', 'x: y', 'p#q', '1:20', '', '--port=80', 'null');
const names = fc.uniqueArray(fc.constantFrom('web', 'proxy', 'cloud-sql-proxy', 'worker', 'migrate', 'sidecar'), { minLength: 2, maxLength: 5 });
const env = fc.uniqueArray(fc.record({ name: fc.constantFrom('A', 'B', 'DB_HOST', 'FLAG'), value: text }), { selector: (e) => e.name, maxLength: 3 });
const container = (name: string) =>
  fc.record(
    {
      name: fc.constant<Json>(name),
      image: text,
      args: fc.array(text, { maxLength: 3 }),
      env,
      ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 9000 }) }), { maxLength: 2 }),
    },
    { requiredKeys: ['name', 'image'] },
  );

/** Pod-like objects: containers (some in initContainers), env, ports, file modes, a grace period. */
export const podDocument: fc.Arbitrary<Json> = names.chain((ns) =>
  fc
    .record(
      {
        containers: fc.tuple(...ns.slice(0, -1).map(container)),
        initContainers: fc.tuple(container(ns.at(-1)!)),
        volumes: fc.constant<Json>([
          { name: 'token', secret: { secretName: 't', defaultMode: 256 } },
          { name: 'scripts', configMap: { name: 's', defaultMode: 493, items: [{ key: 'run', path: 'run', mode: 420 }] } },
        ]),
        terminationGracePeriodSeconds: fc.integer({ min: 0, max: 120 }),
        enableServiceLinks: fc.boolean(),
      },
      { requiredKeys: ['containers'] },
    )
    .map((spec) => JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web' } }, spec })) as Json),
);

const RESERVED = /^(y|n|yes|no|on|off|true|false|null|~)$/i;
const MODE_KEYS = new Set(['defaultMode', 'mode']);

function scalar(v: Json, key: string | undefined, layout: Layout, inFlow: boolean): string {
  if (typeof v === 'number') return layout.octal && key && MODE_KEYS.has(key) ? `0${v.toString(8)}` : String(v);
  if (typeof v === 'boolean') return layout.octal ? (v ? 'yes' : 'no') : String(v);
  if (v === null) return 'null';
  const s = v as string;
  const plain = inFlow ? /^[a-z][a-z0-9./=-]*$/i : /^[a-z][a-z0-9./=-]*(:[0-9.]+)?$/i;
  return plain.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

function flow(v: Json, layout: Layout, key?: string): string {
  if (Array.isArray(v)) return `[${v.map((x) => flow(x, layout)).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${flow(x, layout, k)}`).join(', ')}}`;
  return scalar(v, key, layout, true);
}

function block(v: Json, column: number, layout: Layout, counter: { n: number }, depth: number): string[] {
  const pad = ' '.repeat(column);
  const comment = () => (layout.comments && ++counter.n % 3 === 0 ? `  # c${counter.n}` : '');
  const value = (k: string | undefined, x: Json, prefix: string, childColumn: number): string[] => {
    if (x === null || typeof x !== 'object') return [`${prefix} ${scalar(x, k, layout, false)}${comment()}`];
    const empty = Array.isArray(x) ? x.length === 0 : Object.keys(x).length === 0;
    if (empty) return [`${prefix} ${Array.isArray(x) ? '[]' : '{}'}`];
    if (layout.kind === 'mixed' && Array.isArray(x) && x.every((i) => i === null || typeof i !== 'object')) {
      // A flow list over several lines, with comments after its items.
      const items = x.map((i, n) => `${' '.repeat(childColumn + 2)}${scalar(i, undefined, layout, true)}${n < x.length - 1 ? ',' : ''}${comment()}`);
      return [`${prefix} [`, ...items, `${' '.repeat(childColumn)}]`];
    }
    if (layout.kind === 'mixed' && depth >= 4) return [`${prefix} ${flow(x, layout, k)}${comment()}`];
    const nested = Array.isArray(x) ? childColumn + (layout.indentSeq ? layout.indent : 0) : childColumn + layout.indent;
    return [prefix, ...block(x, nested, layout, counter, depth + 1)];
  };
  if (Array.isArray(v)) {
    return v.flatMap((item) => {
      if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0 && !(layout.kind === 'mixed' && depth >= 4)) {
        const lines = block(item, column + 2, layout, counter, depth + 1);
        return [`${pad}- ${lines[0]!.slice(column + 2)}`, ...lines.slice(1)];
      }
      return value(undefined, item, `${pad}-`, column);
    });
  }
  return Object.entries(v as Record<string, Json>).flatMap(([k, x], i) => [
    ...(layout.comments && i % 4 === 3 ? [`${pad}# about ${k}`] : []),
    ...value(k, x, `${pad}${k}:`, column),
  ]);
}

/** The text of `v` in `layout`. */
export function renderDocument(v: Json, layout: Layout): string {
  let out: string;
  if (layout.kind === 'json') return JSON.stringify(v);
  if (layout.kind === 'json-pretty') out = `${JSON.stringify(v, null, layout.indent)}\n`;
  else if (layout.kind === 'flow') out = `# one line\n${flow(v, layout)}\n`;
  else out = `${layout.comments ? '# a pod\n---\n' : ''}${block(v, 0, layout, { n: 0 }, 0).join('\n')}\n`;
  return layout.crlf ? out.replace(/\n/g, '\r\n') : out;
}

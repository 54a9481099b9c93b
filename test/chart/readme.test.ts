/**
 * The chart README's values table and values.yaml / values.schema.json describe the same keys:
 * every key a user can set has a row, and every row names a key the schema accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';

const CHART = join(import.meta.dirname, '..', '..', 'charts', 'gracekeeper');
const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
const readme = readFileSync(join(CHART, 'README.md'), 'utf8');

interface Schema {
  properties?: Record<string, Schema>;
}

/** Keys documented as a whole: Kubernetes structures passed through as they are. */
const WHOLE = new Set(['resources', 'podSecurityContext', 'securityContext', 'livenessProbe', 'readinessProbe', 'startupProbe']);

function leafKeys(value: unknown, prefix = ''): string[] {
  const isMap = value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isMap || Object.keys(value).length === 0 || WHOLE.has(prefix)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

/** Keys named in the first column of the values table (a cell may name several: `a` / `b`). */
const tableStart = readme.indexOf('## Values');
const documented = readme
  .slice(tableStart, readme.indexOf('\n## ', tableStart + 1))
  .split('\n')
  .filter((l) => l.startsWith('| `'))
  .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

t.test('every key in values.yaml has a row in the README values table', async (t) => {
  const keys = leafKeys(values);
  t.ok(keys.length > 50);
  for (const key of keys) t.ok(documented.includes(key), key);
});

t.test('every row names a key values.schema.json accepts', async (t) => {
  t.ok(documented.length > 50);
  for (const key of documented) {
    let node: Schema | undefined = schema;
    for (const part of key.split('.')) node = node?.properties?.[part];
    t.ok(node, key);
  }
});

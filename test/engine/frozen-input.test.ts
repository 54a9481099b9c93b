import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import type { KubeObject } from '../../src/engine/types.js';
import { toWorkload } from '../../src/engine/workload.js';
import { parseManifests } from '../../src/manifests/parse.js';
import { RULES } from '../../src/rules/index.js';
import { contextFor } from '../helpers/engine.js';

/**
 * The engine copies only the pod spec, its container lists and the containers; everything deeper is shared with
 * the caller's object, and fixes must replace it, never edit it (the Rule contract). Evaluating a deep-frozen
 * object turns any edit in place into a TypeError (ES modules are strict), so this holds every fix to it.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const root = fileURLToPath(new URL('../fixtures/rules/', import.meta.url));
const configs: unknown[] = [{}, { proxy: { strategy: 'prestop' } }, { kubernetesVersion: '1.28' }];

for (const rule of readdirSync(root).sort()) {
  t.test(rule, async (t) => {
    for (const file of readdirSync(join(root, rule)).filter((f) => /^(pass|fail)-.*\.yaml$/.test(f) && !f.endsWith('.expect.yaml'))) {
      const text = readFileSync(join(root, rule, file), 'utf8');
      const objects = parseManifests(text, file).manifests.map((m) => m.object);
      const subject = objects.find((o) => toWorkload(o) !== null);
      if (!subject) continue;
      const expectFile = join(root, rule, file.replace(/\.yaml$/, '.expect.yaml'));
      let own: unknown;
      try {
        own = (parse(readFileSync(expectFile, 'utf8')) as { config?: unknown } | null)?.config;
      } catch {
        own = undefined;
      }
      for (const config of own === undefined ? configs : [own]) {
        const input = deepFreeze(structuredClone(subject) as KubeObject);
        const before = JSON.stringify(input);
        t.doesNotThrow(() => evaluate(input, RULES, contextFor(objects, config), { fix: true }), `${file} ${JSON.stringify(config)}`);
        t.equal(JSON.stringify(input), before, `${file}: the input is unchanged`);
      }
    }
  });
}

import t from 'tap';
import { toWorkload } from '../../src/engine/workload.js';
import type { KubeObject, RuleContext } from '../../src/engine/types.js';
import { RULES } from '../../src/rules/index.js';
import { recordedCases } from '../recorded/lib/cases.js';

/**
 * The Rule contract the engine's fix pass relies on (it calls a fix without checking first when it need not list
 * the fixes): on every workload of the recorded cases (rule, engine and real-world fixtures, bench corpus), a fix
 * changes nothing where its rule's check reports nothing, and a fix run twice changes nothing the second time.
 */
const subjects = recordedCases().filter((c) => c.endpoint === 'validate' && c.mode === 'enforce');
const fixing = RULES.filter((r) => r.fix);

function workloadOf(object: unknown) {
  try {
    return toWorkload(structuredClone(object) as KubeObject);
  } catch {
    return null; // unreadable objects never reach a fix
  }
}

t.test('a fix changes nothing where its check reports nothing, and is idempotent', async (t) => {
  const broken: string[] = [];
  let quiet = 0;
  let fixed = 0;
  for (const c of subjects) {
    const object = (c.review as { request: { object: unknown } }).request.object;
    const ctx: RuleContext = { config: c.policy, cluster: c.cluster };
    for (const rule of fixing) {
      const w = workloadOf(object);
      if (!w) continue;
      const reported = rule.check(w, ctx).length > 0;
      const before = JSON.stringify(w.podSpec);
      rule.fix!(w.podSpec, ctx, w);
      const once = JSON.stringify(w.podSpec);
      if (!reported) {
        quiet++;
        if (once !== before) broken.push(`${c.key}: ${rule.id} changed a pod spec its check passes`);
        continue;
      }
      fixed++;
      rule.fix!(w.podSpec, ctx, w);
      if (JSON.stringify(w.podSpec) !== once) broken.push(`${c.key}: ${rule.id} changed the pod spec again on a second run`);
    }
  }
  t.same(broken.slice(0, 10), [], `${broken.length} contract breaks`);
  t.ok(quiet > 1000 && fixed > 300, `${quiet} fixes run where the check passes, ${fixed} where it reports`);
});

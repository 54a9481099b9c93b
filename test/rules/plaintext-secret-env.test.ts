import t from 'tap';
import { evaluate } from '../../src/engine/evaluate.js';
import type { KubeObject } from '../../src/engine/types.js';
import { RULES } from '../../src/rules/index.js';
import { contextFor } from '../helpers/engine.js';

// Findings reach kubectl warnings, webhook logs and CI output: they must name the variable, never its value.
t.test('messages never contain the secret value', async (t) => {
  const values = ['hunter2-Xq9', 'ghp_Zk81example', 'sk_live_77example'];
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'api', namespace: 'default' },
    spec: {
      containers: [
        {
          name: 'api',
          image: 'example/api:1.0',
          env: [
            { name: 'DB_PASSWORD', value: values[0] },
            { name: 'GITHUB_TOKEN', value: values[1] },
            { name: 'STRIPE_API_KEY', value: values[2] },
          ],
        },
      ],
    },
  };
  const result = evaluate(pod, RULES, contextFor([pod]), { only: ['plaintext-secret-env'] })!;
  t.equal(result.findings.length, 3, 'one finding per literal secret');
  for (const f of result.findings) {
    for (const v of values) t.notOk(f.message.includes(v), `${f.path} does not echo a value`);
  }
});

import t from 'tap';
import { evaluate } from '../../src/engine/evaluate.js';
import type { KubeObject } from '../../src/engine/types.js';
import { RULES } from '../../src/rules/index.js';
import { SECRET_FRAGMENT, SECRET_SUFFIXES, SECRET_WORDS } from '../../src/rules/plaintext-secret-env.js';
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

// The rule skips names without a secret fragment before splitting them into words: that is sound only if every
// word the split can call a secret contains a fragment (words are lower-cased substrings of the name).
t.test('every secret word and suffix contains a secret fragment', async (t) => {
  for (const word of [...SECRET_WORDS, ...SECRET_SUFFIXES]) t.match(word, SECRET_FRAGMENT, word);
  for (const compound of ['PGPASSWORD', 'clientSecret', 'ACCESSTOKEN', 'x-api-key', 'AppCredentials']) t.match(compound, SECRET_FRAGMENT, compound);
});

t.test('a container with 100,000 env vars: only the secret names are found', async (t) => {
  const env = Array.from({ length: 100_000 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` }));
  for (const i of [7, 50_000, 99_999]) env[i] = { name: `SERVICE_${i}_PASSWORD`, value: 'literal' };
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'many', namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'example/app:1.0', env }] },
  };
  const result = evaluate(pod, RULES, contextFor([pod]), { only: ['plaintext-secret-env'] })!;
  t.same(
    result.findings.map((f) => f.path),
    [7, 50_000, 99_999].map((i) => `/spec/containers/0/env/${i}/value`),
  );
});

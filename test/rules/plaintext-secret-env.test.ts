import fc from 'fast-check';
import t from 'tap';
import { evaluate } from '../../src/engine/evaluate.js';
import type { KubeObject } from '../../src/engine/types.js';
import { RULES } from '../../src/rules/index.js';
import { SECRET_FRAGMENT, SECRET_SUFFIXES, SECRET_WORDS, evidentlyNotSecret } from '../../src/rules/plaintext-secret-env.js';
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

/** Whether the rule reports `NAME=value` on a bare Pod. */
function reported(name: string, value: string): boolean {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'example/app:1.0', env: [{ name, value }] }] },
  };
  return evaluate(pod, RULES, contextFor([pod]), { only: ['plaintext-secret-env'] })!.findings.length > 0;
}

const SECRET_NAMES = ['DB_PASSWORD', 'API_TOKEN', 'CLIENT_SECRET', 'STRIPE_API_KEY', 'PGPASSWORD', 'webhookSecret', 'ssl.key'];
const secretName = fc.constantFrom(...SECRET_NAMES);
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const RUNS = { numRuns: 200 };

t.test('values that are not secrets are never reported, whatever the secret-like name', async (t) => {
  const flag = fc
    .constantFrom('yes', 'no', 'true', 'false', 'on', 'off', 'enabled', 'disabled', 'enable', 'disable', '0', '1', 'none', 'empty')
    .chain((f) => fc.array(fc.boolean(), { minLength: f.length, maxLength: f.length }).map((up) => [...f].map((c, i) => (up[i] ? c.toUpperCase() : c)).join('')));
  const objectWord = fc.constantFrom('secret', 'secrets', 'token', 'key', 'keys', 'tls', 'ssl', 'cert', 'certs', 'certificate', 'credentials', 'creds');
  // A DNS-1123 name of hyphenated words, one of which names a secret-holding object; optionally namespace/.
  const objectName = fc
    .tuple(fc.array(word, { maxLength: 2 }), objectWord, fc.array(word, { maxLength: 2 }), fc.option(word, { nil: undefined }))
    .filter(([before, , after]) => before.length + after.length > 0)
    .map(([before, w, after, ns]) => `${ns ? `${ns}/` : ''}${[...before, w, ...after].join('-')}`);
  const path = fc
    .tuple(fc.constantFrom('/', './', '../', '~/'), fc.array(word, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '.key', '.pem', '.crt', '.json'))
    .map(([root, parts, ext]) => `${root}${parts.join('/')}${ext}`);
  const relativeKeyFile = fc
    .tuple(fc.array(word, { minLength: 1, maxLength: 3 }), word, fc.constantFrom('key', 'pem', 'crt', 'json', 'p12'))
    .map(([dirs, file, ext]) => `${dirs.join('/')}/${file}.${ext}`);
  const url = fc
    .tuple(fc.constantFrom('http', 'https', 'grpc', 'redis', 'postgres'), fc.array(word, { minLength: 1, maxLength: 3 }), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), fc.array(word, { maxLength: 3 }))
    .map(([scheme, host, port, parts]) => `${scheme}://${host.join('.')}${port ? `:${port}` : ''}/${parts.join('/')}`);
  const reference = fc
    .tuple(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/), fc.constantFrom('$(%)', '${%}', '$%'))
    .map(([v, shape]) => shape.replace('%', v));
  await fc.assert(
    fc.property(secretName, fc.oneof(flag, objectName, path, relativeKeyFile, url, reference), (name, value) => {
      if (reported(name, value)) throw new Error(`${name}=${value} reported`);
    }),
    RUNS,
  );
  t.pass('no finding for switches, object names, paths, plain URLs or references');
});

t.test('literal secrets stay reported', async (t) => {
  // Random tokens from an alphabet without '/', '-', ':', '$', '.' and '~' cannot be paths, names, URLs or references.
  const token = fc.stringMatching(/^[A-Za-z0-9_+=!#%^*]{8,40}$/).filter((v) => !/^(enabled?|disabled?)$/i.test(v));
  const jwt = fc
    .tuple(...[0, 1, 2].map(() => fc.stringMatching(/^[A-Za-z0-9_-]{8,30}$/)))
    .map(([h, p, sig]) => `eyJ${h}.eyJ${p}.${sig}`);
  const userinfoUrl = fc
    .tuple(fc.constantFrom('postgres', 'amqp', 'https', 'redis'), word, fc.stringMatching(/^[A-Za-z0-9]{4,16}$/), word)
    .map(([scheme, user, pass, host]) => `${scheme}://${user}:${pass}@${host}:1234/db`);
  const tokenInQuery = fc
    .tuple(word, fc.constantFrom('token', 'api_key', 'sig', 'password', 'access_token'), fc.stringMatching(/^[A-Za-z0-9]{6,20}$/))
    .map(([host, param, v]) => `https://${host}.example.com/hook?${param}=${v}`);
  const common = fc.constantFrom('changeme', 's3cr3t', 'password123', 'hunter2', 'P@ssw0rd!', 'letmein', 'correct-horse-battery-staple');
  await fc.assert(
    fc.property(secretName, fc.oneof(token, jwt, userinfoUrl, tokenInQuery, common), (name, value) => {
      if (!reported(name, value)) throw new Error(`${name}=${value} not reported`);
    }),
    RUNS,
  );
  t.pass('tokens, JWTs, URLs with credentials and common passwords are reported');
});

t.test('evidentlyNotSecret on examples from real manifests', async (t) => {
  for (const v of ['yes', 'Disabled', 'my-secret-name', 'webhook-tls', 'kube-system/cluster-ca-cert', '/usr/share/nginx/certs/tls.key', './tls.crt', '~/x', 'certs/sa.json', 'tls.key', 'service-account.json', 'https://sso.example.com/realms/x', '${VAR}', '$(VAR)']) {
    t.ok(evidentlyNotSecret(v), `${v} is not a secret`);
  }
  for (const v of ['changeme', 's3cr3t', 'password123', 'secret', 'token', 'example-pg-password', 'amqp://u:p@host/', 'https://h/x?token=1', 'sk_live_abc']) {
    t.notOk(evidentlyNotSecret(v), `${v} may be a secret`);
  }
});

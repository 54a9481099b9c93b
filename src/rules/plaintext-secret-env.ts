import { containerEntries } from '../engine/containers.js';
import type { Rule, RuleIssue } from '../engine/types.js';

export const SECRET_WORDS: ReadonlySet<string> = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'key', 'apikey', 'credential', 'credentials',
]);

/** Secret words that also count at the end of a compound word: PGPASSWORD, clientsecret, ACCESSTOKEN. */
export const SECRET_SUFFIXES: readonly string[] = ['password', 'passwd', 'secret', 'token', 'apikey'];

const isSecretWord = (w: string) => SECRET_WORDS.has(w) || SECRET_SUFFIXES.some((s) => w.endsWith(s));

/** Words after the secret word that make the value a fact about the secret, not the secret: DB_PASSWORD_FILE. */
const DESCRIBES_SECRET = new Set([
  'file', 'path', 'dir', 'name', 'id', 'prefix', 'suffix', 'url', 'uri', 'endpoint', 'header', 'ttl', 'expiry',
  'expires', 'expiration', 'lifetime', 'length', 'len', 'size', 'bits', 'min', 'max', 'algorithm', 'alg', 'type',
  'format', 'ref', 'reference', 'mode', 'policy', 'location', 'audience', 'issuer', 'scope', 'limit', 'count', 'timeout',
  'interval', 'version', 'field', 'env', 'var',
]);

/** Words right before `key` that name a lookup key, not a cryptographic one: CACHE_KEY, ROUTING_KEY, PUBLIC_KEY. */
const NOT_A_SECRET_KEY = new Set([
  'public', 'routing', 'partition', 'sort', 'cache', 'primary', 'foreign', 'idempotency', 'lookup', 'object', 'hash',
  'dedup', 'shard',
]);

/** Words that make the variable a switch about a secret: MYSQL_ALLOW_EMPTY_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD. */
const SWITCHES = new Set(['allow', 'empty', 'random', 'generate', 'skip', 'enable', 'enabled', 'disable', 'disabled', 'require', 'required']);

/** Splits an env name into lower-case words on `_`, `-`, `.` and camelCase boundaries. */
function envWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .split(/[_\-.]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Whether an env name says its value is a secret (a password, token, key ...). */
function namesSecret(name: string): boolean {
  const words = envWords(name);
  // PWD alone is the shell's working directory.
  if (words.length === 1 && words[0] === 'pwd') return false;
  let last = -1;
  words.forEach((w, i) => {
    if (isSecretWord(w)) last = i;
  });
  if (last < 0) return false;
  if (words.some((w) => SWITCHES.has(w))) return false;
  if (words.slice(last + 1).some((w) => DESCRIBES_SECRET.has(w))) return false;
  if (words[last] === 'key' && last > 0 && NOT_A_SECRET_KEY.has(words[last - 1]!)) return false;
  return true;
}

/**
 * A fragment every secret word and suffix contains (test/rules/plaintext-secret-env.test.ts checks it): a name
 * without one names no secret, whatever its words. Most env names have none, so they skip the word split and
 * the memo below, which a Pod with 100,000 distinct names would otherwise churn.
 */
export const SECRET_FRAGMENT = /pass|pwd|secret|token|key|credential/i;

/**
 * namesSecret, remembered: the same env names come back in every Pod of a workload, and splitting names into
 * words is most of this rule's time on a Pod with many containers. Bounded, so arbitrary names cannot grow it
 * without limit.
 */
const answers = new Map<string, boolean>();
const MAX_ANSWERS = 10_000;
function namesSecretRemembered(name: string): boolean {
  if (!SECRET_FRAGMENT.test(name)) return false;
  let answer = answers.get(name);
  if (answer === undefined) {
    answer = namesSecret(name);
    if (answers.size >= MAX_ANSWERS) answers.clear();
    answers.set(name, answer);
  }
  return answer;
}

/**
 * Only references to other variables: `$(VAR)`, which Kubernetes substitutes (it may come from a Secret), and
 * `${VAR}` / `$VAR`, which a template tool, a shell or the app expands. None is the secret itself.
 */
const ONLY_REFERENCES = /^(\$\([A-Za-z_][A-Za-z0-9_.-]*\)|\$\{[A-Za-z_][A-Za-z0-9_.-]*\}|\$[A-Za-z_][A-Za-z0-9_]*)+$/;

/** On/off values: MYSQL_ALLOW_EMPTY_PASSWORD style switches, or a secret feature turned off. */
const FLAG = /^(yes|no|y|n|true|false|on|off|enabled?|disabled?|0|1|none|null|nil|empty)$/i;

/**
 * Words that make a DNS-1123 name the name of an object that holds a secret, not the secret: my-secret-name,
 * webhook-tls. Not `password`: `example-pg-password` is as likely the password itself.
 */
const OBJECT_NAME_WORDS = new Set([
  'secret', 'secrets', 'token', 'tokens', 'key', 'keys', 'keypair', 'tls', 'ssl', 'cert', 'certs', 'certificate',
  'certificates', 'credential', 'credentials', 'creds', 'kubeconfig',
]);

/** A Kubernetes object name (DNS-1123 label or subdomain), optionally `namespace/name`, of hyphenated words. */
const OBJECT_NAME = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\/)?[a-z0-9]+(-[a-z0-9]+)+$/;

/** A file path: absolute, relative to ., .. or ~, or a (relative) key, certificate or credentials file name. */
const FILE_PATH = /^(\/|\.{1,2}\/|~\/)\S*$|^[\w.-]+(\/[\w.-]+)*\.(key|pem|crt|cer|der|csr|json|p12|pfx|jks|keystore|gpg|asc|pub)$/;

/** A URL: scheme://authority[/...]. Without userinfo (user:password@) and without a secret in its query. */
const URL = /^[a-z][a-z0-9+.-]*:\/\/([^\s/?#]*)([/?#]\S*)?$/i;
const SECRET_QUERY = /[?&][^=&]*(pass|pwd|secret|token|key|sig|auth|credential)[^=&]*=[^&]/i;

/** One item of a comma-separated option list: `word` or `name=value`. */
const OPTION = /^([A-Za-z0-9_.-]+)(?:=(.*))?$/;

/**
 * A comma-separated list of options whose secret-named options all point at files, at least one of them
 * (`jwt,priv-key=/certs/jwt.pem,sign-method=RS256`, etcd's --auth-token): settings that say where the key is.
 */
function optionsNamingKeyFiles(value: string): boolean {
  const items = value.split(',');
  if (items.length < 2) return false;
  let keyFiles = 0;
  for (const item of items) {
    const m = OPTION.exec(item.trim());
    if (!m) return false;
    if (m[2] === undefined || !SECRET_FRAGMENT.test(m[1]!)) continue;
    if (!FILE_PATH.test(m[2])) return false;
    keyFiles++;
  }
  return keyFiles > 0;
}

/**
 * Whether a literal value is evidently not a secret, whatever the variable's name: a switch, a reference, the
 * name of a Secret (or other object), a file path, options that point at key files, or a URL that carries no
 * credentials.
 */
export function evidentlyNotSecret(value: string): boolean {
  if (FLAG.test(value) || ONLY_REFERENCES.test(value) || FILE_PATH.test(value) || optionsNamingKeyFiles(value)) return true;
  if (OBJECT_NAME.test(value) && value.slice(value.indexOf('/') + 1).split('-').some((w) => OBJECT_NAME_WORDS.has(w))) return true;
  const url = URL.exec(value);
  return url !== null && !url[1]!.includes('@') && !SECRET_QUERY.test(value);
}

export const plaintextSecretEnv: Rule = {
  id: 'plaintext-secret-env',
  summary: 'An env var named like a password, secret, token or key has a literal value instead of a Secret reference.',
  defaultAction: 'warn',
  check(w) {
    const issues: RuleIssue[] = [];
    for (const e of containerEntries(w.podSpec, w.pointer)) {
      (e.container.env ?? []).forEach((env, i) => {
        if (!env.value || !namesSecretRemembered(env.name) || evidentlyNotSecret(env.value)) return;
        // Never echo the value: messages reach kubectl output, logs and CI.
        issues.push({
          container: e.container.name,
          path: `${e.path}/env/${i}/value`,
          message:
            `env ${env.name} of container '${e.container.name}' holds a literal secret: whoever can read the ${w.kind} can ` +
            'read it. It shows in kubectl get, Git and CI logs; put it in a Secret and use valueFrom.secretKeyRef.',
        });
      });
    }
    return issues;
  },
};

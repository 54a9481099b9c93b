import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ErrorCode, GracekeeperError } from '../errors.js';

/** What a rule's finding does: deny the request, warn, or nothing (the rule does not run). */
export const RuleAction = Type.Union([Type.Literal('deny'), Type.Literal('warn'), Type.Literal('off')]);
export type RuleAction = Static<typeof RuleAction>;

export const ProxyStrategy = Type.Union([Type.Literal('auto'), Type.Literal('prestop'), Type.Literal('native-sidecar')]);
export type ProxyStrategy = Static<typeof ProxyStrategy>;

const Seconds = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 3600, default: def, description });

/**
 * Image references (full `registry/path/name:tag`) of proxies that must outlive the app.
 * Regular expressions, matched anywhere in the reference; anchor them as needed.
 */
export const DEFAULT_PROXY_IMAGE_PATTERNS = [
  '(^|/)gce-proxy([:@]|$)', // Cloud SQL proxy v1
  '(^|/)cloud-sql-proxy([:@]|$)', // Cloud SQL proxy v2 (distroless by default)
  '(^|/)alloydb-auth-proxy([:@]|$)',
  // envoyproxy/envoy and the image names Envoy publishes besides it: envoy-distroless (no shell), envoy-alpine
  // (older releases, with a shell), envoy-debug, envoy-contrib(-debug), and -dev builds of each (envoy-dev ...).
  // Not envoyproxy/gateway or envoyproxy/ratelimit: those are controllers, not the proxy.
  '(^|/)envoy(-(distroless|alpine|debug|contrib|contrib-debug))?(-dev)?([:@]|$)',
  '(^|/)proxyv2([:@]|$)', // istio sidecar
  '(^|/)pgbouncer([:@]|$)',
  '(^|/)oauth2-proxy([:@]|$)',
];

/** Tags whose images ship a shell and a `sleep` binary, so `exec: [sleep, N]` works. */
export const DEFAULT_SHELL_IMAGE_PATTERNS = ['[:-](alpine|bullseye|bookworm|buster|trixie|ubuntu|debian)[^/]*$'];

export const PolicyConfigSchema = Type.Object(
  {
    rules: Type.Record(Type.String(), RuleAction, {
      default: {},
      description: 'Per-rule action override: deny, warn or off.',
    }),
    proxy: Type.Object(
      {
        strategy: Type.Union([ProxyStrategy], { default: 'auto' }),
        imagePatterns: Type.Array(Type.String({ minLength: 1 }), { default: DEFAULT_PROXY_IMAGE_PATTERNS }),
        shellImagePatterns: Type.Array(Type.String({ minLength: 1 }), { default: DEFAULT_SHELL_IMAGE_PATTERNS }),
      },
      { default: {}, additionalProperties: false },
    ),
    timings: Type.Object(
      {
        appPreStopSeconds: Seconds(5, 'preStop sleep of serving containers, so endpoints stop routing before SIGTERM'),
        drainSeconds: Seconds(25, 'time the app needs after SIGTERM to finish in-flight requests'),
        proxyShutdownSeconds: Seconds(5, 'time a proxy needs after its own SIGTERM to close connections'),
      },
      { default: {}, additionalProperties: false },
    ),
    kubernetesVersion: Type.String({
      pattern: '^v?1\\.[0-9]+(\\.[0-9]+)?$',
      default: '1.37',
      description: 'Kubelet version assumed when no live cluster view tells (offline CLI, view disabled).',
    }),
  },
  { additionalProperties: false },
);

export type PolicyConfig = Static<typeof PolicyConfigSchema>;

const compiled = TypeCompiler.Compile(PolicyConfigSchema);

/** A pointer like `/timings/drainSeconds` as the dotted field name a person types in YAML. */
export function fieldName(pointer: string, prefix = ''): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const dotted = parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
  return prefix ? (dotted ? `${prefix}.${dotted}` : prefix) : dotted || '(root)';
}

/**
 * Validates and defaults a policy config. Throws one GracekeeperError naming the first bad field.
 * `knownRuleIds` lets the caller reject typos in `rules:` without this module importing the catalogue.
 */
export function parsePolicyConfig(input: unknown, knownRuleIds: readonly string[], prefix = 'policy'): PolicyConfig {
  const raw = input === undefined || input === null ? {} : input;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, 'must be a mapping', prefix);
  }
  const withDefaults = Value.Default(PolicyConfigSchema, structuredClone(raw));
  const first = compiled.Errors(withDefaults).First();
  if (first) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, first.message.toLowerCase(), fieldName(first.path, prefix));
  }
  const config = withDefaults as PolicyConfig;
  for (const id of Object.keys(config.rules)) {
    if (!knownRuleIds.includes(id)) {
      throw new GracekeeperError(
        ErrorCode.ConfigInvalid,
        `unknown rule id '${id}' (known: ${knownRuleIds.join(', ')})`,
        `${prefix}.rules`,
      );
    }
  }
  for (const key of ['imagePatterns', 'shellImagePatterns'] as const) {
    config.proxy[key].forEach((source, i) => {
      try {
        new RegExp(source);
      } catch (e) {
        throw new GracekeeperError(ErrorCode.ConfigInvalid, `not a valid regular expression: ${(e as Error).message}`, `${prefix}.proxy.${key}[${i}]`);
      }
    });
  }
  return config;
}

/** Defaults only: what Gracekeeper does with no config file at all. */
export function defaultPolicyConfig(): PolicyConfig {
  return Value.Default(PolicyConfigSchema, {}) as PolicyConfig;
}

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ErrorCode, GracekeeperError } from '../errors.js';
import type { Environment, EnvName } from './env.js';
import { readConfigFile } from './file.js';
import { fieldName, parsePolicyConfig, type PolicyConfig } from './policy.js';
import { describeValueError as describe } from './schema-errors.js';

export const Mode = Type.Union([Type.Literal('enforce'), Type.Literal('audit'), Type.Literal('off')]);
export type Mode = Static<typeof Mode>;

export const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  { default: 'info' },
);

const Int = (def: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: def, minimum, maximum, description });
const Path = (description: string) => Type.String({ default: '', description });

export const DEFAULT_EXEMPT_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

/** The config file (YAML) of the webhook. `policy` is checked by parsePolicyConfig. */
export const ServerConfigSchema = Type.Object(
  {
    mode: Type.Union([Mode], { default: 'enforce', description: 'Mode of /mutate and /validate (paths with a mode override it).' }),
    exemptNamespaces: Type.Array(Type.String({ minLength: 1 }), { default: DEFAULT_EXEMPT_NAMESPACES }),
    server: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0', minLength: 1 }),
        port: Int(8443, 1, 65535, 'TLS port: admission, health and metrics'),
        healthPort: Int(9090, 0, 65535, 'plain-HTTP port for health and metrics only; 0 disables it'),
        bodyLimitBytes: Int(6 * 1024 * 1024, 1024, 256 * 1024 * 1024, 'larger request bodies get 413'),
        shutdownDelaySeconds: Int(5, 0, 300, 'after SIGTERM: keep serving while endpoints drop this Pod'),
        shutdownTimeoutSeconds: Int(20, 1, 600, 'after SIGTERM: exit at the latest after this long'),
        requestTimeoutSeconds: Int(10, 1, 300, 'a request body must arrive within this time'),
      },
      { default: {}, additionalProperties: false },
    ),
    tls: Type.Object(
      {
        certFile: Path('serving certificate (PEM); empty with keyFile empty: a development certificate'),
        keyFile: Path('private key of certFile (PEM)'),
        clientCaFile: Path('when set, clients must present a certificate signed by this CA'),
        reloadIntervalSeconds: Int(10, 1, 3600, 'how often certificate and config files are re-read'),
      },
      { default: {}, additionalProperties: false },
    ),
    clusterView: Type.Object(
      {
        enabled: Type.Union([Type.Literal('auto'), Type.Boolean()], {
          default: 'auto',
          description: 'auto: on in a cluster (KUBERNETES_SERVICE_HOST) or with a kubeconfig',
        }),
        kubeconfig: Path('kubeconfig file; empty: in-cluster service account'),
        resyncSeconds: Int(60, 0, 86400, 'how long each watch runs before it is re-opened; bounds how long a hung API server goes unnoticed (0: the view default, 60)'),
      },
      { default: {}, additionalProperties: false },
    ),
    reports: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'background scan of opted-in namespaces into one report per namespace (needs the live cluster view)' }),
        format: Type.Union([Type.Literal('openreports'), Type.Literal('wgpolicyk8s')], {
          default: 'openreports',
          description: 'openreports: openreports.io/v1alpha1 Report; wgpolicyk8s: wgpolicyk8s.io/v1alpha2 PolicyReport',
        }),
        resyncSeconds: Int(300, 10, 86400, 'full scan (every workload re-evaluated, every report compared) this often'),
        debounceSeconds: Int(5, 0, 3600, 'after a workload or namespace changes: rescan its namespace once it has been quiet this long (at the latest 4 times this after the first change)'),
        maxResults: Int(1000, 1, 10000, 'results kept per report (fail, then error, then warn); the summary still counts all'),
        leaseName: Type.String({
          default: 'gracekeeper-reports',
          description: "Lease in the webhook's namespace (POD_NAMESPACE) electing the one replica that scans; empty, or no POD_NAMESPACE: every replica scans",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    logLevel: LogLevel,
    policy: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

type RawServerConfig = Static<typeof ServerConfigSchema>;
export type ServerConfig = Omit<RawServerConfig, 'policy'> & { policy: PolicyConfig };
export type LogLevel = ServerConfig['logLevel'];

const compiled = TypeCompiler.Compile(ServerConfigSchema);

/** A value given on the command line or in the environment, for one config field. */
export interface Override {
  /** `--port` or `GRACEKEEPER_PORT`: named in errors. */
  source: string;
  path: readonly string[];
  value: string | boolean;
}

type FieldKind = 'integer' | 'string' | 'enabled';
interface OverrideSpec {
  flag?: string;
  env?: EnvName;
  path: readonly string[];
  kind: FieldKind;
}

const OVERRIDES: readonly OverrideSpec[] = [
  { flag: 'mode', env: 'GRACEKEEPER_MODE', path: ['mode'], kind: 'string' },
  { flag: 'host', path: ['server', 'host'], kind: 'string' },
  { flag: 'port', env: 'GRACEKEEPER_PORT', path: ['server', 'port'], kind: 'integer' },
  { flag: 'health-port', env: 'GRACEKEEPER_HEALTH_PORT', path: ['server', 'healthPort'], kind: 'integer' },
  { flag: 'tls-cert', env: 'GRACEKEEPER_TLS_CERT', path: ['tls', 'certFile'], kind: 'string' },
  { flag: 'tls-key', env: 'GRACEKEEPER_TLS_KEY', path: ['tls', 'keyFile'], kind: 'string' },
  { flag: 'client-ca', env: 'GRACEKEEPER_CLIENT_CA', path: ['tls', 'clientCaFile'], kind: 'string' },
  { flag: 'kubeconfig', env: 'KUBECONFIG', path: ['clusterView', 'kubeconfig'], kind: 'string' },
  { flag: 'log-level', env: 'GRACEKEEPER_LOG_LEVEL', path: ['logLevel'], kind: 'string' },
  { env: 'GRACEKEEPER_CLUSTER_VIEW', path: ['clusterView', 'enabled'], kind: 'enabled' },
];

export const USAGE = `Usage: gracekeeper-webhook [options]   (node dist/main.js)

  --config <file>        config file (YAML); env GRACEKEEPER_CONFIG
  --mode <m>             enforce | audit | off (default enforce); env GRACEKEEPER_MODE
  --host <addr>          listen address (default 0.0.0.0)
  --port <n>             TLS port (default 8443); env GRACEKEEPER_PORT
  --health-port <n>      plain-HTTP health/metrics port, 0 = off (default 9090); env GRACEKEEPER_HEALTH_PORT
  --tls-cert <file>      serving certificate; env GRACEKEEPER_TLS_CERT
  --tls-key <file>       its private key; env GRACEKEEPER_TLS_KEY
                         (neither given: a development CA and certificate in .gracekeeper/dev-certs/)
  --client-ca <file>     require client certificates signed by this CA; env GRACEKEEPER_CLIENT_CA
  --kubeconfig <file>    cluster view from this kubeconfig; env KUBECONFIG
  --no-cluster-view      no live cluster view; env GRACEKEEPER_CLUSTER_VIEW=auto|true|false
  --log-level <level>    fatal | error | warn | info | debug | trace | silent; env GRACEKEEPER_LOG_LEVEL
  --help                 this text
`;

export interface CommandLine {
  help: boolean;
  configFile: string | undefined;
  overrides: Override[];
}

function usageError(message: string, where?: string): GracekeeperError {
  return new GracekeeperError(ErrorCode.UsageInvalid, message, where);
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    config: { type: 'string' },
    'no-cluster-view': { type: 'boolean' },
    help: { type: 'boolean' },
  };
  for (const spec of OVERRIDES) if (spec.flag) options[spec.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw usageError(`${(e as Error).message.split('\n')[0]} (see --help)`);
  }
  const overrides: Override[] = [];
  for (const spec of OVERRIDES) {
    const value = spec.flag ? values[spec.flag] : undefined;
    if (typeof value === 'string') overrides.push({ source: `--${spec.flag}`, path: spec.path, value });
  }
  if (values['no-cluster-view']) overrides.push({ source: '--no-cluster-view', path: ['clusterView', 'enabled'], value: false });
  const configFile = typeof values.config === 'string' ? values.config : undefined;
  if (configFile === '') throw usageError('must name a file', '--config');
  return { help: values.help === true, configFile, overrides };
}

export function environmentOverrides(env: Environment): Override[] {
  const overrides: Override[] = [];
  for (const spec of OVERRIDES) {
    const value = spec.env ? env[spec.env] : undefined;
    if (value !== undefined) overrides.push({ source: spec.env!, path: spec.path, value });
  }
  return overrides;
}

function subSchema(path: readonly string[]): TSchema {
  let schema: TSchema = ServerConfigSchema;
  for (const key of path) schema = (schema as unknown as { properties: Record<string, TSchema> }).properties[key]!;
  return schema;
}

function coerce(spec: FieldKind | undefined, value: string | boolean): unknown {
  if (typeof value !== 'string') return value;
  if (spec === 'integer') return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (spec === 'enabled') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/** Checks one override against its field's schema; the error names the flag or variable, never the value. */
function checkedOverride(o: Override): unknown {
  const kind = OVERRIDES.find((s) => s.path.join('.') === o.path.join('.'))?.kind;
  const value = coerce(kind, o.value);
  const error = TypeCompiler.Compile(subSchema(o.path)).Errors(value).First();
  if (error) throw new GracekeeperError(ErrorCode.ConfigInvalid, describe(error), o.source);
  return value;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    cur = cur[key] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as object) } : {};
  }
  cur[path.at(-1)!] = value;
}

/**
 * The config in force: file contents (already parsed YAML, or undefined for none), then the overrides in
 * order (environment first, flags last, so flags win). Throws one GracekeeperError naming the field:
 * `config.server.port: ...` for the file, `--port: ...` or `GRACEKEEPER_PORT: ...` for an override.
 */
export function buildServerConfig(file: unknown, overrides: readonly Override[], knownRuleIds: readonly string[]): ServerConfig {
  const raw = file === undefined || file === null ? {} : file;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new GracekeeperError(ErrorCode.ConfigInvalid, 'must be a mapping', 'config');
  const merged = structuredClone(raw) as Record<string, unknown>;
  // A file error must be reported as a file error even when an override would hide the field.
  const fileError = compiled.Errors(Value.Default(ServerConfigSchema, structuredClone(raw))).First();
  if (fileError) throw new GracekeeperError(ErrorCode.ConfigInvalid, describe(fileError), fieldName(fileError.path, 'config'));
  for (const o of overrides) setPath(merged, o.path, checkedOverride(o));

  const config = Value.Default(ServerConfigSchema, merged) as RawServerConfig;
  const server = config.server;
  if (server.shutdownDelaySeconds >= server.shutdownTimeoutSeconds) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, 'must be less than server.shutdownTimeoutSeconds', 'config.server.shutdownDelaySeconds');
  }
  if (!config.tls.certFile !== !config.tls.keyFile) {
    const missing = config.tls.certFile ? 'keyFile' : 'certFile';
    throw new GracekeeperError(ErrorCode.ConfigInvalid, 'certFile and keyFile go together: give both or neither', `config.tls.${missing}`);
  }
  return { ...config, policy: parsePolicyConfig(config.policy, knownRuleIds, 'config.policy') };
}

/** Fields that can change while running; the rest need a restart. */
export const RELOADABLE_FIELDS = ['mode', 'exemptNamespaces', 'logLevel', 'policy'] as const;

/** Top-level and section fields whose values differ and take effect only at restart. */
export function restartOnlyChanges(before: ServerConfig, after: ServerConfig): string[] {
  const changed: string[] = [];
  for (const section of ['server', 'tls', 'clusterView', 'reports'] as const) {
    const a = before[section] as Record<string, unknown>;
    const b = after[section] as Record<string, unknown>;
    for (const key of Object.keys(b)) if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) changed.push(`${section}.${key}`);
  }
  return changed;
}

/** `clusterView.enabled: auto` made concrete: on in a cluster or when a kubeconfig is given. */
export function clusterViewEnabled(config: ServerConfig, env: Environment): boolean {
  const enabled = config.clusterView.enabled;
  if (enabled !== 'auto') return enabled;
  return env.KUBERNETES_SERVICE_HOST !== undefined || config.clusterView.kubeconfig !== '';
}

/** Where the config file is: --config, else GRACEKEEPER_CONFIG, else none (defaults only). */
export function configFilePath(commandLine: CommandLine, env: Environment): string | undefined {
  return commandLine.configFile ?? env.GRACEKEEPER_CONFIG;
}

/** Environment first, flags last: flags win over the environment, both win over the file. */
export function allOverrides(commandLine: CommandLine, env: Environment): Override[] {
  return [...environmentOverrides(env), ...commandLine.overrides];
}

export interface LoadedServerConfig {
  config: ServerConfig;
  /** The config file, when one was given. */
  path: string | undefined;
  /** Its bytes as read before parsing (empty when unreadable), so a reload sees only later changes. */
  bytes: Buffer | undefined;
  /** Reads the file again and applies the same overrides: what a reload runs. */
  load(): ServerConfig;
}

/** Startup: the config file named by --config or GRACEKEEPER_CONFIG, with environment and flag overrides. */
export function loadServerConfig(commandLine: CommandLine, env: Environment, knownRuleIds: readonly string[]): LoadedServerConfig {
  const path = configFilePath(commandLine, env);
  const overrides = allOverrides(commandLine, env);
  const load = () => buildServerConfig(path ? readConfigFile(path) : undefined, overrides, knownRuleIds);
  // Bytes first: if the file changes between the two reads, the watcher sees a change and reloads.
  let bytes: Buffer | undefined;
  if (path) {
    try {
      bytes = readFileSync(path);
    } catch {
      bytes = Buffer.alloc(0);
    }
  }
  return { config: load(), path, bytes, load };
}

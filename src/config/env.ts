/**
 * The only reader of process.env. Everything else receives these values as arguments, so tests pass an
 * environment instead of mutating the real one, and no other module can leak a variable into a log.
 */
export const ENV_NAMES = [
  'GRACEKEEPER_CONFIG',
  'GRACEKEEPER_MODE',
  'GRACEKEEPER_PORT',
  'GRACEKEEPER_HEALTH_PORT',
  'GRACEKEEPER_TLS_CERT',
  'GRACEKEEPER_TLS_KEY',
  'GRACEKEEPER_CLIENT_CA',
  'GRACEKEEPER_LOG_LEVEL',
  'GRACEKEEPER_CLUSTER_VIEW',
  'KUBECONFIG',
  'POD_NAMESPACE',
  'KUBERNETES_SERVICE_HOST',
] as const;
export type EnvName = (typeof ENV_NAMES)[number];

/** The variables Gracekeeper reads; unset and empty ones are absent. */
export type Environment = Partial<Record<EnvName, string>>;

export function readEnvironment(source: NodeJS.ProcessEnv = process.env): Environment {
  const env: Environment = {};
  for (const name of ENV_NAMES) {
    const value = source[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  return env;
}

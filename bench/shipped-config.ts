import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

type Json = Record<string, unknown>;

/**
 * The config file the Helm chart ships with its default values, assembled the way
 * charts/gracekeeper/templates/configmap.yaml does it. One deviation, outside the request path:
 * shutdownDelaySeconds is 0 so the bench can stop and restart the server without waiting.
 */
export function shippedConfig(valuesFile: string): Json {
  const values = parse(readFileSync(valuesFile, 'utf8')) as Json;
  const config = values.config as Json;
  const server = values.server as Json;
  return {
    mode: values.mode === 'cluster' ? values.clusterDefaultMode : 'off',
    exemptNamespaces: values.exemptNamespaces,
    logLevel: config.logLevel,
    server: { port: server.port, healthPort: server.healthPort, shutdownDelaySeconds: 0, shutdownTimeoutSeconds: server.shutdownTimeoutSeconds },
    tls: config.tls,
    clusterView: config.clusterView,
    policy: config.policy,
  };
}

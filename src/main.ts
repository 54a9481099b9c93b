#!/usr/bin/env node
import type { Server as HttpsServer } from 'node:https';
import { resolve } from 'node:path';
import closeWithGrace from 'close-with-grace';
import type { ClusterChangeListener } from './cluster/live-source.js';
import type { ClusterViewState } from './cluster/view.js';
import { readEnvironment, type Environment } from './config/env.js';
import {
  USAGE,
  clusterViewEnabled,
  loadServerConfig,
  parseCommandLine,
  restartOnlyChanges,
  type LoadedServerConfig,
  type ServerConfig,
} from './config/server.js';
import { ErrorCode, GracekeeperError, isGracekeeperError } from './errors.js';
import type { BackgroundReports } from './reports/start.js';
import { RULES, RULE_IDS } from './rules/index.js';
import { buildApp } from './server/app.js';
import { disabledClusterView, liveClusterView } from './server/cluster-view.js';
import { configReloader } from './server/config-reload.js';
import { createLogger, type Logger } from './server/logger.js';
import { createMetrics, type Metrics } from './server/metrics.js';
import { Readiness } from './server/readiness.js';
import { LiveSettings } from './server/settings.js';
import { drainAndClose } from './server/shutdown.js';
import { certificateReloader, httpsOptions, readTlsMaterial, type TlsFiles } from './tls/reload.js';

/** Exit status for a bad command line, config value or certificate file. */
const EXIT_CONFIG = 2;

function fail(message: string, status: number): never {
  process.stderr.write(`gracekeeper: ${message}\n`);
  process.exit(status);
}

async function tlsFiles(config: ServerConfig, logger: Logger): Promise<TlsFiles> {
  const clientCa = config.tls.clientCaFile ? { clientCaFile: config.tls.clientCaFile } : {};
  if (config.tls.certFile) return { certFile: config.tls.certFile, keyFile: config.tls.keyFile, ...clientCa };
  // Loaded only here: the certificate library is ~200 modules that a server given its certificate never needs.
  const { ensureDevCertificates } = await import('./tls/dev.js');
  const dev = await ensureDevCertificates();
  logger.warn(
    { caFile: resolve(dev.caFile), certFile: resolve(dev.certFile), created: dev.created, sans: ['localhost', '127.0.0.1'] },
    `no tls.certFile given: serving a development certificate; its CA is ${resolve(dev.caFile)} (curl --cacert ${dev.caFile})`,
  );
  return { certFile: dev.certFile, keyFile: dev.keyFile, ...clientCa };
}

/**
 * The background scan into in-cluster reports (reports.enabled), or undefined. Loaded only when enabled; it
 * needs the live cluster view (the same kubeconfig, and Services/PVCs/Nodes for the rules).
 */
async function backgroundReports(
  config: ServerConfig,
  env: Environment,
  deps: {
    settings: LiveSettings;
    viewState: () => ClusterViewState;
    clusterChanges: (listener: ClusterChangeListener) => () => void;
    metrics: Metrics;
    logger: Logger;
  },
): Promise<BackgroundReports | undefined> {
  if (!config.reports.enabled) return undefined;
  if (!clusterViewEnabled(config, env)) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, 'needs the live cluster view: set clusterView.enabled (or run in a cluster, or give a kubeconfig)', 'config.reports.enabled');
  }
  const { createBackgroundReports } = await import('./reports/start.js');
  const { settings } = deps;
  return createBackgroundReports({
    config,
    settings: () => {
      const admission = settings.admission();
      return { rules: admission.engine.rules, context: admission.engine.context, modes: admission.modes };
    },
    viewState: deps.viewState,
    clusterChanges: deps.clusterChanges,
    metrics: deps.metrics,
    logger: deps.logger,
  });
}

async function main(): Promise<void> {
  const env = readEnvironment();
  let startup: LoadedServerConfig;
  try {
    const commandLine = parseCommandLine(process.argv.slice(2));
    if (commandLine.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    startup = loadServerConfig(commandLine, env, RULE_IDS);
  } catch (e) {
    if (isGracekeeperError(e)) fail(e.message, EXIT_CONFIG);
    throw e;
  }
  const config = startup.config;
  const logger = createLogger(config.logLevel);

  let files: TlsFiles;
  let material: ReturnType<typeof readTlsMaterial>;
  try {
    files = await tlsFiles(config, logger);
    material = readTlsMaterial(files);
  } catch (e) {
    if (isGracekeeperError(e)) fail(e.message, EXIT_CONFIG);
    throw e;
  }

  let cluster;
  try {
    cluster = clusterViewEnabled(config, env) ? await liveClusterView(config, logger) : disabledClusterView();
  } catch (e) {
    if (isGracekeeperError(e)) fail(e.message, EXIT_CONFIG);
    throw e;
  }

  let configStatus = 'ok';
  const metrics = createMetrics({ clusterViewState: () => cluster.state() });
  const readiness = new Readiness({ certificateLoaded: () => true, clusterViewState: () => cluster.state(), configStatus: () => configStatus });
  const settings = new LiveSettings(config, { rules: RULES, ownNamespace: env.POD_NAMESPACE, clusterView: (p) => cluster.viewFor(p) });
  let reports: BackgroundReports | undefined;
  try {
    reports = await backgroundReports(config, env, {
      settings,
      viewState: () => cluster.state(),
      clusterChanges: (listener) => cluster.onChange(listener),
      metrics,
      logger,
    });
  } catch (e) {
    if (isGracekeeperError(e)) fail(e.message, EXIT_CONFIG);
    throw e;
  }

  const { server } = config;
  const app = buildApp({
    logger,
    metrics,
    readiness,
    admission: { settings: () => settings.admission() },
    bodyLimitBytes: server.bodyLimitBytes,
    requestTimeoutSeconds: server.requestTimeoutSeconds,
    https: httpsOptions(material),
  });
  const health = server.healthPort > 0 ? buildApp({ logger, metrics, readiness, bodyLimitBytes: 64 * 1024 }) : undefined;

  const certificates = certificateReloader({
    files,
    intervalMs: config.tls.reloadIntervalSeconds * 1000,
    initial: material,
    apply: (options) => (app.server as HttpsServer).setSecureContext(options),
    onReload(result, error) {
      metrics.certificateReloads.inc({ result });
      if (error) logger.error({ reason: error.message }, 'certificate reload refused: still serving the previous certificate');
      else logger.info({ certFile: files.certFile }, 'certificate reloaded');
    },
  });
  const reloader =
    startup.path && startup.bytes
      ? configReloader({
          path: startup.path,
          intervalMs: config.tls.reloadIntervalSeconds * 1000,
          initial: startup.bytes,
          load: startup.load,
          apply(next) {
            const restartOnly = restartOnlyChanges(settings.config(), next);
            settings.replace(next);
            reports?.settingsChanged();
            logger.level = next.logLevel;
            if (restartOnly.length > 0) logger.warn({ fields: restartOnly }, 'config changes that take effect only after a restart');
          },
          onReload(result, error) {
            metrics.configReloads.inc({ result });
            configStatus = error ? `last reload refused: ${error.message}` : 'ok';
            if (error) logger.error({ reason: error.message }, 'config reload refused: the previous config stays in force');
            else logger.info({ mode: settings.config().mode }, 'config reloaded');
          },
        })
      : undefined;

  closeWithGrace({ delay: server.shutdownTimeoutSeconds * 1000, logger: { error: (m: unknown) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error: shutting down');
    else logger.info({ signal }, 'signal received');
    certificates.stop();
    reloader?.stop();
    await drainAndClose({
      readiness,
      delayMs: err ? 0 : server.shutdownDelaySeconds * 1000,
      close: [() => app.close(), ...(health ? [() => health.close()] : []), ...(reports ? [() => reports.stop()] : []), () => cluster.stop()],
      logger,
    });
  });

  try {
    await app.listen({ host: server.host, port: server.port });
    if (health) await health.listen({ host: server.host, port: server.healthPort });
  } catch (e) {
    fail(`cannot listen on ${server.host}: ${(e as Error).message}`, 1);
  }
  certificates.start();
  reloader?.start();
  void cluster.start();
  reports?.start();
  logger.info(
    {
      mode: config.mode,
      port: server.port,
      healthPort: server.healthPort || 'disabled',
      clusterView: cluster.state(),
      configFile: startup.path ?? null,
      clientCertificates: files.clientCaFile ? 'required' : 'not requested',
    },
    'gracekeeper webhook listening',
  );
}

main().catch((e) => {
  process.stderr.write(`gracekeeper: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});

import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AdmissionSettings } from '../admission/handle.js';
import { registerAdmissionRoutes, type RouteConfig } from './admission-routes.js';
import { registerHealthRoutes } from './health.js';
import { toHttpError } from './http-errors.js';
import { parseJsonBody } from './json-body.js';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** Serve the admission endpoints with these settings; absent: health and metrics only (the plain-HTTP port). */
  admission?: { settings(): AdmissionSettings };
  bodyLimitBytes: number;
  requestTimeoutSeconds?: number;
  /** TLS options: the app then creates an HTTPS server. Absent for the health port and for inject() tests. */
  https?: HttpsServerOptions;
}

/** Builds the fastify app; never listens (main.ts and tests decide that). */
export function buildApp(deps: AppDeps): FastifyInstance {
  const requestTimeout = (deps.requestTimeoutSeconds ?? 10) * 1000;
  // Node arms its request timer only for a requestTimeout given when the server is created; fastify sets the
  // property afterwards, which Node ignores, so a client trickling a body could hold a connection forever.
  // Checked every second (Node's default is 30 s).
  const serverOptions = { requestTimeout, connectionsCheckingInterval: 1000 };
  const options = {
    loggerInstance: deps.logger,
    // One line per review comes from the admission route; fastify's per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    requestTimeout,
    // Longer than the API server's idle-connection timeout (90 s), so the client closes an idle keep-alive
    // connection first: a server-side close racing a new request on it would fail that webhook call.
    keepAliveTimeout: 100_000,
    // On close: stop accepting, close idle keep-alive connections, finish in-flight requests and answer any
    // request already on an open connection (no 503: the API server would count it as a webhook failure).
    forceCloseConnections: 'idle' as const,
    return503OnClosing: false,
    ...(deps.https ? { https: { ...deps.https, ...serverOptions } } : { http: serverOptions }),
  };
  const app = Fastify(options) as unknown as FastifyInstance;

  // Only JSON: fastify would otherwise also accept text/plain.
  app.removeAllContentTypeParsers();
  // As a Buffer, decoded once: with parseAs 'string' fastify appends each chunk to a string, and flattening that
  // rope of a 6 MiB body took twice as long as decoding the joined bytes (four times with the image's heap flags).
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: deps.bodyLimitBytes }, (_request, body, done) => {
    try {
      done(null, parseJsonBody((body as Buffer).toString('utf8')));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = toHttpError(error, deps.bodyLimitBytes, request.headers['content-type']);
    const endpoint = (request.routeOptions.config as RouteConfig | undefined)?.endpoint;
    if (endpoint) deps.metrics.requests.inc({ endpoint, mode: 'unknown', result: mapped.status >= 500 ? 'error' : 'invalid' });
    if (mapped.status >= 500) request.log.error({ err: error, url: request.url }, 'request failed');
    else request.log.warn({ url: request.url, status: mapped.status, reason: mapped.body.error }, 'bad request');
    return reply.code(mapped.status).type('application/json').send(mapped.body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}`, code: 'NOT_FOUND' }),
  );

  // Once shutdown begins, every answer says `Connection: close` (as Go's http.Server does while shutting down):
  // clients open a new connection for their next request, so when the listener closes after the drain delay
  // no keep-alive connection is left for a request to race against (ECONNRESET).
  app.addHook('onSend', async (_request, reply) => {
    if (deps.readiness.isShuttingDown) reply.header('connection', 'close');
  });

  registerHealthRoutes(app, deps.readiness, deps.metrics);
  if (deps.admission) registerAdmissionRoutes(app, { settings: deps.admission.settings, metrics: deps.metrics, logger: deps.logger });
  return app;
}

import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

/** GET /healthz (the process answers), /readyz (it should get traffic), /metrics (Prometheus text). */
export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness, metrics: Metrics): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const report = readiness.report();
    return reply.code(report.ready ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}

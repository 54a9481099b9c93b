import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { handleReview, type AdmissionSettings } from '../admission/handle.js';
import { ADMISSION_ENDPOINTS, PATH_MODES, type Endpoint, type PathMode } from '../admission/mode.js';
import { toReview } from '../admission/response.js';
import { workloadName } from '../engine/workload.js';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { countFindings, type Metrics } from './metrics.js';

export interface AdmissionRouteDeps {
  /** The settings in force, read once per request so a config reload never changes a request half-way. */
  settings(): AdmissionSettings;
  metrics: Metrics;
  logger: Logger;
}

/** Route config: which endpoint a route serves, for metrics of requests that fail before the handler. */
export interface RouteConfig {
  endpoint?: Endpoint;
}

/**
 * POST /mutate, /validate (default mode) and /mutate/<mode>, /validate/<mode> for each path mode. Every answer
 * is a 200 AdmissionReview; bad requests are 4xx from the app's error handler.
 */
export function registerAdmissionRoutes(app: FastifyInstance, deps: AdmissionRouteDeps): void {
  for (const endpoint of ADMISSION_ENDPOINTS) {
    const config: RouteConfig = { endpoint };
    app.post(`/${endpoint}`, { config }, (request, reply) => admit(deps, endpoint, undefined, request, reply));
    for (const mode of PATH_MODES) {
      app.post(`/${endpoint}/${mode}`, { config }, (request, reply) => admit(deps, endpoint, mode, request, reply));
    }
  }
}

async function admit(deps: AdmissionRouteDeps, endpoint: Endpoint, pathMode: PathMode | undefined, request: FastifyRequest, reply: FastifyReply) {
  const { request: review, mode, outcome } = handleReview(endpoint, pathMode, request.body, deps.settings());
  const seconds = reply.elapsedTime / 1000;

  const { metrics } = deps;
  metrics.requests.inc({ endpoint, mode: mode.mode, result: outcome.decision });
  metrics.duration.observe({ endpoint, mode: mode.mode }, seconds);
  if (endpoint === 'validate') countFindings(metrics, outcome.findings);
  if (outcome.decision === 'patched') metrics.patches.inc();

  const { exemption } = outcome;
  const subject = (review.object ?? review.oldObject ?? {}) as { metadata?: V1ObjectMeta };
  const meta = subject.metadata ?? {};
  deps.logger
    .child({ uid: review.uid, kind: review.kind.kind, namespace: review.namespace ?? meta.namespace ?? '', name: review.name || workloadName(meta), operation: review.operation })
    .info(
      {
        endpoint,
        mode: mode.mode,
        modeReason: mode.reason,
        decision: outcome.decision,
        latencyMs: Math.round(seconds * 1e5) / 100,
        findings: outcome.findings.length,
        rules: [...new Set(outcome.findings.map((f) => f.rule))],
        ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
        ...(exemption ? { exemption } : {}),
        ...(review.dryRun ? { dryRun: true } : {}),
      },
      'admission review',
    );
  return reply.send(toReview(outcome.response));
}

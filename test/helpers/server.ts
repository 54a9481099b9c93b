import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { FastifyInstance } from 'fastify';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { buildServerConfig, type ServerConfig } from '../../src/config/server.js';
import { RULES, RULE_IDS } from '../../src/rules/index.js';
import { buildApp } from '../../src/server/app.js';
import { disabledClusterView } from '../../src/server/cluster-view.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics, type Metrics } from '../../src/server/metrics.js';
import { Readiness } from '../../src/server/readiness.js';
import { LiveSettings } from '../../src/server/settings.js';
import type { AdmissionReviewResponse } from '../../src/admission/schema.js';

const reviewsDir = new URL('../fixtures/reviews/', import.meta.url);

/** A review fixture, parsed fresh each time so tests can edit it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadReview(name: string): any {
  return JSON.parse(readFileSync(new URL(name, reviewsDir), 'utf8'));
}

/** Policy that runs only `rule` (with `action`), so a test does not depend on the rest of the catalogue. */
export function onlyRule(rule: string, action: 'deny' | 'warn' = 'warn'): Record<string, string> {
  return Object.fromEntries(RULE_IDS.map((id) => [id, id === rule ? action : 'off']));
}

export interface TestServer {
  app: FastifyInstance;
  metrics: Metrics;
  readiness: Readiness;
  settings: LiveSettings;
  config: ServerConfig;
  /** Parsed JSON log lines written so far. */
  logs(): Array<Record<string, unknown>>;
  rawLogs(): string;
}

export interface TestServerOptions {
  /** Config file contents (as parsed YAML). */
  config?: Record<string, unknown>;
  ownNamespace?: string;
  https?: HttpsServerOptions;
}

/** The app as main.ts builds it (disabled cluster view), logging into memory. */
export function testServer(options: TestServerOptions = {}): TestServer {
  const config = buildServerConfig(options.config ?? {}, [], RULE_IDS);
  let raw = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw += chunk.toString();
      done();
    },
  });
  const logger = createLogger('info', sink);
  const cluster = disabledClusterView();
  const metrics = createMetrics({ clusterViewState: () => cluster.state(), processMetrics: false });
  const readiness = new Readiness({ certificateLoaded: () => true, clusterViewState: () => cluster.state(), configStatus: () => 'ok' });
  const settings = new LiveSettings(config, { rules: RULES, ownNamespace: options.ownNamespace, clusterView: (p) => cluster.viewFor(p) });
  const app = buildApp({
    logger,
    metrics,
    readiness,
    admission: { settings: () => settings.admission() },
    bodyLimitBytes: config.server.bodyLimitBytes,
    requestTimeoutSeconds: config.server.requestTimeoutSeconds,
    ...(options.https ? { https: options.https } : {}),
  });
  return {
    app,
    metrics,
    readiness,
    settings,
    config,
    rawLogs: () => raw,
    logs: () =>
      raw
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface Answer {
  status: number;
  body: AdmissionReviewResponse;
}

/** POSTs a review (object) as JSON and parses the answer. */
export async function post(app: FastifyInstance, url: string, review: unknown): Promise<Answer> {
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(review) });
  return { status: res.statusCode, body: res.json() as AdmissionReviewResponse };
}

export function patchOf(body: AdmissionReviewResponse): Operation[] {
  const { patch } = body.response;
  return patch ? (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as Operation[]) : [];
}

/** Applies a JSON Patch to a copy, failing on any op that does not apply (as the API server does). */
export function applyPatch<T>(doc: T, patch: Operation[]): T {
  return jsonpatch.applyPatch(structuredClone(doc), patch, true, false).newDocument;
}

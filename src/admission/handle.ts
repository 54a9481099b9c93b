import type { Endpoint, ModeSettings, PathMode, ResolvedMode } from './mode.js';
import { resolveMode } from './mode.js';
import { decodeReview } from './decode.js';
import type { Engine } from './engine.js';
import { mutate } from './mutate.js';
import type { Outcome } from './response.js';
import type { AdmissionRequest } from './schema.js';
import { validate } from './validate.js';
import { isObject } from '../engine/workload.js';

/** Settings in force for one request (a config reload swaps them between requests, never during one). */
export interface AdmissionSettings {
  modes: ModeSettings;
  engine: Engine;
}

export interface Handled {
  request: AdmissionRequest;
  mode: ResolvedMode;
  outcome: Outcome;
}

function namespaceOf(request: AdmissionRequest): string {
  if (request.namespace) return request.namespace;
  const meta = isObject(request.object) && isObject(request.object.metadata) ? request.object.metadata : {};
  return typeof meta.namespace === 'string' ? meta.namespace : '';
}

/**
 * Decode, resolve the mode, run the endpoint. Throws GracekeeperError (REVIEW_*) for a body that is not a
 * usable AdmissionReview; pure otherwise, so each layer can be tested without HTTP.
 */
export function handleReview(endpoint: Endpoint, pathMode: PathMode | undefined, body: unknown, settings: AdmissionSettings): Handled {
  const { request } = decodeReview(body);
  const mode = resolveMode(pathMode, namespaceOf(request), settings.modes);
  const run = endpoint === 'mutate' ? mutate : validate;
  return { request, mode, outcome: run(request, mode.mode, settings.engine) };
}

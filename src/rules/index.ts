import type { Rule } from '../engine/types.js';
import { appNoDrainDelay } from './app-no-drain-delay.js';
import { gracePeriodTooShort } from './grace-period-too-short.js';
import { jobSidecarBlocksCompletion } from './job-sidecar-blocks-completion.js';
import { proxySidecarNoPrestop } from './proxy-sidecar-no-prestop.js';
import { readinessProbeMissing } from './readiness-probe-missing.js';
import { databaseEnvMissing } from './database-env-missing.js';
import { initContainerNeverCompletes } from './init-container-never-completes.js';
import { plaintextSecretEnv } from './plaintext-secret-env.js';
import { replicatedDatabaseWithoutStorage } from './replicated-database-without-storage.js';
import { rolloutDropsAllPods } from './rollout-drops-all-pods.js';
import { rwoVolumeSharedByReplicas } from './rwo-volume-shared-by-replicas.js';
import { serviceTargetPortUnmatched } from './service-target-port-unmatched.js';
import { skipAnnotationInvalid } from './skip-annotation-invalid.js';
import { statefulsetServiceNotHeadless } from './statefulset-service-not-headless.js';

/**
 * The catalogue, in evaluation order. Order matters for fixes: rules that add preStop hooks or move
 * sidecars come before grace-period-too-short, which sizes the grace period from what they added.
 */
export const RULES: readonly Rule[] = [
  proxySidecarNoPrestop,
  jobSidecarBlocksCompletion,
  // Makes a proxy that is a plain init container a native sidecar.
  initContainerNeverCompletes,
  appNoDrainDelay,
  readinessProbeMissing,
  gracePeriodTooShort,
  // Checks without a fix.
  rolloutDropsAllPods,
  rwoVolumeSharedByReplicas,
  statefulsetServiceNotHeadless,
  databaseEnvMissing,
  plaintextSecretEnv,
  replicatedDatabaseWithoutStorage,
  serviceTargetPortUnmatched,
  // Reads the catalogue's ids lazily (at check time), so it can sit in the list it checks against.
  skipAnnotationInvalid(() => RULE_IDS),
];

export const RULE_IDS: readonly string[] = RULES.map((r) => r.id);

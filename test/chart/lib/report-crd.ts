import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { REPO_ROOT } from './helm.js';

/** The upstream Report CRD (scripts/report-crds.sh: Go module proxy, Go module cache). */
export function upstreamReportCrd(): V1CustomResourceDefinition {
  const file = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'report-crds.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return parse(readFileSync(file, 'utf8')) as V1CustomResourceDefinition;
}


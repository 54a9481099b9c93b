#!/usr/bin/env bash
# End-to-end tests against a real control plane (etcd, kube-apiserver,
# kube-controller-manager built from Go modules by scripts/e2e-build.sh).
#
#   scripts/e2e.sh                       build or reuse the binaries, build the webhook, run test/e2e/*.e2e.ts
#   scripts/e2e.sh test/e2e/foo.e2e.ts   run only the named files
#
# The webhook configurations are rendered from the chart, so helm is built (or reused) too.
#
# Env: GRACEKEEPER_CACHE (binary cache root), GRACEKEEPER_K8S_BIN (use these binaries, skip the build),
#      GRACEKEEPER_HELM (use this helm), GRACEKEEPER_E2E_KEEP=1 (keep temp dirs and logs of the control plane).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -z "${GRACEKEEPER_K8S_BIN:-}" ]]; then
  GRACEKEEPER_K8S_BIN="$(bash scripts/e2e-build.sh)"
fi
GRACEKEEPER_HELM="$(bash scripts/helm-build.sh)"
export GRACEKEEPER_K8S_BIN GRACEKEEPER_HELM

# The scenarios run the built webhook (dist/main.js), never the TypeScript sources.
if [[ -f src/main.ts ]]; then
  npm run --silent build
fi

if [[ $# -eq 0 ]]; then
  set -- test/e2e/*.e2e.ts
fi
# One file at a time: each starts its own control plane, and the machine has 2 cores.
exec npx tap --jobs=1 --timeout=900 --disable-coverage --allow-incomplete-coverage "$@"

#!/usr/bin/env bash
# Chart tests (test/chart/*.chart.ts): helm lint and helm template for the defaults and every
# charts/gracekeeper/ci/*-values.yaml, the namespaceSelector decision table, and
# `helm template | gracekeeper audit -` with no findings. With --cluster, also
# test/chart/*.cluster.ts: server-side dry run of every rendered object against the e2e control
# plane (real kube-apiserver, upstream cert-manager/ServiceMonitor CRDs) and a real helm
# install + upgrade that must keep the generated CA.
#
# helm is built from the Go module proxy on first use (scripts/helm-build.sh, a few minutes)
# and cached outside the repo; --cluster builds or reuses the control plane (scripts/e2e-build.sh,
# long on the first run). The CLI is built into dist/ first.
#
#   scripts/chart-test.sh                          helm-only chart tests
#   scripts/chart-test.sh --cluster                plus the API-server tests
#   scripts/chart-test.sh test/chart/x.chart.ts    only the named files
#
# Env: GRACEKEEPER_HELM (use this helm), GRACEKEEPER_K8S_BIN (use these control-plane binaries),
#      GRACEKEEPER_CACHE (cache root for both builds).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

cluster=0
if [[ "${1:-}" == "--cluster" ]]; then cluster=1; shift; fi

GRACEKEEPER_HELM="$(bash scripts/helm-build.sh)"
export GRACEKEEPER_HELM
echo "chart-test: helm $("$GRACEKEEPER_HELM" version --short)" >&2

if [[ $cluster -eq 1 ]]; then
  GRACEKEEPER_K8S_BIN="${GRACEKEEPER_K8S_BIN:-$(bash scripts/e2e-build.sh)}"
  export GRACEKEEPER_K8S_BIN
fi

# The audit test runs the built CLI (dist/cli/main.js), as users do.
npm run --silent build

if [[ $# -eq 0 ]]; then
  set -- test/chart/*.chart.ts
  if [[ $cluster -eq 1 ]]; then set -- "$@" test/chart/*.cluster.ts; fi
fi
# One file at a time: a .cluster.ts file starts its own control plane, and the machine has 2 cores.
exec npx tap --jobs=1 --timeout=900 --disable-coverage --allow-incomplete-coverage "$@"

#!/usr/bin/env bash
# Chart tests that need helm: helm lint and helm template for the defaults and every
# charts/gracekeeper/ci/*-values.yaml, the namespaceSelector decision table, and
# `helm template | gracekeeper audit -` with no findings (test/chart/*.chart.ts).
# helm is built from the Go module proxy on first use (scripts/helm-build.sh, about a minute)
# and cached outside the repo; the CLI is built into dist/ first.
#
#   scripts/chart-test.sh                          all chart tests
#   scripts/chart-test.sh test/chart/x.chart.ts    only the named files
#
# Env: GRACEKEEPER_HELM (use this helm, skip the build), GRACEKEEPER_CACHE (cache root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

GRACEKEEPER_HELM="$(bash scripts/helm-build.sh)"
export GRACEKEEPER_HELM
echo "chart-test: $("$GRACEKEEPER_HELM" version --short)" >&2

# The audit test runs the built CLI (dist/cli/main.js), as users do.
npm run --silent build

if [[ $# -eq 0 ]]; then
  set -- test/chart/*.chart.ts
fi
exec npx tap --disable-coverage --allow-incomplete-coverage "$@"

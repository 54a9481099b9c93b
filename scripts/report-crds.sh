#!/usr/bin/env bash
# Prints the path of the upstream openreports.io Report CRD (github.com/openreports/reports-api,
# config/crd/openreports.io_reports.yaml), taken from the project's Go module through the Go module
# proxy only (`go mod download`) into the Go module cache; nothing is committed. The chart test
# compares the chart's own Report CRD with it, and the reports e2e test writes reports under it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/cached-build.sh"

REPORTS_API="github.com/openreports/reports-api@v0.2.1"

gk_go_module_proxy_only report-crds

# Outside any module, so the repo's go.mod files never take part.
json="$(cd / && go mod download -json "$REPORTS_API")" || { echo "report-crds: go mod download $REPORTS_API failed" >&2; exit 1; }
dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
f="$dir/config/crd/openreports.io_reports.yaml"
[[ -f "$f" ]] || { echo "report-crds: $f is missing from the module" >&2; exit 1; }
echo "$f"

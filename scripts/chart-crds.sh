#!/usr/bin/env bash
# Prints the paths of the upstream CustomResourceDefinitions the chart's optional objects need
# (cert-manager Issuer and Certificate, prometheus-operator ServiceMonitor), one per line, so a
# test API server can accept a server-side dry run of every rendered manifest. The CRDs are the
# real ones, with their OpenAPI schemas, taken from the projects' Go modules through the Go
# module proxy only (`go mod download`, scripts/lib/cached-build.sh) into the Go module cache;
# nothing is committed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/cached-build.sh"

CERT_MANAGER="github.com/cert-manager/cert-manager@v1.21.2"
PROMETHEUS_OPERATOR="github.com/prometheus-operator/prometheus-operator@v0.85.0"

gk_go_module_proxy_only chart-crds

module_dir() {
  local json dir
  # Outside any module, so the repo's go.mod files never take part.
  json="$(cd / && go mod download -json "$1")" || { echo "chart-crds: go mod download $1 failed" >&2; exit 1; }
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  [[ -d "$dir" ]] || { echo "chart-crds: no module directory for $1" >&2; exit 1; }
  echo "$dir"
}

cm="$(module_dir "$CERT_MANAGER")/deploy/crds"
po="$(module_dir "$PROMETHEUS_OPERATOR")/example/prometheus-operator-crd"
for f in "$cm/cert-manager.io_issuers.yaml" "$cm/cert-manager.io_clusterissuers.yaml" \
         "$cm/cert-manager.io_certificates.yaml" "$po/monitoring.coreos.com_servicemonitors.yaml"; do
  [[ -f "$f" ]] || { echo "chart-crds: $f is missing from the module" >&2; exit 1; }
  echo "$f"
done

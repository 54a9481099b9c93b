#!/usr/bin/env bash
# Builds helm from the Go module proxy (pinned helm.sh/helm/v3 release, no replace
# directives, so plain `go install pkg@version` works) into a cache OUTSIDE the repo:
#   ${GRACEKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gracekeeper}/helm-<version>/helm
# Does nothing when that binary and its stamp exist. Prints the binary's path last.
#
#   scripts/helm-build.sh            build (or reuse) and print the path of helm
#   scripts/helm-build.sh --print    print the path only; fail if not built
#   scripts/helm-build.sh --force    rebuild even if a stamp exists
#
# Env: GRACEKEEPER_HELM=/path/to/helm skips everything and prints that path.
set -euo pipefail

# v3.19.x is built against k8s.io/client-go v0.34, the Kubernetes minor the e2e suite runs.
HELM_VERSION="v3.19.5"
K8S_MAJOR=1
K8S_MINOR=34
CACHE_ROOT="${GRACEKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gracekeeper}"
OUT="$CACHE_ROOT/helm-$HELM_VERSION"
HELM="$OUT/helm"
STAMP="$OUT/.stamp"

mode="build"
case "${1:-}" in
  "") ;;
  --print) mode="print" ;;
  --force) mode="force" ;;
  -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) echo "helm-build: unknown argument '$1' (expected --print, --force or nothing)" >&2; exit 2 ;;
esac

if [[ -n "${GRACEKEEPER_HELM:-}" ]]; then
  [[ -x "$GRACEKEEPER_HELM" ]] || { echo "helm-build: GRACEKEEPER_HELM=$GRACEKEEPER_HELM is not an executable" >&2; exit 1; }
  echo "$GRACEKEEPER_HELM"
  exit 0
fi

built() {
  [[ -x "$HELM" && -f "$STAMP" ]] && grep -qx "version=$HELM_VERSION" "$STAMP"
}

if [[ "$mode" == "print" ]]; then
  if built; then echo "$HELM"; exit 0; fi
  echo "helm-build: helm $HELM_VERSION is not built in $OUT; run scripts/helm-build.sh" >&2
  exit 1
fi

reuse() { echo "helm-build: reusing helm $HELM_VERSION in $OUT" >&2; echo "$HELM"; exit 0; }
[[ "$mode" == "build" ]] && built && reuse

command -v go >/dev/null || { echo "helm-build: 'go' is not on PATH; install Go >= 1.24" >&2; exit 1; }
command -v flock >/dev/null || { echo "helm-build: 'flock' (util-linux) is not on PATH" >&2; exit 1; }

mkdir -p "$OUT"
# One build at a time per cache: a second caller waits, then reuses the result.
exec 9>"$OUT/.lock"
if ! flock -n 9; then
  echo "helm-build: another build holds $OUT/.lock; waiting" >&2
  flock 9
fi
[[ "$mode" == "build" ]] && built && reuse

# The same version stamps helm's Makefile sets; without the k8s ones `helm template`
# would assume Kubernetes v1.20 for .Capabilities.KubeVersion.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=$K8S_MAJOR -X $pkg.k8sVersionMinor=$K8S_MINOR"
done

tmp="$OUT/bin.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

echo "helm-build: building helm $HELM_VERSION into $OUT (a few minutes on 2 cores)" >&2
start=$(date +%s)
# Outside any module, so the repo's files never influence the build.
(
  cd "$tmp"
  CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    nice -n 10 go install -p "${HELM_BUILD_JOBS:-2}" -trimpath -ldflags "$ldflags" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
)
[[ -x "$tmp/helm" ]] || { echo "helm-build: go install did not produce helm" >&2; exit 1; }
"$tmp/helm" version --short >/dev/null || { echo "helm-build: the built helm does not run" >&2; exit 1; }
secs=$(( $(date +%s) - start ))
mv -f "$tmp/helm" "$HELM"
{
  echo "version=$HELM_VERSION"
  echo "go=$(go env GOVERSION)"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "seconds=$secs"
} > "$STAMP"
echo "helm-build: built in ${secs}s" >&2
echo "$HELM"

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
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib/cached-build.sh"

# v3.22.x is built against k8s.io/client-go v0.37, the Kubernetes minor the test cluster runs.
HELM_VERSION="v3.22.0"
K8S_MAJOR=1
K8S_MINOR=37

if [[ -n "${GRACEKEEPER_HELM:-}" ]]; then
  [[ -x "$GRACEKEEPER_HELM" ]] || { echo "helm-build: GRACEKEEPER_HELM=$GRACEKEEPER_HELM is not an executable" >&2; exit 1; }
  echo "$GRACEKEEPER_HELM"
  exit 0
fi

CB_NAME="helm-build"
CB_WHAT="helm $HELM_VERSION"
CB_VERSION="$HELM_VERSION"
CB_OUT="$GK_CACHE_ROOT/helm-$HELM_VERSION"
CB_STAMP="$CB_OUT/.stamp"
CB_RESULT="$CB_OUT/helm"
CB_BINARIES=("$CB_RESULT")
cb_start "$@"

# The same version stamps helm's Makefile sets; without the k8s ones `helm template`
# would assume Kubernetes v1.20 for .Capabilities.KubeVersion.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=$K8S_MAJOR -X $pkg.k8sVersionMinor=$K8S_MINOR"
done

echo "$CB_NAME: building $CB_WHAT into $CB_OUT (a few minutes on 2 cores)" >&2
# Outside any module, so the repo's files never influence the build.
(
  cd "$CB_TMP"
  CGO_ENABLED=0 GOBIN="$CB_TMP" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    nice -n 10 go install -p "${HELM_BUILD_JOBS:-2}" -trimpath -ldflags "$ldflags" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
)
cb_check_outputs helm
"$CB_TMP/helm" version --short >/dev/null || { echo "$CB_NAME: the built helm does not run" >&2; exit 1; }
cb_write_stamp "$CB_TMP/.stamp"
mv -f "$CB_TMP/helm" "$CB_RESULT"
mv -f "$CB_TMP/.stamp" "$CB_STAMP"
cb_done

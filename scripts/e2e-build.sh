#!/usr/bin/env bash
# Builds the test cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy, kubectl) from Go modules pinned in test/cluster/testbin/go.mod, into a cache OUTSIDE the repo:
#   ${GRACEKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gracekeeper}/k8s-<version>/bin/
# Does nothing when the binaries and their stamp already exist. Prints the bin dir last.
# Modules come from the Go module proxy only (scripts/lib/cached-build.sh).
#
#   scripts/e2e-build.sh            build (or reuse) and print the bin directory
#   scripts/e2e-build.sh --print    print the bin directory only; fail if not built
#   scripts/e2e-build.sh --force    rebuild even if a stamp exists
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib/cached-build.sh"

K8S_VERSION="v1.37.2"
TESTBIN="$ROOT/test/cluster/testbin"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

CB_NAME="e2e-build"
CB_WHAT="cluster binaries $K8S_VERSION"
CB_VERSION="$K8S_VERSION"
CB_OUT="$GK_CACHE_ROOT/k8s-$K8S_VERSION"
BIN="$CB_OUT/bin"
CB_STAMP="$BIN/.stamp"
CB_RESULT="$BIN"
CB_BINARIES=("${BINARIES[@]/#/$BIN/}")
cb_start "$@"

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

echo "$CB_NAME: building $CB_WHAT into $BIN (first build takes a long while on 2 cores)" >&2
(
  cd "$TESTBIN"
  CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false" \
    nice -n 10 go build -p "${E2E_BUILD_JOBS:-2}" -trimpath -ldflags "$ldflags" -o "$CB_TMP/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubelet \
      k8s.io/kubernetes/cmd/kube-proxy \
      k8s.io/kubernetes/cmd/kubectl \
      ./cmd/etcd
)
cb_check_outputs "${BINARIES[@]}"
# The stamp moves in with the binaries, so a half-written cache never counts as built.
cb_write_stamp "$CB_TMP/.stamp"
rm -rf "$BIN"
mv "$CB_TMP" "$BIN"
cb_done

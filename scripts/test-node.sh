#!/usr/bin/env bash
# `npm run test:node`: the seeds' rollouts on a real node (issue 11). One command builds or reuses
# everything, then runs test/node/*.node.ts:
#   Debian packages (scripts/node-deps.sh), the cluster binaries incl. kubelet, kube-proxy and
#   kube-scheduler (scripts/e2e-build.sh), helm (scripts/helm-build.sh, renders the webhook
#   configurations), the node's images (scripts/node-images.sh), the webhook (npm run build).
# Needs root: the node makes a bridge, iptables chains, mounts and cgroups (all removed at the end).
# Writes bench/ROLLOUTS.md.
#
#   scripts/test-node.sh [files...]
# Env: GRACEKEEPER_NODE_ROLLOUTS (rollouts per case, default 3), GRACEKEEPER_E2E_KEEP=1 (keep logs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[[ $(id -u) -eq 0 ]] || { echo "test:node: needs root (a bridge, iptables, mounts, cgroups for the kubelet)" >&2; exit 1; }
started=$(date +%s)
bash scripts/node-deps.sh
GRACEKEEPER_K8S_BIN="${GRACEKEEPER_K8S_BIN:-$(bash scripts/e2e-build.sh)}"
GRACEKEEPER_HELM="${GRACEKEEPER_HELM:-$(bash scripts/helm-build.sh)}"
GRACEKEEPER_NODE_IMAGES="$(bash scripts/node-images.sh)"
export GRACEKEEPER_K8S_BIN GRACEKEEPER_HELM GRACEKEEPER_NODE_IMAGES
npm run --silent build
echo "test:node: builds ready in $(( $(date +%s) - started ))s" >&2
if [[ $# -eq 0 ]]; then set -- test/node/*.node.ts; fi
rc=0
npx tap --jobs=1 --timeout=3000 --disable-coverage --allow-incomplete-coverage "$@" || rc=$?
echo "test:node: wall time $(( $(date +%s) - started ))s" >&2
exit "$rc"

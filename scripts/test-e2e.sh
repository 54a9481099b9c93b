#!/usr/bin/env bash
# `npm run test:e2e`: the chart against the real API server (scripts/chart-test.sh --cluster), then
# the end-to-end scenarios (scripts/e2e.sh). Both parts always run, so a failure in the first never
# hides the second. The binaries both need (control plane, helm) are built or reused once, first.
# The end repeats each part's tap summary, then one combined `# { total, pass, fail }` line (the
# line .ci/run reads). Exits non-zero when the build or either part failed.
#
#   scripts/test-e2e.sh        everything
#   run one part or one file with scripts/chart-test.sh [--cluster] [files] or scripts/e2e.sh [files]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
logs="$(mktemp -d "${TMPDIR:-/tmp}/gracekeeper-test-e2e.XXXXXX")"
trap 'rm -rf "$logs"' EXIT
started=$(date +%s)

# Built once for both parts: if this fails, neither part can run, and trying the build again in
# each part would only spend CI time (a cold control-plane build takes half an hour on 2 cores).
GRACEKEEPER_K8S_BIN="${GRACEKEEPER_K8S_BIN:-$(bash scripts/e2e-build.sh)}" || { echo "test:e2e: the control plane build failed" >&2; exit 1; }
GRACEKEEPER_HELM="$(bash scripts/helm-build.sh)" || { echo "test:e2e: the helm build failed" >&2; exit 1; }
export GRACEKEEPER_K8S_BIN GRACEKEEPER_HELM

names=() commands=() codes=() seconds=()
run_part() { # name command...
  local name=$1 start rc; shift
  echo "::: test:e2e $name: $*"
  start=$(date +%s)
  "$@" 2>&1 | tee "$logs/$name.log"
  rc=${PIPESTATUS[0]}
  names+=("$name"); commands+=("$*"); codes+=("$rc"); seconds+=($(( $(date +%s) - start )))
}

run_part chart bash scripts/chart-test.sh --cluster
run_part scenarios bash scripts/e2e.sh

# tap's closing summary, e.g. "# { total: 12, pass: 11, fail: 1 }"; the last one of a part's log.
summary_of() { grep -E '^# \{ total: [0-9]+' "$logs/$1.log" | tail -n 1; }
count_of() { # field summary-line
  local n; n="$(sed -nE "s/.*[{ ]$1: ([0-9]+).*/\1/p" <<<"$2")"; echo "${n:-0}"
}

total=0 pass=0 fail=0 skip=0 status=0
echo
for i in "${!names[@]}"; do
  line="$(summary_of "${names[$i]}")"
  [[ -n "$line" ]] || line="(no tap summary: it failed before its tests ran)"
  echo "test:e2e: ${names[$i]} (${commands[$i]}): exit ${codes[$i]} in ${seconds[$i]}s, $line"
  total=$(( total + $(count_of total "$line") )); pass=$(( pass + $(count_of pass "$line") ))
  fail=$(( fail + $(count_of fail "$line") )); skip=$(( skip + $(count_of skip "$line") ))
  [[ "${codes[$i]}" -eq 0 ]] || status=1
done
echo "test:e2e: wall time $(( $(date +%s) - started ))s"
combined="# { total: $total, pass: $pass"
(( fail > 0 )) && combined+=", fail: $fail"
(( skip > 0 )) && combined+=", skip: $skip"
echo "$combined }"
exit "$status"

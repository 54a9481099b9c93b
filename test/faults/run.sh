#!/usr/bin/env bash
# Runs the quick fault scripts (everything but the soak) against the built webhook, one after the other.
# Each script prints its figures and checks; this prints how long each took and a closing
# "faults: N passed, N failed" line. Exit status 0 only when every script passed.
#
#   bash test/faults/run.sh                      all quick scripts
#   bash test/faults/run.sh shutdown cert-rotation
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [[ $# -eq 0 ]]; then
  set -- hostile shutdown cert-rotation config-reload cluster-outage
fi
npm run --silent build || exit $?
export TS_NODE_TRANSPILE_ONLY=1 # npm run typecheck checks these files; here they only need to run

passed=0
failed=0
for name in "$@"; do
  started=$(date +%s)
  node --import @tapjs/typescript/import "test/faults/${name}.fault.ts"
  rc=$?
  echo "::: ${name}: exit ${rc} after $(($(date +%s) - started)) s"
  if [[ $rc -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "faults: ${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]

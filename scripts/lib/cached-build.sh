# Sourced by scripts/e2e-build.sh and scripts/helm-build.sh: a tool built from Go modules into a cache
# OUTSIDE the repo, keyed by version, reused while its stamp matches, one build at a time per cache.
#
#   CB_NAME=helm-build  CB_WHAT="helm v3.22.0"  CB_VERSION=v3.22.0
#   CB_OUT=<cache dir, holds .lock>  CB_STAMP=<stamp file>  CB_RESULT=<printed last: dir or binary>
#   CB_BINARIES=(<executables that must exist>)
#   cb_start "$@"            # --print | --force | -h | nothing; prints CB_RESULT and exits when the cache
#                            # is good, else takes the lock and makes $CB_TMP (removed at exit)
#   ... go build into "$CB_TMP" ...
#   cb_check_outputs a b     # each of $CB_TMP/a, $CB_TMP/b is an executable
#   cb_write_stamp FILE      # version, go version, date, seconds since cb_start
#   ... move into place ...
#   cb_done                  # "built in Ns", then CB_RESULT

# The cache root of every build, also used by scripts that only read from it.
GK_CACHE_ROOT="${GRACEKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gracekeeper}"

# Go fetches modules through the module proxy only: `direct` (a VCS clone) is dropped from GOPROXY,
# and no GOPRIVATE/GONOPROXY pattern routes a module around it (an empty GONOPROXY would fall back to
# `go env -w` settings, so it names a host that does not exist). GOPROXY=off (module cache only) is kept.
gk_go_module_proxy_only() { # name-for-messages
  command -v go >/dev/null || { echo "$1: 'go' is not on PATH; install Go >= 1.24" >&2; exit 1; }
  local configured entry proxies=()
  configured="$(go env GOPROXY)"
  IFS=',|' read -ra entries <<<"$configured"
  for entry in "${entries[@]}"; do
    [[ -n "$entry" && "$entry" != direct && "$entry" != off ]] && proxies+=("$entry")
  done
  if ((${#proxies[@]} > 0)); then
    GOPROXY="$(IFS=,; echo "${proxies[*]}")"
  elif [[ ",$configured," == *,off,* ]]; then
    GOPROXY=off
  else
    echo "$1: GOPROXY=$configured names no module proxy; set GOPROXY=https://proxy.golang.org (or a mirror of it)" >&2
    exit 1
  fi
  export GOPROXY GONOPROXY=none.invalid
}

cb_built() {
  [[ -f "$CB_STAMP" ]] && grep -qx "version=$CB_VERSION" "$CB_STAMP" || return 1
  local b
  for b in "${CB_BINARIES[@]}"; do [[ -x "$b" ]] || return 1; done
}

cb_reuse_if_built() {
  if cb_built; then
    echo "$CB_NAME: reusing $CB_WHAT: $CB_RESULT" >&2
    echo "$CB_RESULT"
    exit 0
  fi
}

cb_start() {
  local mode="build"
  case "${1:-}" in
    "") ;;
    --print) mode="print" ;;
    --force) mode="force" ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "$CB_NAME: unknown argument '$1' (expected --print, --force or nothing)" >&2; exit 2 ;;
  esac

  if [[ "$mode" == "print" ]]; then
    if cb_built; then echo "$CB_RESULT"; exit 0; fi
    echo "$CB_NAME: $CB_WHAT is not built in $CB_OUT; run $0" >&2
    exit 1
  fi
  [[ "$mode" == "build" ]] && cb_reuse_if_built

  gk_go_module_proxy_only "$CB_NAME"
  command -v flock >/dev/null || { echo "$CB_NAME: 'flock' (util-linux) is not on PATH" >&2; exit 1; }

  mkdir -p "$CB_OUT"
  # One build at a time per cache: a second caller waits, then reuses the result.
  exec 9>"$CB_OUT/.lock"
  if ! flock -n 9; then
    echo "$CB_NAME: another build holds $CB_OUT/.lock; waiting" >&2
    flock 9
  fi
  [[ "$mode" == "build" ]] && cb_reuse_if_built

  CB_TMP="$CB_OUT/bin.tmp.$$"
  rm -rf "$CB_TMP"; mkdir -p "$CB_TMP"
  trap 'rm -rf "$CB_TMP"' EXIT
  CB_START=$(date +%s)
}

cb_check_outputs() {
  local b
  for b in "$@"; do
    [[ -x "$CB_TMP/$b" ]] || { echo "$CB_NAME: the Go build did not produce $b" >&2; exit 1; }
  done
}

cb_write_stamp() { # file
  CB_SECONDS=$(( $(date +%s) - CB_START ))
  {
    echo "version=$CB_VERSION"
    echo "go=$(go env GOVERSION)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "seconds=$CB_SECONDS"
  } > "$1"
}

cb_done() {
  echo "$CB_NAME: built in ${CB_SECONDS}s" >&2
  echo "$CB_RESULT"
}

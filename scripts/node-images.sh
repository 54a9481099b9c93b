#!/usr/bin/env bash
# Builds the real node's container images from this repo's test programs (test/node/images, static Go,
# CGO_ENABLED=0, standard library only) and Debian's busybox-static, as docker-archives that
# `ctr -n k8s.io images import` reads. No registry is reachable here: the tags are the names the Pods
# (and the webhook's image patterns) use, with imagePullPolicy: Never. Cached OUTSIDE the repo, keyed by
# a hash of the sources, this script and busybox:
#   ${GRACEKEEPER_CACHE:-~/.cache/gracekeeper}/node-images/<hash>/{*.tar,dbserver,images.json}
# Prints that directory last.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib/cached-build.sh"
SRC="$ROOT/test/node/images"
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] || { echo "node-images: $BUSYBOX is missing; run scripts/node-deps.sh" >&2; exit 1; }
command -v go >/dev/null || { echo "node-images: 'go' is not on PATH" >&2; exit 1; }

hash="$( (cd "$SRC" && find . -type f | LC_ALL=C sort | xargs sha256sum; sha256sum "$BUSYBOX" "$ROOT/scripts/node-images.sh" | awk '{print $1}'; go env GOVERSION) | sha256sum | cut -c1-16)"
OUT="$GK_CACHE_ROOT/node-images/$hash"
if [[ -f "$OUT/images.json" ]]; then echo "node-images: reusing $OUT" >&2; echo "$OUT"; exit 0; fi

mkdir -p "$GK_CACHE_ROOT/node-images"
exec 9>"$GK_CACHE_ROOT/node-images/.lock"
flock 9
if [[ -f "$OUT/images.json" ]]; then echo "$OUT"; exit 0; fi
start=$(date +%s)
TMP="$OUT.tmp.$$"
rm -rf "$TMP"; mkdir -p "$TMP/bin"
trap 'rm -rf "$TMP"' EXIT
(cd "$SRC" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off go build -trimpath -ldflags '-s -w' -o "$TMP/bin/" ./app ./dbproxy ./dbserver ./pause ./pack)
B="$TMP/bin"
pack() { "$B/pack" "$@" >&2; }
# name|tags... -- arguments
pack -out "$TMP/pause.tar" -tag registry.k8s.io/pause:3.10 -entrypoint '["/pause"]' -file "$B/pause:/pause"
# The app, also tagged -alpine (it carries busybox sh and sleep): with kubelets older than 1.30 the webhook
# can only give a container a preStop exec [sleep, N], and only for images whose tag says they have a shell.
pack -out "$TMP/app.tar" -tag gracekeeper.test/shop:1.0 -tag gracekeeper.test/shop:1.0-alpine -entrypoint '["/app"]' \
  -file "$B/app:/app" -file "$BUSYBOX:/bin/busybox" -link /bin/sh:busybox -link /bin/sleep:busybox
# cloud-sql-proxy v2's default image is distroless: the binary, no shell, no sleep.
pack -out "$TMP/proxy.tar" -tag gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1 \
  -entrypoint '["/cloud-sql-proxy"]' -file "$B/dbproxy:/cloud-sql-proxy"
# The -alpine variant has a shell and sleep (here busybox-static's).
pack -out "$TMP/proxy-alpine.tar" -tag gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1-alpine \
  -entrypoint '["/cloud-sql-proxy"]' -file "$B/dbproxy:/cloud-sql-proxy" -file "$BUSYBOX:/bin/busybox" \
  -link /bin/sh:busybox -link /bin/sleep:busybox
# A database server image under the official postgres name: the server never exits by itself, and
# without POSTGRES_PASSWORD it exits 1 as the official entrypoint does.
pack -out "$TMP/postgres.tar" -tag docker.io/library/postgres:16 \
  -entrypoint '["/usr/local/bin/postgres","--require-env=POSTGRES_PASSWORD|POSTGRES_PASSWORD_FILE"]' \
  -file "$B/dbserver:/usr/local/bin/postgres"
cp "$B/dbserver" "$TMP/dbserver"
cat > "$TMP/images.json" <<JSON
{
  "pause": "registry.k8s.io/pause:3.10",
  "app": "gracekeeper.test/shop:1.0",
  "appAlpine": "gracekeeper.test/shop:1.0-alpine",
  "proxy": "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1",
  "proxyAlpine": "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1-alpine",
  "postgres": "docker.io/library/postgres:16",
  "archives": ["pause.tar", "app.tar", "proxy.tar", "proxy-alpine.tar", "postgres.tar"],
  "seconds": $(( $(date +%s) - start ))
}
JSON
rm -rf "$TMP/bin"
rm -rf "$OUT"; mv "$TMP" "$OUT"
trap - EXIT
# Older builds (other source hashes) are not used any more.
find "$GK_CACHE_ROOT/node-images" -mindepth 1 -maxdepth 1 -type d ! -name "$hash" -exec rm -rf {} +
echo "node-images: built in $(( $(date +%s) - start ))s: $OUT" >&2
echo "$OUT"

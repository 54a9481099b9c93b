#!/usr/bin/env bash
# Installs Debian's chromium (and a font, so text renders) when missing; the HTML report's browser test
# (test/cli/html-browser.test.ts) calls it, so `npm test` needs nothing installed by hand. `apt-get update`
# runs only when something is missing. Needs root to install; waits for another apt/dpkg run to finish.
#
#   scripts/chromium-deps.sh     install what is missing, then print the path of the browser (last line)
#
# Env: GRACEKEEPER_CHROMIUM=/path/to/chromium skips everything and prints that path.
set -euo pipefail

if [[ -n "${GRACEKEEPER_CHROMIUM:-}" ]]; then
  [[ -x "$GRACEKEEPER_CHROMIUM" ]] || { echo "chromium-deps: GRACEKEEPER_CHROMIUM=$GRACEKEEPER_CHROMIUM is not an executable" >&2; exit 1; }
  echo "$GRACEKEEPER_CHROMIUM"
  exit 0
fi

# package -> a file it installs
declare -A NEEDS=(
  [chromium]=/usr/bin/chromium
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
)

missing=()
for pkg in "${!NEEDS[@]}"; do
  [[ -e "${NEEDS[$pkg]}" ]] || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "chromium-deps: missing ${missing[*]} and not root; install them with: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "chromium-deps: installing ${missing[*]} (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Another session or script may hold the dpkg lock: wait for it rather than fail.
  lock=(-o DPkg::Lock::Timeout=600)
  apt-get "${lock[@]}" update -qq >&2
  apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

for pkg in "${!NEEDS[@]}"; do
  [[ -e "${NEEDS[$pkg]}" ]] || { echo "chromium-deps: $pkg did not install ${NEEDS[$pkg]}" >&2; exit 1; }
done
echo "chromium-deps: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium (version unknown)')" >&2
echo /usr/bin/chromium

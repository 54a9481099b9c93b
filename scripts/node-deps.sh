#!/usr/bin/env bash
# Installs what the real node of `npm run test:node` needs from Debian, only when missing:
#   containerd (1.6, with ctr), runc, containernetworking-plugins (bridge, host-local, loopback, portmap
#   in /usr/lib/cni), busybox-static (the `sh` and `sleep` of the -alpine proxy image), iptables, iproute2.
# `apt-get update` runs at most once, and only when a package is missing. Needs root (the node does too).
# The Debian packages' services are not started: the harness runs its own containerd with its own config,
# root, state and socket in a temp dir (test/cluster/containerd.ts).
#
#   scripts/node-deps.sh          install what is missing, then print one line per tool found
set -euo pipefail

# package -> a file it installs (what the harness runs)
declare -A NEEDS=(
  [containerd]=/usr/bin/containerd
  [runc]=/usr/sbin/runc
  [containernetworking-plugins]=/usr/lib/cni/bridge
  [busybox-static]=/bin/busybox
  [iptables]=/usr/sbin/iptables
  [iproute2]=/usr/sbin/ip
  [conntrack]=/usr/sbin/conntrack
)

missing=()
for pkg in "${!NEEDS[@]}"; do
  [[ -x "${NEEDS[$pkg]}" ]] || missing+=("$pkg")
done
# busybox-static and busybox conflict; a dynamically linked /bin/busybox cannot go into an image.
if [[ -x /bin/busybox ]] && ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
  if ! dpkg -s busybox-static >/dev/null 2>&1; then missing+=(busybox-static); fi
fi

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "node-deps: missing ${missing[*]} and not root; install them with apt-get as root" >&2
    exit 1
  fi
  echo "node-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # --no-install-recommends: no docker/containerd service extras; policy-rc.d keeps services from starting.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod +x $policy; created_policy=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  (( created_policy )) && rm -f $policy
fi

for pkg in "${!NEEDS[@]}"; do
  [[ -x "${NEEDS[$pkg]}" ]] || { echo "node-deps: $pkg did not install ${NEEDS[$pkg]}" >&2; exit 1; }
done
for f in bridge host-local loopback portmap; do
  [[ -x /usr/lib/cni/$f ]] || { echo "node-deps: CNI plugin /usr/lib/cni/$f is missing" >&2; exit 1; }
done
echo "node-deps: containerd $(/usr/bin/containerd --version | awk '{print $3}'), runc $(/usr/sbin/runc --version | awk 'NR==1{print $3}'), CNI plugins in /usr/lib/cni, busybox $(/bin/busybox | awk 'NR==1{print $2}')" >&2

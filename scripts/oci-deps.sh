#!/usr/bin/env bash
# Installs the real OCI clients the OCI tests drive nsrun with (tests/oci):
# podman (with conmon, the CNI plugins and iptables) and containerd (with
# ctr, its runc shim and runc itself, the reference runtime the tests also
# run against).  Debian packages only; idempotent, like scripts/deps.sh.
#
# Nothing of the machine's own is used or started: the tests run a private
# containerd and podman (own config, storage, sockets, network namespace).
# On a machine where systemd runs, Debian's containerd package would start
# containerd.service at once; while installing, a policy-rc.d that refuses
# every start is in place (only if the machine has none; removed after).
# The packages still enable containerd.service and podman.socket for the
# next boot, as Debian ships them: `sudo systemctl disable containerd
# podman.socket` if you want neither.
set -euo pipefail

packages=(
  podman          # podman run/exec/… with --runtime (pulls conmon, containernetworking-plugins, iptables)
  containerd      # containerd, ctr and containerd-shim-runc-v2 (pulls runc)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "oci-deps: all ${#packages[@]} packages present"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "oci-deps: install ${missing[*]} with your package manager (the OCI tests need them)" >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "oci-deps: missing packages: ${missing[*]}" >&2
  echo "oci-deps: run as root to install them: sudo make oci-deps" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# nsrun oci-deps: no service starts while installing (removed after)\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi

echo "oci-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

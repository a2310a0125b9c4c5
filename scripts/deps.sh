#!/usr/bin/env bash
# Installs the Debian packages nsrun needs, only those missing.  Idempotent:
# when everything is there it installs nothing and needs no root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config   # toolchain
  libcli11-dev                        # every command line
  libfmt-dev                          # all formatting
  libgtest-dev libgmock-dev           # all tests
  doxygen graphviz                    # the docs site and topology pictures
  doxygen-awesome-css                 # the docs site's theme
  busybox-static                      # the lab rootfs
  iproute2 util-linux procps          # ip/nsenter/setpriv/ps, used by tests and the demo
  libnftables-dev nftables            # port mapping (step 09); nft for the tests
  qemu-system-x86 kmod cpio           # make test-vm: a cgroup-v2-only kernel under qemu
  nlohmann-json3-dev                  # nsrun's state files (final/)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run as root to install them: sudo make deps" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

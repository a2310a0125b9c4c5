#!/usr/bin/env bash
# Installs the packages nsrun needs, only those missing.  Idempotent: when
# everything is there it installs nothing and needs no root.
#
# Debian and Ubuntu (apt) are tested; Fedora (dnf) and Arch (pacman) install
# the same set under their own names (the map below); anywhere else it prints
# the list to install by hand.
#
#   scripts/deps.sh              install what is missing
#   scripts/deps.sh --dry-run    print the install command instead of running it
#   OS_RELEASE=FILE              read the distribution from FILE (default /etc/os-release)
set -euo pipefail

# The packages, by their Debian names: the single list of what nsrun needs.
packages=(
  build-essential cmake pkg-config   # toolchain
  ccache                              # fast rebuilds (used when present)
  ninja-build                         # faster builds than make's (used when present)
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
  libarchive-dev                      # nsrun image import: tar, gzip, zstd (final/)
  zstd                                # zstd-compressed layers in the image tests
  libcap-dev libseccomp-dev           # nsrun's hardening: capabilities, the seccomp filter (final/)
  lld                                 # nsrun's code laid out for a start (final/nsrun.order)
)

# The same packages on Fedora and Arch: "debian fedora arch", one per line.
# Several names are joined with ","; "-" means nothing to install there (part
# of another package); "?" means no package is known: install it by hand.
# A package added to the list above needs its line here too.
package_map="
build-essential      gcc-c++,make           base-devel
cmake                cmake                  cmake
pkg-config           pkgconf-pkg-config     pkgconf
ccache               ccache                 ccache
ninja-build          ninja-build            ninja
libcli11-dev         cli11-devel            cli11
libfmt-dev           fmt-devel              fmt
libgtest-dev         gtest-devel            gtest
libgmock-dev         gmock-devel            -
doxygen              doxygen                doxygen
graphviz             graphviz               graphviz
doxygen-awesome-css  ?                      ?
busybox-static       busybox                busybox
iproute2             iproute                iproute2
util-linux           util-linux             util-linux
procps               procps-ng              procps-ng
libnftables-dev      nftables-devel         -
nftables             nftables               nftables
nlohmann-json3-dev   json-devel             nlohmann-json
libcap-dev           libcap-devel           libcap
libseccomp-dev       libseccomp-devel       libseccomp
lld                  lld                    lld
libarchive-dev       libarchive-devel       libarchive
qemu-system-x86      qemu-system-x86-core   qemu-system-x86
kmod                 kmod                   kmod
cpio                 cpio                   cpio
zstd                 zstd                   zstd
chromium             chromium               chromium
"

dry_run=false
[ "${1:-}" = --dry-run ] && dry_run=true
os_release=${OS_RELEASE:-/etc/os-release}

# The distribution family, from ID and ID_LIKE of os-release(5).
family() {
  local id="" like=""
  if [ -r "$os_release" ]; then
    id=$(sed -n 's/^ID=//p' "$os_release" | tr -d '"')
    like=$(sed -n 's/^ID_LIKE=//p' "$os_release" | tr -d '"')
  fi
  for word in $id $like; do
    case $word in
      debian | ubuntu) echo debian; return ;;
      fedora | rhel | centos) echo fedora; return ;;
      arch | archlinux) echo arch; return ;;
    esac
  done
  echo unknown
}

# name_in FAMILY DEBIAN-NAME: that package's name(s) in FAMILY, space separated.
name_in() {
  local column
  case $1 in debian) echo "$2"; return ;; fedora) column=2 ;; arch) column=3 ;; esac
  local line
  line=$(printf '%s\n' "$package_map" | awk -v p="$2" '$1 == p')
  if [ -z "$line" ]; then
    echo "deps: $2 has no $1 name in scripts/deps.sh's package map: add its line" >&2
    echo "?"
    return
  fi
  printf '%s\n' "$line" | awk -v c="$column" '{ print $c }' | tr "," " "
}

installed() { # FAMILY PACKAGE
  case $1 in
    debian) dpkg-query -W -f='${Status}' "$2" 2>/dev/null | grep -q 'install ok installed' ;;
    fedora) rpm -q "$2" >/dev/null 2>&1 ;;
    arch) pacman -Q "$2" >/dev/null 2>&1 ;;
  esac
}

fam=$(family)
if [ "$fam" = unknown ]; then
  name=$(sed -n 's/^PRETTY_NAME=//p' "$os_release" 2>/dev/null | tr -d '"')
  echo "deps: ${name:-this system} is not Debian, Ubuntu, Fedora or Arch: install these by hand" >&2
  echo "deps: (Debian names; the Fedora and Arch names are in scripts/deps.sh)" >&2
  printf '  %s\n' "${packages[@]}" >&2
  echo "deps: the tools they provide: g++ (C++20), cmake >= 3.25, pkg-config, CLI11 2.x, fmt," >&2
  echo "deps: GoogleTest with GMock, doxygen, graphviz, a static busybox, ip, nsenter, setpriv, ps," >&2
  echo "deps: nft and libnftables with its headers; ccache and ninja are optional" >&2
  exit 1
fi

wanted=() by_hand=()
for p in "${packages[@]}"; do
  for name in $(name_in "$fam" "$p"); do
    case $name in
      -) ;;
      \?) by_hand+=("$p") ;;
      *) wanted+=("$name") ;;
    esac
  done
done
missing=()
for p in "${wanted[@]}"; do
  installed "$fam" "$p" || missing+=("$p")
done
for p in "${by_hand[@]}"; do
  echo "deps: $fam has no package for Debian's $p: install it by hand (see scripts/deps.sh)" >&2
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#wanted[@]} $fam packages present"
  exit 0
fi

case $fam in
  debian) install=(apt-get install -y -q --no-install-recommends) update=(apt-get update -q) ;;
  fedora) install=(dnf install -y) update=() ;;
  arch) install=(pacman -S --needed --noconfirm) update=() ;;
esac

if $dry_run; then
  [ ${#update[@]} -gt 0 ] && echo "${update[*]}"
  echo "${install[*]} ${missing[*]}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing $fam packages: ${missing[*]}" >&2
  echo "deps: run as root to install them: sudo make deps" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
[ ${#update[@]} -gt 0 ] && "${update[@]}"
"${install[@]}" "${missing[@]}"

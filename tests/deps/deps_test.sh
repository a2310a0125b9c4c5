#!/bin/sh
# Tests of scripts/deps.sh's distribution detection and package map, with fake
# /etc/os-release files (OS_RELEASE) and --dry-run (the install command is
# printed, not run).  Logic only: dnf and pacman are not run here.
# usage: deps_test.sh SOURCE_DIR
deps=${1:?usage: deps_test.sh SOURCE_DIR}/scripts/deps.sh
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
check() { # DESCRIPTION COMMAND...
  d=$1; shift
  if "$@"; then echo "ok:   $d"; else echo "FAIL: $d"; failed=1; fi
}
has() { printf '%s\n' "$1" | grep -qE -- "$2"; }

printf 'NAME="Fedora Linux"\nID=fedora\n' >"$tmp/fedora"
printf 'ID="rocky"\nID_LIKE="rhel centos fedora"\n' >"$tmp/rocky"
printf 'NAME="Arch Linux"\nID=arch\n' >"$tmp/arch"
printf 'PRETTY_NAME="Alpine Linux v3.20"\nID=alpine\n' >"$tmp/alpine"

out=$(OS_RELEASE=$tmp/fedora bash "$deps" --dry-run 2>&1); rc=$?
# On a machine without rpm every package counts as missing: the whole set is printed.
if ! command -v rpm >/dev/null; then
  check "Fedora: dnf installs the Fedora names" has "$out" '^dnf install -y gcc-c\+\+ make cmake pkgconf-pkg-config .*cli11-devel fmt-devel gtest-devel gmock-devel .*nftables-devel nftables'
  check "Fedora: no Debian name leaks into the dnf command" sh -c '! printf "%s\n" "$1" | grep "^dnf" | grep -qE "build-essential|libcli11-dev|-dev( |$)"' _ "$out"
fi
check "Fedora: exit status 0 in a dry run (it is $rc)" [ "$rc" -eq 0 ]
out=$(OS_RELEASE=$tmp/rocky bash "$deps" --dry-run 2>&1)
check "ID_LIKE=fedora counts as Fedora" has "$out" '^dnf install'
out=$(OS_RELEASE=$tmp/arch bash "$deps" --dry-run 2>&1)
if ! command -v pacman >/dev/null; then
  check "Arch: pacman installs the Arch names" has "$out" '^pacman -S --needed --noconfirm base-devel cmake pkgconf .*cli11 fmt gtest .*nftables'
  check "Arch: gmock comes with gtest, libnftables with nftables (no extra names)" sh -c '! printf "%s\n" "$1" | grep "^pacman" | grep -qE "gmock|-dev( |$)"' _ "$out"
fi
out=$(OS_RELEASE=$tmp/alpine bash "$deps" --dry-run 2>&1); rc=$?
check "an unknown system gets the list to install by hand and status 1 (it is $rc)" [ "$rc" -eq 1 ]
check "  naming the system" has "$out" 'Alpine Linux v3.20 is not Debian, Ubuntu, Fedora or Arch'
check "  and every package" sh -c 'for p in build-essential libcli11-dev libnftables-dev busybox-static; do printf "%s\n" "$1" | grep -qx "  $p" || exit 1; done' _ "$out"
# Every Debian package of the list has a line in the map (a new one without it is caught here).
list=$(sed -n '/^packages=(/,/^)/p' "$deps" | sed 's/#.*//' | tr -s ' ' '\n' | grep -vE '^(packages=\(|\)|)$')
for p in $list; do
  check "map has a line for $p" sh -c 'sed -n "/^package_map=\"/,/^\"/p" "$1" | grep -qE "^$2 +[^ ]+ +[^ ]+$"' _ "$deps" "$p"
done
exit $failed

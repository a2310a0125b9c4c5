#!/usr/bin/env bash
# private-home.sh — run step tests with the lab rootfs under a home directory
# that others may not enter, as learners clone it (Ubuntu's homes are 0750,
# Fedora's 0700).
#
#   tests/steps/private-home.sh MODE OWNER ROOTFS STEP-TESTS [ARGS...]
#
# Copies ROOTFS to HOME/nsrun/rootfs/lab, where HOME is a fresh directory of
# mode MODE owned by OWNER (uid:gid), then runs
#   STEP-TESTS --rootfs=HOME/nsrun/rootfs/lab ARGS...
# (step-tests then gives the runtime --rootfs on every launch) and removes
# HOME.  Its exit status is step-tests'.
set -euo pipefail
if (($# < 4)); then
    echo "usage: $0 MODE OWNER ROOTFS STEP-TESTS [ARGS...]" >&2
    exit 2
fi
mode=$1 owner=$2 rootfs=$3 tests=$4
shift 4
base=$(mktemp -d /tmp/nsrun-private-home-XXXXXX)
# --one-file-system: never into something a broken runtime left mounted.
trap 'rm -rf --one-file-system -- "$base"' EXIT
chmod 0755 "$base"
home=$base/home
mkdir -p "$home/nsrun/rootfs"
cp -a -- "$rootfs" "$home/nsrun/rootfs/lab"
chown "$owner" "$home"
chmod "$mode" "$home"
echo "private-home: the lab rootfs is $home/nsrun/rootfs/lab; $home is mode $mode, owner $owner"
"$tests" --rootfs="$home/nsrun/rootfs/lab" "$@"

#!/usr/bin/env bash
# demo.sh BUILD_DIR — a guided tour of every finished step (`sudo make demo`).
#
# Each scene has a one-line heading, then for each command the exact command
# line ("$ ...") followed by its real output, then whether it showed what it
# should.  A step whose binary BUILD_DIR/bin/stepNN-* is not built is skipped
# with a note; a step that is built but has no scene here yet gets its --help
# summary.  Non-interactive (stdin is never read), colors only on a terminal
# (and not with NO_COLOR set).  Leaves nothing behind: its one temporary
# directory is removed, and every mount it makes is inside a container.
#
# Exit status: 0 when every scene showed what it should, 1 when one did not,
# 2 on misuse (no BUILD_DIR, not root).
set -uo pipefail   # no -e: a failing command is a scene's result, not the end

usage() {
    echo "usage: scripts/demo.sh BUILD_DIR    (as root; normally: sudo make demo)" >&2
    exit 2
}
(($# == 1)) || usage
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
[[ -d $1 ]] || { echo "demo: $1: no such build directory (run: make build)" >&2; exit 2; }
build_abs=$(cd "$1" && pwd -P)
cd "$ROOT"
# Show paths as a user would type them from the repository root.
BUILD=${build_abs#"$ROOT"/}
BIN=$BUILD/bin

if [[ $(id -u) -ne 0 ]]; then
    echo "demo: the containers need root: run sudo make demo (or scripts/demo.sh $BUILD as root)" >&2
    exit 2
fi

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
    B=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GREEN=$'\e[32m' YELLOW=$'\e[33m' CYAN=$'\e[36m' OFF=$'\e[0m'
else
    B='' DIM='' RED='' GREEN='' YELLOW='' CYAN='' OFF=''
fi

TMP=''
cleanup() {
    if [[ -n $TMP && -d $TMP ]]; then
        # Only a broken runtime (no mount namespace) could have leaked a mount here.
        if mountpoint -q "$TMP" 2>/dev/null; then umount -l "$TMP"; fi
        rmdir "$TMP" 2>/dev/null || rm -rf -- "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scenes=0 failed=0 scene_ok=1
OUT='' STATUS=0

# scene "heading": starts a scene.
scene() {
    finish_scene
    scenes=$((scenes + 1)) scene_ok=1
    printf '\n%s== %s%s\n' "$B$CYAN" "$1" "$OFF"
}

# finish_scene: counts the previous scene's result.
finish_scene() {
    if ((scenes > 0 && !scene_ok)); then failed=$((failed + 1)); fi
    scene_ok=1
}

# say "text": a line of explanation.
say() { printf '%s%s%s\n' "$DIM" "$1" "$OFF"; }

# show "command line": prints it, runs it with bash (stdin from /dev/null, at
# most 60 s), prints its output; OUT and STATUS hold the result.
show() {
    printf '%s$ %s%s\n' "$B" "$1" "$OFF"
    OUT=$(timeout -k 5 60 bash -c "$1" 2>&1 </dev/null)
    STATUS=$?
    if [[ -n $OUT ]]; then printf '%s\n' "$OUT"; fi
}

# expect "what it shows" TEST...: checks the last command; TEST is a command
# (e.g. has "text", status_is 0).
expect() {
    local what=$1
    shift
    if "$@"; then
        printf '%s   ok: %s%s\n' "$GREEN" "$what" "$OFF"
    else
        printf '%s   FAILED: expected %s (exit status %s)%s\n' "$RED$B" "$what" "$STATUS" "$OFF"
        scene_ok=0
    fi
}
has() { [[ $OUT == *"$1"* ]]; }
has_not() { [[ $OUT != *"$1"* ]]; }
status_is() { ((STATUS == $1)); }
status_not() { ((STATUS != $1)); }

# --- the scenes: one function per step, given the binary's path -------------

scene_01() {
    local bin=$1 host
    host=$(hostname)
    scene "Step 01 · UTS namespace: the container has a hostname of its own"
    show "$bin --hostname demo-box hostname"
    expect "the hostname inside is demo-box" has "demo-box"
    show "hostname"
    expect "the host is still $host" has "$host"
}

scene_02() {
    local bin=$1
    scene "Step 02 · PID namespace: COMMAND is PID 1 inside, another PID outside"
    show "$bin sh -c 'echo \"my PID: \$\$\"; exec grep NSpid /proc/self/status'"
    expect "PID 1 inside, and two numbers in NSpid (host, container)" \
        eval '[[ $OUT == *"my PID: 1"* && $OUT =~ NSpid:[[:space:]]+[0-9]+[[:space:]]+1 ]]'
    show "$bin sh -c 'ps -e --no-headers | wc -l'"
    expect "ps still counts the host's processes: /proc is the host's until step 03" \
        eval '[[ ${OUT//[^0-9]/} -gt 1 ]]'

    scene "Step 02 · signals sent to the runtime reach the container's PID 1"
    say "PID 1 only gets the signals it has a handler for: here, a shell's trap."
    show "$bin sh -c 'trap \"echo PID 1 got SIGTERM; exit 42\" TERM; echo ready; sleep 30 & wait' & sleep 1; kill -TERM \$!; wait \$!; echo \"exit status: \$?\""
    expect "the trap ran and the runtime exited with PID 1's status, 42" \
        eval 'has "PID 1 got SIGTERM" && has "exit status: 42"'
}

scene_03() {
    local bin=$1
    scene "Step 03 · mount namespace: a fresh /proc, so ps sees only the container"
    show "$bin ps"
    expect "one process: ps itself, as PID 1" eval '[[ $(wc -l <<<"$OUT") -eq 2 && $OUT =~ [[:space:]]1[[:space:]].*ps ]]'

    scene "Step 03 · a tmpfs mounted inside is absent from the host's mount table"
    TMP=$(mktemp -d /tmp/nsrun-demo.XXXXXX)
    show "$bin sh -c 'mount -t tmpfs nsrun-demo $TMP && grep nsrun-demo /proc/self/mountinfo'"
    expect "the container sees its mount" eval 'status_is 0 && has "$TMP"'
    show "grep nsrun-demo /proc/self/mountinfo || echo 'not in the host mount table'"
    expect "the host does not" has "not in the host mount table"
    cleanup
    TMP=''
}

scene_04() {
    local bin=$1
    scene "Step 04 · root filesystem: pivot_root into the lab rootfs"
    show "$bin ls /"
    expect "the lab rootfs's top directories" eval 'has "srv" && has "usr" && status_is 0'
    show "$bin cat /etc/os-release"
    expect "the lab rootfs's os-release" has 'NAME="nsrun lab rootfs"'
    show "$bin ls $ROOT"
    expect "the host's $ROOT is unreachable" eval 'status_not 0 && has "No such file or directory"'
    show "$bin --explain true 2>&1 | grep -E 'MS_BIND|pivot_root|umount2'"
    expect "the narrated pivot: bind mount, pivot_root(\".\", \".\"), lazy unmount of the old root" \
        eval 'has "MS_BIND" && has "pivot_root(\".\", \".\") = 0" && has "MNT_DETACH) = 0"'
}

# --- the tour -----------------------------------------------------------------

steps=(01 02 03 04 05 06 07 08 09)
declare -A primitive=(
    [01]="UTS namespace" [02]="PID namespace" [03]="mount namespace" [04]="root filesystem"
    [05]="cgroups" [06]="user namespaces, rootless" [07]="network namespace, veth"
    [08]="bridge, address leases" [09]="port publishing, nftables NAT"
)

printf '%snsrun demo: a guided tour of the finished steps (%s)%s\n' "$B" "$BIN" "$OFF"
say "Each command below runs for real, as root; its output follows it."

skipped=()
for nn in "${steps[@]}"; do
    bins=("$BIN"/step"$nn"-*)
    bin=${bins[0]}
    if [[ ! -x $bin ]]; then
        if declare -F "scene_$nn" >/dev/null; then
            skipped+=("$nn (${primitive[$nn]}) is not built: run make build")
        else
            skipped+=("$nn (${primitive[$nn]}) is not built yet (in progress)")
        fi
        continue
    fi
    if declare -F "scene_$nn" >/dev/null; then
        "scene_$nn" "$bin"
    else
        scene "Step $nn · ${primitive[$nn]}: built, but this tour has no scene for it yet"
        show "$bin --help | head -n 2"
        expect "its --help" status_is 0
    fi
done
finish_scene

echo
for s in "${skipped[@]}"; do
    printf '%sskipped: step %s%s\n' "$YELLOW" "$s" "$OFF"
done
if ((scenes == 0)); then
    printf '%sdemo: no step binary in %s: run make build%s\n' "$RED$B" "$BIN" "$OFF"
    exit 1
fi
if ((failed)); then
    printf '%sdemo: %d of %d scenes FAILED%s\n' "$RED$B" "$failed" "$scenes" "$OFF"
    exit 1
fi
printf '%sdemo: all %d scenes showed what they should%s\n' "$GREEN$B" "$scenes" "$OFF"

#!/usr/bin/env bash
# demo.sh BUILD_DIR — a guided tour of every finished step (`sudo make demo`).
#
# Each scene has a one-line heading, then for each command the exact command
# line ("$ ...") followed by its real output, then whether it showed what it
# should.  A step whose binary BUILD_DIR/bin/stepNN-* is not built is skipped
# with a note; a step that is built but has no scene here yet gets its --help
# summary.  Non-interactive (stdin is never read), colors only on a terminal
# (and not with NO_COLOR set).  Leaves nothing behind: its temporary
# directory is removed, every mount it makes is inside a container, the
# cgroups of steps 05 on are removed by the runtime itself, and a container
# it starts in the background is ended (SIGKILL to its PID 1, which the
# runtime reaps and cleans up after) before the scene ends or on Ctrl-C.
# The network scenes (steps 07-09) run in one *throwaway host*: a process the
# demo parks in a new network and mount namespace (only lo, its own /run and
# /sys), killed by PID at the end; the veths, bridge, nft table, sysctls and
# leases the runtimes make there vanish with it.  The machine's own network
# is never touched.
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
BG_RUNTIME='' BG_PID1=''   # a runtime the demo runs in the background, its container's PID 1
THROWAWAY=''               # the PID holding the throwaway host of the network scenes
cleanup() {
    stop_background
    if [[ -n $TMP && -d $TMP ]]; then
        # Only a broken runtime (no mount namespace) could have leaked a mount here.
        if mountpoint -q "$TMP" 2>/dev/null; then umount -l "$TMP"; fi
        rmdir "$TMP" 2>/dev/null || rm -rf -- "$TMP"
    fi
}
trap 'cleanup; throwaway_down' EXIT
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

# prompt: what precedes a command line: "$ " on the machine, "throwaway# "
# inside the throwaway host of the network scenes.
prompt() { if [[ -n $THROWAWAY ]]; then printf 'throwaway# '; else printf '$ '; fi; }

# wrap "command line": the command line for bash -c: as is, or, inside the
# throwaway host, entered with nsenter (which moves to / of its mount
# namespace, hence the cd back to the repository root).
wrap() {
    if [[ -n $THROWAWAY ]]; then
        printf 'exec nsenter -t %s -n -m -- bash -c %q' "$THROWAWAY" "cd $(printf '%q' "$ROOT") && $1"
    else
        printf '%s' "$1"
    fi
}

# show "command line": prints it, runs it with bash (stdin from /dev/null, at
# most 60 s), prints its output; OUT and STATUS hold the result.
show() {
    printf '%s%s%s%s\n' "$B" "$(prompt)" "$1" "$OFF"
    OUT=$(timeout -k 5 60 bash -c "$(wrap "$1")" 2>&1 </dev/null)
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

# start_container "command line" NAME: prints "$ command line &" and runs it in
# the background (stdin from /dev/null, output kept for stop_container), then
# waits (at most 10 s) until the runtime's child, the container's PID 1, has
# exec'd COMMAND (its /proc/PID/comm is NAME): by then its cgroup and user
# namespace are all set up.  BG_RUNTIME and BG_PID1 hold the two host PIDs.
start_container() {
    local i
    printf '%s%s%s &%s\n' "$B" "$(prompt)" "$1" "$OFF"
    [[ -n $TMP ]] || TMP=$(mktemp -d /tmp/nsrun-demo.XXXXXX)
    bash -c "$(wrap "exec $1")" </dev/null >"$TMP/background.out" 2>&1 &
    BG_RUNTIME=$! BG_PID1=''
    for ((i = 0; i < 200; i++)); do
        BG_PID1=$(pgrep -P "$BG_RUNTIME" | head -n 1)
        if [[ -n $BG_PID1 && $(cat "/proc/$BG_PID1/comm" 2>/dev/null) == "$2" ]]; then
            return 0
        fi
        kill -0 "$BG_RUNTIME" 2>/dev/null || break
        sleep 0.05
    done
    BG_PID1=''
    printf '%s   FAILED: the container did not start %s%s\n' "$RED$B" "$2" "$OFF"
    sed 's/^/   /' "$TMP/background.out"
    scene_ok=0
    stop_background
    return 1
}

# stop_container: ends the container of start_container from the host and
# prints the runtime's output and exit status (OUT, STATUS).  A plain sleep as
# PID 1 ignores SIGTERM (step 02), but SIGKILL from the host always ends it;
# the runtime then reaps it, removes its cgroup, and exits 137.
stop_container() {
    printf '%s%skill -KILL %s; wait %s; echo "exit status: $?"%s\n' "$B" "$(prompt)" "$BG_PID1" "$BG_RUNTIME" "$OFF"
    kill -KILL "$BG_PID1" 2>/dev/null
    wait "$BG_RUNTIME"
    STATUS=$?
    end_background
}

# await_container: the container of start_container ends by itself (at most
# 10 s, else SIGKILL to its PID 1); prints the runtime's output and exit
# status (OUT, STATUS), as stop_container does.
await_container() {
    local i
    printf '%s%swait %s; echo "exit status: $?"%s\n' "$B" "$(prompt)" "$BG_RUNTIME" "$OFF"
    for ((i = 0; i < 200; i++)); do
        kill -0 "$BG_RUNTIME" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$BG_RUNTIME" 2>/dev/null; then kill -KILL "$BG_PID1" 2>/dev/null; fi
    wait "$BG_RUNTIME"
    STATUS=$?
    end_background
}

# end_background: after a background runtime was reaped: OUT, the end of the
# scene's temporary directory.
end_background() {
    OUT=$(cat "$TMP/background.out"; echo "exit status: $STATUS")
    printf '%s\n' "$OUT"
    BG_RUNTIME='' BG_PID1=''
    cleanup
    TMP=''
}

# stop_background: what cleanup does with a background runtime still running
# (a failed start, Ctrl-C): kill its container's PID 1, or the runtime itself
# when it has no child, then reap it.
stop_background() {
    [[ -n $BG_RUNTIME ]] || return 0
    if kill -0 "$BG_RUNTIME" 2>/dev/null; then
        local pid1
        pid1=$(pgrep -P "$BG_RUNTIME" | head -n 1)
        if [[ -n $pid1 ]]; then kill -KILL "$pid1"; else kill -KILL "$BG_RUNTIME"; fi 2>/dev/null
    fi
    wait "$BG_RUNTIME" 2>/dev/null
    BG_RUNTIME='' BG_PID1=''
}

# cgroup_dir PID CONTROLLER: the host path of PID's cgroup for CONTROLLER:
# in the v1 hierarchy that has it, else in the v2 tree.
cgroup_dir() {
    local controllers path
    while IFS=: read -r _ controllers path; do
        if [[ -n $controllers && ,$controllers, == *,"$2",* ]]; then
            if [[ -d /sys/fs/cgroup/$2 ]]; then controllers=$2; fi
            echo "/sys/fs/cgroup/$controllers$path"
            return
        fi
    done <"/proc/$1/cgroup"
    path=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
    if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
        echo "/sys/fs/cgroup$path"
    else
        echo "/sys/fs/cgroup/unified$path"
    fi
}

# wait_output REGEX: polls the output of the container of start_container
# (at most 10 s) until a line matches REGEX; MATCH holds that line.
wait_output() {
    local i
    MATCH=''
    for ((i = 0; i < 200; i++)); do
        MATCH=$(grep -m 1 -E "$1" "$TMP/background.out" 2>/dev/null)
        [[ -n $MATCH ]] && return 0
        kill -0 "$BG_RUNTIME" 2>/dev/null || break
        sleep 0.05
    done
    printf '%s   FAILED: the container did not print %s%s\n' "$RED$B" "$1" "$OFF"
    sed 's/^/   /' "$TMP/background.out"
    scene_ok=0
    return 1
}

# throwaway_up: makes the throwaway host of the network scenes, once: a
# process in a new network namespace (only lo, brought up) and a private
# mount namespace with its own tmpfs on /run (so the runtimes' /run/nsrun is
# private too) and a sysfs of the new network namespace on /sys (the cgroup
# hierarchies, parked under the new /run meanwhile, are moved back on
# /sys/fs/cgroup for the cgroups of steps 05 on).  From then on, show and
# start_container run their commands in it (nsenter).
throwaway_up() {
    local i
    [[ -z $THROWAWAY ]] || return 0
    unshare --net --mount --propagation private sh -c '
        set -e
        mount -t tmpfs -o mode=755,size=16m tmpfs /run
        mkdir /run/.cgroup
        mount --rbind /sys/fs/cgroup /run/.cgroup
        mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
        mount --move /run/.cgroup /sys/fs/cgroup
        rmdir /run/.cgroup
        ip link set lo up
        exec sleep infinity' </dev/null &
    THROWAWAY=$!
    for ((i = 0; i < 200; i++)); do
        [[ $(cat "/proc/$THROWAWAY/comm" 2>/dev/null) == sleep ]] && return 0
        kill -0 "$THROWAWAY" 2>/dev/null || break
        sleep 0.05
    done
    printf '%s   FAILED: cannot make the throwaway host (unshare, mounts)%s\n' "$RED$B" "$OFF"
    throwaway_down
    scene_ok=0
    return 1
}

# throwaway_down: kills the throwaway host's process by PID, which ends its
# namespaces and everything in them.
throwaway_down() {
    [[ -n $THROWAWAY ]] || return 0
    kill -KILL "$THROWAWAY" 2>/dev/null
    wait "$THROWAWAY" 2>/dev/null
    THROWAWAY=''
}

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

scene_05() {
    local bin=$1 dir
    scene "Step 05 · cgroups: a memory limit, enforced by the OOM killer"
    show "$bin --memory 32m lab-probe alloc 100; echo \"exit status: \$?\""
    expect "allocating 100 MiB under 32 MiB is OOM-killed: the runtime says so and exits 137" \
        eval 'has "container killed: out of memory" && has "exit status: 137"'
    show "$bin --memory 32m lab-probe alloc 8; echo \"exit status: \$?\""
    expect "8 MiB fits" eval 'has "allocated=8" && has "exit status: 0"'

    scene "Step 05 · cgroups: a pids limit stops a fork storm"
    show "$bin lab-probe fork 50"
    expect "without a limit, all 50 forks succeed" has "forked=50"
    say "PID 1 counts against pids.max too: under a limit of 10, at most 9 children fit."
    show "$bin --pids-limit 10 lab-probe fork 50"
    expect "at most 10 forks, then EAGAIN" \
        eval '[[ $OUT =~ forked=([0-9]+) ]] && ((BASH_REMATCH[1] <= 10)) && has "errno=EAGAIN"'

    scene "Step 05 · cgroups: --cpus 0.5, read back from the host while the container runs"
    start_container "$bin --cpus 0.5 sleep 30" sleep || return
    show "pgrep -P $BG_RUNTIME"
    expect "the container's PID 1 is the runtime's child: host PID $BG_PID1" has "$BG_PID1"
    dir=$(cgroup_dir "$BG_PID1" cpu)
    if [[ -e $dir/cpu.max ]]; then   # cgroup v2: one tree, line 0::
        show "grep '^0::' /proc/$BG_PID1/cgroup"
    else                             # cgroup v1: the cpu hierarchy's line
        show "grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' /proc/$BG_PID1/cgroup"
    fi
    expect "it is in a cgroup of its own, nsrun/<container id>" has "/nsrun/"
    if [[ -e $dir/cpu.max ]]; then
        show "cat $dir/cpu.max"
        expect "cpu.max: a quota of 50000 µs of CPU time per 100000 µs period, half a CPU" \
            has "50000 100000"
    else
        show "cat $dir/cpu.cfs_quota_us $dir/cpu.cfs_period_us"
        expect "cpu.cfs_quota_us 50000 µs of CPU time per cpu.cfs_period_us 100000 µs, half a CPU" \
            eval '[[ $OUT =~ ^50000[[:space:]]+100000$ ]]'
    fi
    stop_container
    expect "the container ended by SIGKILL: 137" has "exit status: 137"
    show "ls -d $dir"
    expect "the runtime removed the container's cgroup" has "No such file or directory"
}

scene_06() {
    local bin=$1
    scene "Step 06 · user namespace: root inside, an unprivileged uid on the host"
    show "$bin --userns sh -c 'id; ls -ln /bin/busybox'"
    expect "uid 0 inside; the rootfs's files (host uid 0, unmapped) show up as 65534, nobody" \
        eval 'status_is 0 && has "uid=0(root)" && [[ $OUT =~ [[:space:]]65534[[:space:]]+65534[[:space:]] ]]'
    start_container "$bin --userns sleep 30" sleep || return
    say "The container's PID 1 is the runtime's child; the host numbers it $BG_PID1 (pgrep -P $BG_RUNTIME)."
    show "grep -E '^(Uid|Gid):' /proc/$BG_PID1/status"
    expect "the host sees it as uid and gid 100000: the default map is 0:100000:65536" \
        eval '[[ $OUT =~ Uid:[[:space:]]+100000[[:space:]] && $OUT =~ Gid:[[:space:]]+100000[[:space:]] ]]'
    show "readlink /proc/$BG_PID1/ns/user /proc/self/ns/user"
    expect "in a user namespace of its own, not the host's" \
        eval '[[ $(wc -l <<<"$OUT") -eq 2 && $(sort -u <<<"$OUT" | wc -l) -eq 2 ]]'
    stop_container
    expect "ended from the host: 137" has "exit status: 137"

    scene "Step 06 · rootless: a user who is not root runs a container"
    say "setpriv runs the runtime as uid and gid 65534 (nobody), with no supplementary groups and no capabilities."
    show "setpriv --reuid 65534 --regid 65534 --clear-groups $bin sh -c 'id; hostname'"
    expect "uid 0 inside, and the container's hostname" \
        eval 'status_is 0 && has "uid=0(root)" && [[ $(tail -n 1 <<<"$OUT") == container ]]'
    show "setpriv --reuid 65534 --regid 65534 --clear-groups $bin --explain true 2>&1 | grep -E 'rootless|/proc/[0-9]+/'"
    expect "the parent maps container root to the caller alone (0 65534 1), after setgroups deny" \
        eval 'has "uid_map\", \"0 65534 1" && has "setgroups\", \"deny\""'
}

# The network scenes: each needs the throwaway host (made by the first).
network_scene() {
    scene "$1"
    if [[ -z $THROWAWAY ]]; then
        say "From here on every command runs in a throwaway host that the demo made: a new network and mount"
        say "namespace with only lo (its own /run and /sys).  Your machine's network is not touched: the veths,"
        say "bridge, nft table and sysctls below live there, and vanish when the demo kills it at the end."
        throwaway_up || return 1
        show "ip -brief link"
        expect "a fresh network namespace: only lo" eval '[[ $(wc -l <<<"$OUT") -eq 1 ]] && has "lo"'
    fi
}

scene_07() {
    local bin=$1 ip
    network_scene "Step 07 · network namespace: the container has lo and eth0, one end of a veth pair" || return
    show "$bin lab-probe net"
    expect "lo and eth0 in the container, eth0 with an address and a default route" \
        eval 'status_is 0 && has "iface=lo" && has "iface=eth0" && [[ $OUT =~ addr=eth0\ [0-9.]+/[0-9]+ ]] && has "default_via="'

    scene "Step 07 · a TCP round trip between the (throwaway) host and the container"
    start_container "$bin sh -c 'lab-probe net; exec lab-probe listen 7000'" lab-probe || return
    wait_output '^listening=' || { stop_container; return; }
    ip=$(sed -n 's/^addr=eth0 \([0-9.]*\)\/.*/\1/p' "$TMP/background.out")
    show "ip -brief -4 addr"
    expect "the host's end of the veth pair has an address next to the container's ($ip)" \
        eval '[[ $(wc -l <<<"$OUT") -ge 2 ]]'
    show "$BIN/lab-probe connect $ip 7000 hello"
    expect "the container answered: reply=pong hello" eval 'status_is 0 && has "reply=pong hello"'
    await_container
    expect "the listener got the line, from the host's end of the veth, and exited 0" \
        eval 'has "got=hello" && has "peer=" && has "exit status: 0"'
}

scene_08() {
    local bin=$1 ip
    network_scene "Step 08 · bridge: two containers on nsrun0, each with an address of its own" || return
    start_container "$bin sh -c 'lab-probe net; exec lab-probe listen 7100'" lab-probe || return
    wait_output '^listening=' || { stop_container; return; }
    ip=$(sed -n 's/^addr=eth0 \([0-9.]*\)\/.*/\1/p' "$TMP/background.out")
    say "The first container is listening on $ip port 7100 (its lab-probe net said addr=eth0 $ip/…)."
    show "ip -brief -4 addr show dev nsrun0; ip -brief link show master nsrun0"
    expect "the bridge nsrun0 holds the gateway address, and the container's veth is one of its ports" \
        eval 'has "nsrun0" && [[ $OUT =~ nsr ]]'
    show "ls /run/nsrun/leases/nsrun0"
    expect "its lease, a file named by its address, under the state directory (the throwaway host's /run)" \
        eval 'status_is 0 && has "$ip" && has "lock"'
    show "$bin sh -c 'lab-probe net | grep addr=eth0; lab-probe connect $ip 7100 neighbour'"
    expect "the second container got another address and reached the first: reply=pong neighbour" \
        eval 'status_is 0 && has "reply=pong neighbour" && has "addr=eth0" && has_not "addr=eth0 $ip/"'
    await_container
    expect "the first container got the line from the second, and exited 0" \
        eval 'has "got=neighbour" && has "exit status: 0"'
}

scene_09() {
    local bin=$1 ip
    network_scene "Step 09 · port publishing: -p 8080:80, a web server reached through nftables DNAT" || return
    start_container "$bin -p 8080:80 httpd -f -p 80 -h /srv/www" httpd || return
    show "$BIN/lab-probe http-get 127.0.0.1 8080 /"
    expect "status 200 and the lab rootfs's page, from 127.0.0.1:8080 of the (throwaway) host" \
        eval 'status_is 0 && has "status=200" && has "Hello from an nsrun container"'
    show "nft list map ip nsrun publish_any"
    expect "the runtime's table ip nsrun maps tcp . 8080 to the container's address . 80" \
        eval '[[ $OUT =~ tcp\ \.\ 8080\ :\ ([0-9.]+)\ \.\ 80 ]] && ip=${BASH_REMATCH[1]}'
    stop_container
    expect "the container ended by SIGKILL: 137" has "exit status: 137"
    say "The table ip nsrun stays for the next container, like docker's chains; what was this container's goes with it."
    show "nft list ruleset"
    expect "no rule of it left: neither port 8080 nor its address ${ip:-?}" \
        eval 'status_is 0 && has_not "8080" && [[ -n $ip ]] && has_not "$ip "'
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
throwaway_down

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

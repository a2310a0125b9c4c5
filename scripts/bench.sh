#!/usr/bin/env bash
# make bench: how long it takes to start a container that runs /bin/true,
# side by side in one hyperfine run: every step binary, nsrun (once it is
# built), runc, crun, bwrap and unshare(1), all on the same lab rootfs.  Then
# where the time goes, per kernel primitive (hyperfine of the primitives
# alone, strace -T of one start, the dynamic loader's own statistics).
#
# usage: scripts/bench.sh BUILD_DIR ROOTFS OUTPUT.md     (as root)
#
# The results replace the text between the "bench:begin" and "bench:end"
# markers of OUTPUT.md; the prose around them is kept.
#
# Everything runs inside a throwaway host this script makes (a private
# network + mount namespace with its own /run, like the tests' netfixture):
# the state of runc/crun and the steps' leases live on its /run, bridges and
# nft rules of the network rows in its network namespace; all vanish with it.
# The only things made on the machine itself are cgroups (the cgroupfs is
# shared): the runtimes remove theirs, and the script checks at the end that
# none of runc's and crun's is left.  Benchmarks are never tests: `make test` does not run this.
set -euo pipefail

# Few runs: ratios side by side in one run are what matter, and on a shared
# machine a long run only collects more of everyone else's noise.
BENCH_RUNS=${BENCH_RUNS:-15}
BENCH_WARMUP=${BENCH_WARMUP:-3}

die() {
    echo "bench: $*" >&2
    exit 1
}

[[ $# -eq 3 ]] || die "usage: $0 BUILD_DIR ROOTFS OUTPUT.md"
BUILD=$(realpath -- "$1")
ROOTFS=$(realpath -- "$2")
OUTPUT=$(realpath -m -- "$3")
BIN=$BUILD/bin

# --- outside: checks, then re-run inside a throwaway host -----------------------
if [[ -z ${NSRUN_BENCH_INSIDE:-} ]]; then
    [[ $(id -u) -eq 0 ]] || die "needs root (namespaces, cgroups, runc/crun): sudo make bench"
    for tool in hyperfine runc crun bwrap jq strace unshare ip; do
        command -v "$tool" >/dev/null || die "$tool is missing: run 'sudo make bench-deps'"
    done
    for program in step01-uts step09-port-nat nsrun; do
        [[ -x $BIN/$program ]] || die "$BIN/$program is missing: run 'make build' first"
    done
    [[ -x $ROOTFS/bin/true ]] || die "the lab rootfs $ROOTFS is missing: run 'make rootfs' first"
    [[ -f $OUTPUT ]] || die "$OUTPUT is missing (it holds the prose around the generated tables)"
    grep -q '^<!-- bench:begin' "$OUTPUT" && grep -q '^<!-- bench:end' "$OUTPUT" ||
        die "$OUTPUT has no <!-- bench:begin --> … <!-- bench:end --> markers"
    NSRUN_BENCH_INSIDE=1 exec unshare --mount --net --propagation private -- "$0" "$@"
fi

# --- inside the throwaway host ----------------------------------------------------
mount -t tmpfs -o mode=755,size=64m nsrun-bench /run  # private state: /run/nsrun, runc/crun roots
ip link set lo up
WORK=$(mktemp -d /run/nsrun-bench.XXXXXX)
CGROUP_PREFIX=nsrun-bench-$$

# The cgroups of this run's runc and crun containers.  (The steps' and
# nsrun's are named by random container ids under nsrun/, shared with every
# other run on the machine; the runtimes remove their own, as their tests
# prove, so they are not checked here.)
leftover_cgroups() {
    find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$CGROUP_PREFIX*" 2>/dev/null
}
cleanup() {
    # Our runtimes' cgroups, deepest first (only ours: named by this run).
    find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -depth -type d -name "$CGROUP_PREFIX*" -exec rmdir {} + 2>/dev/null || true
}
trap cleanup EXIT

cgroups_before=$(leftover_cgroups | sort)

# An OCI bundle for runc and crun, from `runc spec`: the lab rootfs, writable,
# no terminal, /bin/true; the spec's defaults (pid, net, ipc, uts, mount
# namespaces, masked paths, capabilities) otherwise.  Each gets its own
# cgroup path, named by this run so the cleanup can find it.
make_bundle() {
    local dir=$1 cgroup=$2
    mkdir -p "$dir"
    (cd "$dir" && runc spec)
    jq --arg root "$ROOTFS" --arg cg "/$cgroup" \
        '.root = {path: $root, readonly: false} | .process.terminal = false | .process.args = ["/bin/true"]
         | .hostname = "container" | .linux.cgroupsPath = $cg' \
        "$dir/config.json" >"$dir/config.json.new"
    mv "$dir/config.json.new" "$dir/config.json"
}
make_bundle "$WORK/runc-bundle" "$CGROUP_PREFIX-runc"
make_bundle "$WORK/crun-bundle" "$CGROUP_PREFIX-crun"
mkdir -p "$WORK/runc-root" "$WORK/crun-root"

# --- 1. one container start, side by side -----------------------------------------
# hyperfine runs each command through /bin/sh and subtracts the shell's own
# start-up, so `$$` (the shell's pid) gives runc and crun a unique container
# id per run at no cost.
# Every command has a --prepare command (hyperfine takes one for all, or one
# per command): `:` for most, and for the detached rows what sets them up.
names=() commands=() prepares=()
add() { names+=("$1"); commands+=("$2"); prepares+=("${3:-:}"); }
NSRUN="$BIN/nsrun"
for step_bin in "$BIN"/step[0-9][0-9]-*; do
    step=$(basename "$step_bin")
    number=${step:4:2}
    if ((10#$number <= 3)); then
        add "$step" "$step_bin /bin/true"                      # no rootfs yet: the host's /bin/true
    elif ((10#$number <= 6)); then
        add "$step" "$step_bin --rootfs $ROOTFS /bin/true"
    else
        add "$step --network none" "$step_bin --rootfs $ROOTFS --network none /bin/true"
    fi
done
add "nsrun run --network none" "$NSRUN run --network none --rootfs $ROOTFS -- /bin/true"
# bwrap next to it: hyperfine times one command's runs, then the next one's,
# and on a VM the machine's speed drifts by ~10 % over minutes; two commands
# timed seconds apart are compared under the same conditions.  (Section 1c
# starts them in turns.)
add "bwrap --unshare-all" "bwrap --unshare-all --bind $ROOTFS / --proc /proc --dev /dev --tmpfs /tmp /bin/true"
# run -d returns once the container runs (its monitor stays); the container
# sleeps, so the next run's preparation removes it, untimed.  And rm -f of
# such a running container, prepared by an untimed run -d.
detached="$NSRUN run -d --name bench-d --network none --rootfs $ROOTFS -- /bin/sleep 1000"
remove="$NSRUN rm -f bench-d >/dev/null 2>&1"
add "nsrun run -d --network none (to running)" "$detached" "$remove || true"
add "nsrun rm -f (a running detached container)" "$remove" "$remove; $detached >/dev/null"
add "runc run" "runc --root $WORK/runc-root run --bundle $WORK/runc-bundle runc-\$\$"
# crun 1.8 refuses a hybrid cgroup layout (cgroup2 on /sys/fs/cgroup/unified);
# it runs in a private mount namespace with an empty tmpfs over that mount.
add "crun run (+ tmpfs over unified)" \
    "unshare --mount --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec crun --root $WORK/crun-root run --bundle $WORK/crun-bundle crun-\$\$'"
add "unshare --fork --pid --mount --uts --ipc --net --root" \
    "unshare --fork --pid --mount --uts --ipc --net --root $ROOTFS /bin/true"

hyperfine_args() {
    local i
    for i in "${!names[@]}"; do
        printf '%s\0%s\0%s\0' --command-name "${names[$i]}" "${commands[$i]}"
    done
    if [[ ${1:-} == --prepare ]]; then
        for i in "${!names[@]}"; do
            printf '%s\0%s\0' --prepare "${prepares[$i]}"
        done
    fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
mapfile -d '' args < <(hyperfine_args --prepare)
hyperfine --style basic --warmup "$BENCH_WARMUP" --runs "$BENCH_RUNS" \
    --export-json "$WORK/start.json" "${args[@]}" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
"$NSRUN" rm -f bench-d >/dev/null 2>&1 || true # the last timed run's container

# crun's own cost, without the extra mount namespace: the whole hyperfine
# run in one namespace with the tmpfs already over unified.
unshare --mount --propagation private sh -c "mount -t tmpfs none /sys/fs/cgroup/unified &&
    hyperfine --style basic --warmup $BENCH_WARMUP --runs $BENCH_RUNS --export-json $WORK/crun-alone.json \
      --command-name 'crun run (tmpfs mounted once)' \
      'crun --root $WORK/crun-root run --bundle $WORK/crun-bundle crun-\$\$'" >&2

# --- 1b. the OCI lifecycle: create + start + delete, as podman and containerd call it --
# The same runc-spec bundle for the three runtimes (nsrun with its own copy:
# it places its cgroup under nsrun/<id>), /bin/true, stdio to /dev/null.
# All three in one mount namespace with the tmpfs over cgroup2's unified
# mount (crun refuses the hybrid layout; see note 2): nobody pays a wrapper.
make_bundle "$WORK/nsrun-bundle" "$CGROUP_PREFIX-nsrun"
mkdir -p "$WORK/nsrun-root"
oci_cycle() { # RUNTIME ROOT BUNDLE
    echo "$1 --root $2 create --bundle $3 oci-\$\$ >/dev/null 2>&1 && $1 --root $2 start oci-\$\$ && $1 --root $2 delete --force oci-\$\$"
}
cat >"$WORK/oci-bench.sh" <<OCI
mount -t tmpfs none /sys/fs/cgroup/unified
exec hyperfine --style basic --warmup $BENCH_WARMUP --runs $BENCH_RUNS --export-json $WORK/oci.json \\
  --command-name 'nsrun create+start+delete' '$(oci_cycle "$NSRUN" "$WORK/nsrun-root" "$WORK/nsrun-bundle")' \\
  --command-name 'runc create+start+delete' '$(oci_cycle runc "$WORK/runc-root" "$WORK/runc-bundle")' \\
  --command-name 'crun create+start+delete' '$(oci_cycle crun "$WORK/crun-root" "$WORK/crun-bundle")'
OCI
unshare --mount --propagation private sh "$WORK/oci-bench.sh" >&2

# --- 1c. nsrun and bwrap (and crun) started in turns --------------------------------
# Each round starts every command once, in a random order (scripts/in-turns.py):
# a drift of the machine's speed slows all of them alike, and each round's
# ratio compares two starts made within milliseconds of each other.
BENCH_TURNS=${BENCH_TURNS:-$((BENCH_RUNS * 3))}
"$(dirname "$0")/in-turns.py" "$BENCH_TURNS" \
    "nsrun run --network none=$NSRUN run --network none --rootfs $ROOTFS -- /bin/true" \
    "bwrap --unshare-all=bwrap --unshare-all --bind $ROOTFS / --proc /proc --dev /dev --tmpfs /tmp /bin/true" \
    "crun run (+ tmpfs over unified)=unshare --mount --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec crun --root $WORK/crun-root run --bundle $WORK/crun-bundle crun-turns'" \
    >"$WORK/turns.json"

# --- 2. the primitives alone -------------------------------------------------------
# unshare(1) with one namespace at a time (the kernel's cost of making it,
# entering it and tearing it down, plus unshare's own start), the step
# binaries' start-up alone (--help: dynamic loading and CLI11, no container),
# and step 09's networking modes, which add veths, a bridge, netlink round
# trips and nft rules to a start (here in the throwaway host's network).
names=() commands=()
add "unshare (no namespace)" "unshare /bin/true"
add "unshare --uts" "unshare --uts /bin/true"
add "unshare --ipc" "unshare --ipc /bin/true"
add "unshare --fork --pid" "unshare --fork --pid /bin/true"
add "unshare --mount" "unshare --mount /bin/true"
add "unshare --net" "unshare --net /bin/true"
add "unshare --cgroup" "unshare --cgroup /bin/true"
add "unshare --user" "unshare --user /bin/true"
# mkdir+rmdir of a cgroup in three v1 hierarchies, and the same six
# programs on a tmpfs: the difference is what the cgroups cost the kernel.
add "mkdir+rmdir ×3 on a tmpfs (the baseline of the next row)" \
    "for c in memory pids cpu; do mkdir /run/$CGROUP_PREFIX-\$c && rmdir /run/$CGROUP_PREFIX-\$c; done"
add "mkdir+rmdir of a cgroup in memory, pids, cpu (v1)" \
    "for c in memory pids cpu; do mkdir /sys/fs/cgroup/\$c/$CGROUP_PREFIX-x && rmdir /sys/fs/cgroup/\$c/$CGROUP_PREFIX-x; done"
add "step09 --help (start-up: loader + CLI11)" "$BIN/step09-port-nat --help"
add "nsrun --version (start-up: loader, static constructors)" "$NSRUN --version"
add "busybox true (static start-up)" "$ROOTFS/bin/true"
run="$NSRUN run --rootfs $ROOTFS"
add "nsrun run --network none" "$run --network none -- /bin/true"
add "nsrun run --network host (no network namespace)" "$run --network host -- /bin/true"
add "nsrun run --network none --ipc host (no IPC namespace)" "$run --network none --ipc host -- /bin/true"
add "nsrun run --network none -m 64m --pids-limit 100 (limits written)" "$run --network none -m 64m --pids-limit 100 -- /bin/true"
add "nsrun run --network none --read-only" "$run --network none --read-only -- /bin/true"
add "nsrun run --network none --userns" "$run --network none --userns -- /bin/true"
add "nsrun run --network veth" "$run --network veth -- /bin/true"
add "nsrun run --network bridge" "$run --network bridge -- /bin/true"
add "nsrun run --network bridge -p 8080:80 (nftables)" "$run --network bridge -p 8080:80 -- /bin/true"
mapfile -d '' args < <(hyperfine_args)
hyperfine --style basic --warmup "$BENCH_WARMUP" --runs "$BENCH_RUNS" -i \
    --export-json "$WORK/primitives.json" "${args[@]}" >&2

# --- 3. one start under strace: time inside each kind of system call --------------
strace_bin=$NSRUN
strace_args=(run --rootfs "$ROOTFS" --network none -- /bin/true)
strace_label="nsrun run --network none"
# One file per process (-ff), so no call is split into "unfinished" and
# "resumed" halves; -yy names what each fd is (NETLINK, a cgroup file …).
trace() {
    local out=$1
    shift
    mkdir -p "$WORK/trace.$out"
    strace -ff -T -yy -qq -o "$WORK/trace.$out/t" "$@" >/dev/null 2>&1 || true
    cat "$WORK/trace.$out"/t.* >"$WORK/$out.txt"
}
trace strace "$strace_bin" "${strace_args[@]}"
strace -c -f -qq -o "$WORK/strace-c.txt" "$strace_bin" "${strace_args[@]}" >/dev/null 2>&1 || true
trace strace-nsrun "$NSRUN" run --network bridge -p 8080:80 --rootfs "$ROOTFS" -- /bin/true
loader() {
    LD_DEBUG=statistics "$@" 2>&1 >/dev/null |
        sed -n 's/^ *[0-9]*:[[:space:]]*//p' | grep -v -e '^$' -e 'runtime linker statistics' | head -8
}
loader_stats=$(loader "$BIN/step09-port-nat" --help)
loader_stats_nsrun=$(loader "$NSRUN" --version || true) # a static PIE: no loader, nothing printed
[[ -n $loader_stats_nsrun ]] || loader_stats_nsrun="(nothing: a static PIE, no dynamic loader runs)"
libraries() {
    local listed
    listed=$(ldd "$1" 2>&1 || true) # ldd fails on a static binary
    if grep -q -e 'statically linked' -e 'not a dynamic executable' <<<"$listed"; then
        echo "none (a static PIE: libnftables and libarchive are opened on first use)"
    else
        awk '$1 !~ /linux-vdso|ld-linux/ { print $1 }' <<<"$listed" | tr '\n' ' '
    fi
}

# Sum strace -T's in-kernel time per kind of call.  ptrace stops inflate
# every call, so read the sizes relative to each other.
categorize() {
    awk '
    function add(cat, t) { total[cat] += t; count[cat]++ }
    {
        if (!match($0, /<[0-9]+\.[0-9]+>$/)) next
        t = substr($0, RSTART + 1, RLENGTH - 2) * 1000
        line = $0
        if (line ~ /(clone3?|unshare)\(.*CLONE_NEWNET/)                        add("network namespace: clone/unshare with CLONE_NEWNET", t)
        else if (line ~ /(clone3?|unshare)\(.*CLONE_NEW/)                      add("other namespaces: clone/unshare (uts, pid, mount, ipc, cgroup, user)", t)
        else if (line ~ /^(clone3?|fork|vfork)\(/)                             add("plain clone/fork", t)
        else if (line ~ /^setns\(/)                                            add("setns", t)
        else if (line ~ /^umount2\("\.", MNT_DETACH/)                          add("mounts: detaching the old root after pivot_root", t)
        else if (line ~ /^(mount|umount2|pivot_root|mount_setattr|move_mount|open_tree|fsopen|fsmount|fsconfig)\(/) add("mounts: mount/umount2/pivot_root", t)
        else if (line ~ /\/sys\/fs\/cgroup/)                                   add("cgroup files: mkdir/rmdir/open/write under /sys/fs/cgroup", t)
        else if (line ~ /NETLINK/ || line ~ /socket\(AF_NETLINK/)               add("netlink: socket/sendmsg/recvmsg (rtnetlink, nftables)", t)
        else if (line ~ /^execve\(/)                                            add("execve", t)
        else if (line ~ /(openat|open)\(.*\.so/ || line ~ /\.so[.0-9]*>/)     add("dynamic loading: open/read/mmap of shared libraries", t)
        else if (line ~ /^(mmap|mprotect|munmap|brk)\(/)                        add("memory: mmap/mprotect/brk", t)
        else if (line ~ /^(wait4|waitid|read|recvfrom|recvmsg|poll|ppoll|epoll_wait|pselect6|select)\(/) add("waiting for the other side: wait4, read/recv on the handshake, poll", t)
        else                                                                   add("everything else", t)
    }
    END { for (c in total) printf "%s\t%d\t%.3f\n", c, count[c], total[c] }' "$1" | sort -t$'\t' -k3,3nr
}

# --- 4. the Markdown ------------------------------------------------------------
median_of() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median' "$1"; }

reference="nsrun run --network none"
ref_median=$(median_of "$WORK/start.json" "$reference")
ref_cpu=$(jq -r --arg n "$reference" '.results[] | select(.command == $n) | .user + .system' "$WORK/start.json")

# hyperfine's JSON → one Markdown row per command: median, mean ± σ, min,
# CPU time (user + system, the mean: what the start itself burns, much less
# disturbed by a busy machine than the wall-clock time) and the ratio of
# medians to the reference.
rows() {
    jq -r --argjson ref "$ref_median" --argjson ref_cpu "$ref_cpu" --arg mark "${2:-}" '
        def ms: . * 1000 | . * 100 | round / 100;
        def ratio: . * 100 | round / 100;
        .results[] |
        "| \(.command)\($mark) | \(.median | ms) | \(.mean | ms) ± \(.stddev | ms) | \(.min | ms) | \(.median / $ref | ratio)× | \(.user + .system | ms) | \((.user + .system) / $ref_cpu | ratio)× |"' "$1"
}

start_table() {
    echo "| runtime: \`/bin/true\` in a new container | median (ms) | mean ± σ (ms) | min (ms) | median ÷ $reference's | CPU: user+sys (ms) | CPU ÷ $reference's |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    rows "$WORK/start.json"
    rows "$WORK/crun-alone.json" " ³"
}

# Marginal cost of each step over the one before: what its primitive adds.
step_deltas() {
    echo "| step | adds | median (ms) | over the previous step (ms) | CPU: user+sys (ms) | CPU over the previous step (ms) |"
    echo "|---|---|---:|---:|---:|---:|"
    jq -r '.results[] | select(.command | startswith("step")) | "\(.command)\t\(.median)\t\(.user + .system)"' \
        "$WORK/start.json" |
    awk -F'\t' '
        BEGIN {
            adds["01"] = "UTS namespace, clone + wait, signal forwarding"
            adds["02"] = "PID namespace"
            adds["03"] = "mount namespace, private propagation, /proc"
            adds["04"] = "pivot_root into the rootfs; /sys, /dev, /tmp"
            adds["05"] = "cgroups (mkdir, limits, cgroup.procs) + cgroup namespace"
            adds["06"] = "user-namespace support (not used without --userns)"
            adds["07"] = "network namespace (--network none: lo only)"
            adds["08"] = "bridge and leases (not used with --network none)"
            adds["09"] = "nftables NAT (not used with --network none)"
        }
        {
            n = substr($1, 5, 2); m = $2 * 1000; c = $3 * 1000
            delta = (NR == 1) ? "—" : sprintf("%+.2f", m - prev)
            cdelta = (NR == 1) ? "—" : sprintf("%+.2f", c - cprev)
            printf "| %s | %s | %.2f | %s | %.2f | %s |\n", $1, adds[n], m, delta, c, cdelta
            prev = m; cprev = c
        }'
}

primitive_table() {
    echo "| what | median (ms) | mean ± σ (ms) | min (ms) | CPU: user+sys (ms) |"
    echo "|---|---:|---:|---:|---:|"
    jq -r 'def ms: . * 1000 | . * 100 | round / 100;
        .results[] | "| \(.command) | \(.median | ms) | \(.mean | ms) ± \(.stddev | ms) | \(.min | ms) | \(.user + .system | ms) |"' \
        "$WORK/primitives.json"
}

oci_table() {
    local crun_median
    crun_median=$(median_of "$WORK/oci.json" "crun create+start+delete")
    echo "| OCI lifecycle of \`/bin/true\` | median (ms) | mean ± σ (ms) | min (ms) | median ÷ crun's | CPU: user+sys (ms) |"
    echo "|---|---:|---:|---:|---:|---:|"
    jq -r --argjson ref "$crun_median" 'def ms: . * 1000 | . * 100 | round / 100;
        .results[] | "| \(.command) | \(.median | ms) | \(.mean | ms) ± \(.stddev | ms) | \(.min | ms) | \(.median / $ref * 100 | round / 100)× | \(.user + .system | ms) |"' \
        "$WORK/oci.json"
}

turns_table() {
    echo "| started in turns, $(jq -r .rounds "$WORK/turns.json") rounds | median (ms) | CPU: user+sys (ms) | median of the rounds' ratios to $reference | rounds $reference was faster in |"
    echo "|---|---:|---:|---:|---:|"
    jq -r 'def ms: . * 1000 | . * 100 | round / 100;
        .rounds as $n | .results[] |
        "| \(.command) | \(.median | ms) | \(.cpu | ms) | \(.ratio * 100 | round / 100)× | \(if .ratio == 1 then "—" else "\(.reference_faster) of \($n)" end) |"' \
        "$WORK/turns.json"
}

strace_table() {
    echo "| kind of system call | calls | time inside (ms) |"
    echo "|---|---:|---:|"
    categorize "$1" | awk -F'\t' '{ printf "| %s | %d | %.2f |\n", $1, $2, $3 }'
}

generated=$WORK/generated.md
{
    echo "<!-- bench:begin: generated by scripts/bench.sh (make bench); do not edit by hand -->"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs ($(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)),"
    echo "kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME"); load average (1, 5, 15 min)"
    echo "$load_before before the run and $load_after after it. hyperfine: $BENCH_WARMUP warm-up runs,"
    echo "$BENCH_RUNS timed runs per command, each through \`/bin/sh -c\` with the shell's start-up subtracted."
    echo "Versions: $(hyperfine --version), $(runc --version | head -1), $(crun --version | head -1), $(bwrap --version), $(unshare --version)."
    echo
    echo "### Starting a container"
    echo
    start_table
    echo
    echo "Notes:"
    echo
    echo "1. Steps 01–03 have no root filesystem yet: they run the host's \`/bin/true\`, dynamically linked."
    echo "   From step 04 on, every runtime runs the lab rootfs's \`/bin/true\` (static busybox)."
    echo "2. crun 1.8 refuses to start on this machine's hybrid cgroup layout (cgroup2 mounted on"
    echo "   \`/sys/fs/cgroup/unified\`), so each of its runs is wrapped in \`unshare --mount\` with an empty"
    echo "   tmpfs over that mount. The wrapper (a mount namespace, a mount, a \`sh\`) is counted in its time."
    echo "3. The same crun in a separate hyperfine run, inside one mount namespace where the tmpfs is"
    echo "   mounted once: crun's own cost."
    echo "4. runc and crun run an OCI bundle made by \`runc spec\` (pid, network, ipc, uts, mount namespaces,"
    echo "   masked and read-only paths, default capabilities), root = the lab rootfs, writable."
    echo "   bwrap binds the rootfs on / with its own /proc, /dev and /tmp."
    echo "5. CPU is the mean user + system time of the runtime and all its children (hyperfine's"
    echo "   rusage): the work a start does, which a busy machine disturbs far less than the wall clock."
    echo "   Kernel work deferred to worker threads (a network namespace's destruction) is not in it."
    echo "   bwrap's is short of its work: its first process exits as soon as the container's PID 1"
    echo "   reports the command's status, without waiting for that PID 1 (which did the mounts), so"
    echo "   no rusage holds the PID 1's time. Counted with a cpuacct cgroup of their own around 60"
    echo "   starts each, bwrap and nsrun used about the same CPU (11.2 and 11.6 ms a start, beyond a"
    echo "   shell's fork and exec of /bin/true, on the reference VM, 2026-12-06). bwrap's wall time"
    echo "   ends there too, while its container's namespaces are still being torn down; nsrun's after"
    echo "   that (it removes the cgroup, which waits for it)."
    echo "6. \`nsrun run -d\` is timed until it returns, i.e. until the container has exec'd its command"
    echo "   (\`/bin/sleep 1000\`) under its monitor; the monitor is not the client's child, so its CPU is"
    echo "   not in the CPU column. Each run's preparation (untimed) removes the previous one. \`nsrun rm -f\`"
    echo "   is timed on a running detached container made by an untimed \`run -d\`: SIGKILL, the monitor's"
    echo "   teardown, the record removed."
    echo
    echo "### The OCI lifecycle: create, start, delete"
    echo
    echo "Three invocations per run, as podman's conmon and containerd's shim make them: \`create\` (the"
    echo "init set up and blocked on the exec fifo), \`start\` (it execs \`/bin/true\`), \`delete --force\`"
    echo "(cgroups and state removed). Same runc-spec bundle, all three runtimes in one mount namespace"
    echo "with the tmpfs over the unified mount (note 2), so none pays a wrapper."
    echo
    oci_table
    echo
    echo "### nsrun, bwrap and crun started in turns"
    echo
    echo "The table above times each command's runs one after another. Here every round starts each of"
    echo "these once, in a new random order (\`scripts/in-turns.py\`, no shell in between), so that a drift"
    echo "of the machine's speed slows all of them alike; the ratio is the median of the rounds' ratios."
    echo
    turns_table
    echo
    echo "### What each step adds"
    echo
    step_deltas
    echo
    echo "### The primitives alone"
    echo
    primitive_table
    echo
    echo "### One start under strace -f -T: $strace_label"
    echo
    echo "Time spent inside the kernel per kind of call, summed over all processes of one start."
    echo "ptrace stops slow every call down, so compare the rows with each other, not with the table above."
    echo
    strace_table "$WORK/strace.txt"
    if [[ -s $WORK/strace-nsrun.txt ]]; then
        echo
        echo "The same for \`nsrun run --network bridge -p 8080:80\`:"
        echo
        strace_table "$WORK/strace-nsrun.txt"
    fi
    echo
    echo "The busiest calls (\`strace -c -f\`, same command):"
    echo
    echo '```'
    head -n 20 "$WORK/strace-c.txt"
    echo '```'
    echo
    echo "The dynamic loader's own account of a start-up (\`LD_DEBUG=statistics\`), step 09 (\`--help\`)"
    echo "and nsrun (\`--version\`), with the shared libraries each one loads:"
    echo
    echo "- step09-port-nat: $(libraries "$BIN/step09-port-nat")"
    echo "- nsrun: $(libraries "$NSRUN")"
    echo
    echo '```'
    echo "step09-port-nat --help:"
    echo "$loader_stats"
    echo
    echo "nsrun --version:"
    echo "$loader_stats_nsrun"
    echo '```'
    echo
    echo "<!-- bench:end -->"
} >"$generated"

# Splice the generated block between the markers of OUTPUT.md.
awk -v block="$generated" '
    /^<!-- bench:begin/ { while ((getline line < block) > 0) print line; skip = 1; next }
    /^<!-- bench:end/   { skip = 0; next }
    !skip { print }' "$OUTPUT" >"$WORK/out.md"
cat "$WORK/out.md" >"$OUTPUT"

# --- nothing may be left -----------------------------------------------------------
cleanup
cgroups_after=$(leftover_cgroups | sort)
if [[ "$cgroups_after" != "$cgroups_before" ]]; then
    echo "bench: cgroups left behind:" >&2
    comm -13 <(echo "$cgroups_before") <(echo "$cgroups_after") >&2
    exit 1
fi
echo "bench: wrote $OUTPUT" >&2

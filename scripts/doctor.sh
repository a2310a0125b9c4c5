#!/bin/sh
# make doctor: which steps of the course work on this machine, which do not,
# why, and the fix.  POSIX sh (runs under dash and busybox ash too).
#
# It only reads, except as root, where it tries each kernel feature the steps
# need inside a throwaway namespace (a new network namespace, gone when the
# probe exits): nothing on this machine's own network, cgroups or mounts changes.
#
# Environment (for tests, and to ask about another clone):
#   NSRUN_CLONE   the clone to check (default: the one holding this script)
#   NSRUN_ROOTFS  the lab rootfs (default: $NSRUN_CLONE/rootfs/lab)
#   BUILD         the build directory (default: build)
#   NSRUN_DOCTOR_FAKE_ROOT
#                 for the fake-based tests (tests/doctor/doctor_fake_test.sh): a
#                 directory read instead of / for the machine's state (proc/...,
#                 sys/fs/cgroup/..., etc/subuid, .dockerenv); the kernel probes
#                 are then skipped, since they would try this machine instead
# Exit status: 0 when every step 01-09 can run here as root, 1 otherwise.

PATH=$PATH:/usr/sbin:/sbin
R=${NSRUN_DOCTOR_FAKE_ROOT:-}       # "" on a real machine
clone=${NSRUN_CLONE:-$(cd "$(dirname "$0")/.." && pwd)}
rootfs=${NSRUN_ROOTFS:-$clone/rootfs/lab}
build=${BUILD:-build}
case $build in /*) ;; *) build=$clone/$build ;; esac
# --userns as root maps container root to this host uid (the default 0:100000:65536).
userns_uid=100000

fails=0
have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '%s\n' "$*"; }
# row LABEL STATUS TEXT: one aligned line; "no" counts towards the exit status.
row() { printf '  %-12s %-5s %s\n' "$1" "$2" "$3"; }
fix() { printf '  %-12s %-5s fix: %s\n' "" "" "$*"; }
why() { printf '  %-12s %-5s %s\n' "" "" "$*"; }
read1() { [ -r "$1" ] && head -n 1 "$1" 2>/dev/null; }

# --- who and where ---------------------------------------------------------
uid=$(id -u)
user_uid=${SUDO_UID:-$uid}          # the learner behind sudo, for the rootless checks
user_gid=${SUDO_GID:-$(id -g)}
user_name=$(awk -F: -v u="$user_uid" '$3 == u { print $1; exit }' /etc/passwd 2>/dev/null)
user_name=${user_name:-uid $user_uid}
kernel=$(uname -r)
os=$(. "$R/etc/os-release" 2>/dev/null && echo "${PRETTY_NAME:-$NAME}")
# As root, each kernel feature is tried in a throwaway namespace ("probes");
# never with a fake root, which describes another machine.
probe=no
[ "$uid" -eq 0 ] && [ -z "$R" ] && have unshare && probe=yes

# Inside a container?  Each runtime leaves its own mark.
container=""
if [ -e "$R/.dockerenv" ]; then container="docker (/.dockerenv)"
elif [ -e "$R/run/.containerenv" ]; then container="podman (/run/.containerenv)"
elif [ -r "$R/proc/1/environ" ] && tr '\0' '\n' <"$R/proc/1/environ" 2>/dev/null | grep -q '^container='; then
  container="$(tr '\0' '\n' <"$R/proc/1/environ" | sed -n 's/^container=//p') (container= in PID 1's environment)"
elif grep -qE '^[0-9]+:[^:]*:/(docker|lxc|kubepods|libpod|machine\.slice)' "$R/proc/1/cgroup" 2>/dev/null; then
  container="yes ($(grep -m1 -oE '/(docker|lxc|kubepods|libpod|machine\.slice)[^ ]*' "$R/proc/1/cgroup") in /proc/1/cgroup)"
fi
wsl=""
grep -qiE 'microsoft|wsl' "$R/proc/version" 2>/dev/null && wsl="yes"

say "nsrun doctor: what of the course works on this machine"
say ""
say "The machine"
row system "" "${os:-unknown Linux}, kernel $kernel, $(uname -m)"
if [ -n "$R" ]; then
  row you "" "$user_name; the machine described is the fake one under $R (no kernel feature is tried)"
elif [ "$uid" -eq 0 ]; then
  row you "" "root${SUDO_USER:+ (through sudo, for $SUDO_USER)}: every kernel feature is tried in a throwaway namespace"
else
  row you "" "$user_name (uid $uid), not root: steps 01-05 need root, so their kernel checks are from /proc and /sys only"
  why "run sudo make doctor for the full check"
fi
[ -n "$container" ] && { row inside warn "a container: $container";
  why "namespaces, cgroups and network steps work only if the container was started privileged";
  why "(docker run --privileged, podman run --privileged); the checks below tell what this one allows"; }
[ -n "$wsl" ] && { row inside warn "WSL2 ($(cut -c1-60 "$R/proc/version"))";
  why "WSL2's kernel has namespaces; cgroup v2 needs 'kernelCommandLine = cgroup_no_v1=all' in .wslconfig,";
  why "and the network steps need WSL's kernel with veth/bridge/nf_tables (the checks below tell)"; }

# --- cgroups ---------------------------------------------------------------
# The layout, from /proc/self/mountinfo: field 5 is the mount point, the field
# after " - " the file system type.
mounts=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $5, $(i + 1); break } }' "$R/proc/self/mountinfo" 2>/dev/null)
cg2_at=$(printf '%s\n' "$mounts" | awk '$2 == "cgroup2" { print $1; exit }')
v1_count=$(printf '%s\n' "$mounts" | awk '$2 == "cgroup"' | grep -c .)
if [ "$cg2_at" = /sys/fs/cgroup ]; then layout=v2
elif [ "$v1_count" -gt 0 ] && [ -n "$cg2_at" ]; then layout=hybrid
elif [ "$v1_count" -gt 0 ]; then layout=v1
elif [ -n "$cg2_at" ]; then layout=v2
else layout=none
fi
# v1: is there a hierarchy holding this controller?  (cpu may share one with cpuacct)
# (the super options, the last field of a "cgroup" mount, name its controllers)
v1_has() {
  awk -v c="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") break }
    $(i + 1) == "cgroup" { n = split($NF, o, ","); for (j = 1; j <= n; j++) if (o[j] == c) found = 1 }
    END { exit !found }' "$R/proc/self/mountinfo"
}
v2_root_controllers=""
[ -n "$cg2_at" ] && v2_root_controllers=$(read1 "$R$cg2_at/cgroup.controllers")
limits_ok=no; limits_how=""
needed="memory cpu pids"
missing_v2=""; for c in $needed; do case " $v2_root_controllers " in *" $c "*) ;; *) missing_v2="$missing_v2 $c" ;; esac; done
missing_v1=""; for c in $needed; do v1_has "$c" || missing_v1="$missing_v1 $c"; done

say ""
say "Cgroups (step 05 limits memory, CPU and processes)"
case $layout in
  v2)
    row layout "" "v2 (unified): /sys/fs/cgroup is a cgroup2 mount"
    row available "" "${v2_root_controllers:-(none)}  (/sys/fs/cgroup/cgroup.controllers)"
    row enabled "" "$(read1 "$R/sys/fs/cgroup/cgroup.subtree_control")  (/sys/fs/cgroup/cgroup.subtree_control)"
    if [ -z "$missing_v2" ]; then limits_ok=yes; limits_how="cgroup v2"; fi ;;
  hybrid)
    row layout "" "hybrid: cgroup v1 hierarchies in /sys/fs/cgroup, cgroup2 at $cg2_at"
    row v2 "" "controllers at $cg2_at: ${v2_root_controllers:-(none: they are bound to v1)}"
    row v1 "" "hierarchies: $(printf '%s\n' "$mounts" | awk '$2 == "cgroup" { sub(".*/", "", $1); printf "%s ", $1 }')"
    if [ -z "$missing_v2" ]; then limits_ok=yes; limits_how="cgroup v2 at $cg2_at"
    elif [ -z "$missing_v1" ]; then limits_ok=yes; limits_how="cgroup v1 hierarchies"; fi ;;
  v1)
    row layout "" "v1: one hierarchy per controller under /sys/fs/cgroup"
    row v1 "" "hierarchies: $(printf '%s\n' "$mounts" | awk '$2 == "cgroup" { sub(".*/", "", $1); printf "%s ", $1 }')"
    [ -z "$missing_v1" ] && { limits_ok=yes; limits_how="cgroup v1 hierarchies"; } ;;
  none)
    row layout no "no cgroup file system is mounted" ;;
esac
# No usable controllers (typical in a container or WSL2): the steps still run,
# without a cgroup, and say so; only a limit flag fails.
case $layout in v2) cg_missing=$missing_v2 ;; none) cg_missing=" $needed" ;; *) cg_missing=$missing_v1 ;; esac
if [ -n "$wsl" ]; then
  cg_fix="WSL2: put 'kernelCommandLine = cgroup_no_v1=all' under [wsl2] in %UserProfile%\\.wslconfig, then wsl --shutdown"
elif [ -n "$container" ]; then
  cg_fix="start the container with --privileged on a cgroup-v2 host (docker and podman then delegate memory, cpu and pids to it)"
else
  cg_fix="boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1 on the kernel command line)"
fi
if [ "$limits_ok" = no ]; then
  row controllers no "missing:$cg_missing: --memory/--cpus/--pids-limit exit 125;"
  why "without a limit flag steps 05-09 run with no cgroup and say so in one line"
  fix "$cg_fix"
fi
# Rootless: limits need a cgroup delegated to the user (systemd's user@UID.service on v2).
own_cg=$(sed -n 's/^0:://p' "$R/proc/self/cgroup" 2>/dev/null)
if [ "$uid" -ne 0 ] && [ "$layout" = v2 ] && [ -n "$own_cg" ]; then
  dir=/sys/fs/cgroup$own_cg
  if [ -w "$R$dir/cgroup.subtree_control" ] || [ -w "$R$(dirname "$dir")/cgroup.subtree_control" ]; then
    row delegated ok "$dir is yours: rootless limits can work ($(read1 "$R$dir/cgroup.controllers"))"
  else
    row delegated warn "no cgroup is delegated to $user_name: rootless runs ignore --memory/--cpus/--pids-limit"
    fix "log in through systemd (user@$uid.service delegates a cgroup), or run as root"
  fi
fi

# --- user namespaces -------------------------------------------------------
say ""
say "User namespaces (step 06 --userns, and every rootless run)"
max_userns=$(read1 "$R/proc/sys/user/max_user_namespaces")
unpriv_clone=$(read1 "$R/proc/sys/kernel/unprivileged_userns_clone")
aa_restrict=$(read1 "$R/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
userns_ok=yes; rootless_ok=yes
if [ "${max_userns:-0}" -gt 0 ] 2>/dev/null; then
  row max ok "user.max_user_namespaces = $max_userns"
else
  row max no "user.max_user_namespaces = ${max_userns:-missing}: the kernel allows no user namespace"
  fix "sudo sysctl -w user.max_user_namespaces=15000"
  userns_ok=no; rootless_ok=no
fi
if [ -n "$unpriv_clone" ]; then
  if [ "$unpriv_clone" = 0 ]; then
    row clone no "kernel.unprivileged_userns_clone = 0: only root may create user namespaces"
    fix "sudo sysctl -w kernel.unprivileged_userns_clone=1"
    rootless_ok=no
  else row clone ok "kernel.unprivileged_userns_clone = $unpriv_clone"; fi
fi
if [ -n "$aa_restrict" ]; then
  if [ "$aa_restrict" = 1 ]; then
    row apparmor no "kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 23.10+): rootless runs get EPERM"
    fix "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0  (or an AppArmor profile with 'userns,' for the step binaries)"
    rootless_ok=no
  else row apparmor ok "kernel.apparmor_restrict_unprivileged_userns = $aa_restrict"; fi
fi
sub_line=$(grep -E "^($user_name|$user_uid):" "$R/etc/subuid" 2>/dev/null | head -n 1)
if [ -n "$sub_line" ]; then row subuid ok "/etc/subuid: $sub_line"
else row subuid "" "/etc/subuid has no range for $user_name: not needed (rootless maps only your own uid)"; fi

# --- helpers for probes ----------------------------------------------------
# as_user CMD...: run CMD as the learner (root running through sudo drops to SUDO_UID).
as_user() {
  if [ "$uid" -ne 0 ]; then "$@"
  elif [ "$user_uid" -ne 0 ] && have setpriv; then
    setpriv --reuid="$user_uid" --regid="$user_gid" --clear-groups "$@"
  else return 2; fi
}
# kmod_state NAME: loaded | built in | loadable | missing | unknown
kmod_state() {
  if [ -d "$R/sys/module/$1" ] || grep -q "^$1 " "$R/proc/modules" 2>/dev/null; then echo loaded
  elif grep -q "/$1\.ko" "$R/lib/modules/$kernel/modules.builtin" 2>/dev/null; then echo "built in"
  elif grep -q "/$1\.ko" "$R/lib/modules/$kernel/modules.dep" 2>/dev/null; then echo loadable
  elif [ -r "$R/lib/modules/$kernel/modules.dep" ]; then echo missing
  else echo unknown; fi
}

if [ "$probe" = yes ]; then
  if unshare -U true 2>/dev/null; then row probe ok "unshare(CLONE_NEWUSER) works as root"
  else row probe no "unshare(CLONE_NEWUSER) fails as root$( [ -n "$container" ] && echo ': the container forbids it')"
    userns_ok=no; fi
fi
if [ "$rootless_ok" = yes ] && have unshare && [ -z "$R" ]; then
  as_user unshare -U -r true 2>/dev/null; rc=$?
  if [ $rc -eq 0 ]; then row rootless ok "$user_name can create a user namespace (unshare -U -r true)"
  elif [ $rc -ne 2 ]; then row rootless no "$user_name cannot create a user namespace (unshare -U -r fails)"
    rootless_ok=no; fi
fi

# --- network ---------------------------------------------------------------
say ""
say "Network (07 veth pairs, 08 a bridge, 09 nftables NAT)"
net_veth=unknown; net_bridge=unknown; net_nft=unknown
probe_net() { unshare -n sh -c "$1" >/dev/null 2>&1; }
if [ "$probe" = yes ] && have ip; then
  probe_net 'ip link add nsdoc0 type veth peer name nsdoc1' && net_veth=yes || net_veth=no
  probe_net 'ip link add nsdoc0 type bridge' && net_bridge=yes || net_bridge=no
  if have nft; then
    probe_net 'nft "add table ip nsdoc; add chain ip nsdoc pre { type nat hook prerouting priority -100; }; add rule ip nsdoc pre tcp dport 1 dnat to 10.0.0.1"' \
      && net_nft=yes || net_nft=no
  fi
  how="tried in a throwaway network namespace"
else
  how="from the module lists"
fi
net_row() { # LABEL PROBE-RESULT MODULE...
  label=$1; result=$2; shift 2; states=""
  for m in "$@"; do states="$states${states:+, }$m $(kmod_state "$m")"; done
  case $result in
    yes) row "$label" ok "works ($how)" ;;
    no) row "$label" no "fails ($how; modules: $states)"; fix "sudo modprobe $*  (or a kernel built with them)" ;;
    *) case $states in *missing*) row "$label" no "modules: $states"; fix "a kernel built with these modules" ;;
         *) row "$label" "" "modules: $states (${R:+not tried on a fake machine}${R:-run as root to try it})" ;; esac ;;
  esac
}
net_row veth "$net_veth" veth
net_row bridge "$net_bridge" bridge
net_row nftables "$net_nft" nf_tables nft_chain_nat nf_nat
[ "$net_veth" = no ] && fails=1
[ "$net_bridge" = no ] && fails=1
[ "$net_nft" = no ] && fails=1

# --- the clone's directories -----------------------------------------------
# searchable_by UID GID DIR: can that user pass through DIR (x permission)?
searchable_by() {
  set -- "$1" "$2" "$(stat -L -c '%a %u %g' "$3" 2>/dev/null)"
  [ -n "$3" ] || return 0
  # shellcheck disable=SC2086
  set -- "$1" "$2" $3
  mode=$3; owner=$4; group=$5
  [ "$1" -eq 0 ] && return 0
  perm=$(printf '%04d' "$mode" | cut -c2-4)
  if [ "$owner" = "$1" ]; then bit=$(echo "$perm" | cut -c1)
  elif [ "$group" = "$2" ] || { [ "$1" = "$user_uid" ] && id -G "$user_uid" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; }; then
    bit=$(echo "$perm" | cut -c2)
  else bit=$(echo "$perm" | cut -c3); fi
  [ $((bit % 2)) -eq 1 ]
}
# first_blocker UID GID PATH: the first directory on PATH that UID cannot search.
first_blocker() {
  p=$3; list=""
  while :; do list="$p $list"; [ "$p" = / ] && break; p=$(dirname "$p"); done
  for d in $list; do
    [ -d "$d" ] || continue
    searchable_by "$1" "$2" "$d" || { echo "$d"; return; }
  done
}
say ""
say "The clone ($clone)"
blocked_userns=$(first_blocker "$userns_uid" "$userns_uid" "$rootfs")
if [ -n "$blocked_userns" ]; then
  row dirs no "$blocked_userns ($(stat -c '%A %U' "$blocked_userns")) is not searchable by uid $userns_uid,"
  why "the host uid of container root with --userns: step 06+ with --userns cannot reach the rootfs"
  fix "chmod o+x $blocked_userns   (or clone elsewhere, e.g. /opt or /srv)"
  userns_ok=no
else
  row dirs ok "every directory above the rootfs is searchable by uid $userns_uid (--userns)"
fi
if [ "$user_uid" -ne 0 ]; then
  blocked_user=$(first_blocker "$user_uid" "$user_gid" "$rootfs")
  if [ -n "$blocked_user" ]; then
    row rootless no "$blocked_user is not searchable by $user_name: rootless runs cannot reach the rootfs"
    fix "chmod u+x,o+x $blocked_user"
    rootless_ok=no
  fi
fi
if [ -x "$rootfs/bin/sh" ]; then row rootfs ok "$rootfs is built"
else row rootfs "" "$rootfs is not built yet: make rootfs (or make test) builds it"; fi

# --- packages --------------------------------------------------------------
say ""
say "Tools and packages (make deps installs them)"
missing=""
for t in cmake make c++ pkg-config busybox ip nsenter setpriv unshare ps nft doxygen dot; do
  have "$t" || missing="$missing $t"
done
hdr() { for d in /usr/include /usr/local/include; do [ -e "$d/$1" ] && return 0; done; return 1; }
hdr CLI/CLI.hpp || missing="$missing CLI11"
hdr fmt/format.h || missing="$missing fmt"
hdr gtest/gtest.h || missing="$missing gtest"
hdr gmock/gmock.h || missing="$missing gmock"
hdr nftables/libnftables.h || missing="$missing libnftables"
built=no; [ -x "$build/bin/step09-port-nat" ] && built=yes
if [ -z "$missing" ]; then row tools ok "everything to build and test is installed"
else
  row tools warn "missing:$missing"
  fix "sudo make deps  (on other systems scripts/deps.sh names the packages)"
  [ "$built" = no ] && fails=1
fi

# --- step by step ----------------------------------------------------------
say ""
say "Step by step, as root"
ns_ok=unknown
if [ "$probe" = yes ]; then
  unshare -u -m -p -f true 2>/dev/null && ns_ok=yes || ns_ok=no
fi
step() { # NUMBER NAME yes|no|unknown WHY FIX
  case $3 in
    yes) row "$1 $2" ok "$4" ;;
    unknown) row "$1 $2" "?" "$4 (not tried: ${R:+a fake machine}${R:-run as root})" ;;
    *) row "$1 $2" no "$4"; fix "$5"; fails=1 ;;
  esac
}
ns_why="UTS, PID and mount namespaces"
ns_fix="run as root; in a container, start it with --privileged"
step 01 uts "$ns_ok" "$ns_why" "$ns_fix"
step 02 pid "$ns_ok" "$ns_why" "$ns_fix"
step 03 mount "$ns_ok" "$ns_why" "$ns_fix"
step 04 rootfs "$ns_ok" "pivot_root into $rootfs" "$ns_fix"
if [ "$limits_ok" = yes ]; then step 05 cgroups yes "limits through $limits_how" ""
else step 05 cgroups no "no limits: controllers missing:$cg_missing ($layout layout); runs without a cgroup" "$cg_fix"
fi
step 06 user "$userns_ok" "--userns maps container root to uid $userns_uid" \
  "see 'User namespaces' and 'The clone' above"
step 07 netns "$net_veth" "a veth pair into the container" "sudo modprobe veth"
step 08 bridge "$net_bridge" "a host bridge" "sudo modprobe bridge"
step 09 port-nat "$net_nft" "nftables DNAT" "sudo modprobe nf_tables nft_chain_nat nf_nat"

say ""
say "Rootless (as $user_name, no sudo)"
if [ "$user_uid" -eq 0 ]; then
  row rootless "" "not checked: run make doctor as your own user (or through sudo) to check it"
elif [ "$rootless_ok" = yes ]; then
  row "06-09" ok "in a user namespace mapping root to uid $user_uid; networking falls back to --network none"
  row "01-05" no "need root (CAP_SYS_ADMIN for the namespaces): sudo"
else
  row "06-09" no "rootless cannot create its user namespace: see 'User namespaces' and 'The clone' above"
fi

say ""
if [ "$fails" -eq 0 ] && [ "$uid" -ne 0 ]; then say "Verdict: nothing found that stops a step; sudo make doctor tries the kernel features too."
elif [ "$fails" -eq 0 ]; then say "Verdict: every step can run here as root."
else say "Verdict: some steps cannot run here yet; each 'no' above has its fix."; fi
exit "$fails"

#!/bin/sh
# Fake-based tests of scripts/doctor.sh: logic only, no kernel.  Each case
# builds a fake machine (proc/self/mountinfo, proc/sys/..., sys/fs/cgroup/...,
# proc/version, .dockerenv) in a temporary directory and runs doctor with
# NSRUN_DOCTOR_FAKE_ROOT pointing there, so it reads those files instead of
# this machine's and tries no kernel feature.  The cases are the setups a
# learner may have and this machine is not: cgroup v2 only, Ubuntu 24.04's
# AppArmor restriction on user namespaces, user namespaces switched off by
# sysctl, a container and WSL2 without cgroup controllers.  Every "no" must
# come with its fix.
# usage: doctor_fake_test.sh SOURCE_DIR
src=${1:?usage: doctor_fake_test.sh SOURCE_DIR}
doctor=$src/scripts/doctor.sh
failed=0
check() { # DESCRIPTION COMMAND...
  d=$1; shift
  if "$@"; then echo "ok:   $d"; else echo "FAIL: $d"; failed=1; fi
}
# has PATTERN: the last doctor output has a line matching the extended regex.
has() { printf '%s\n' "$out" | grep -qE -- "$1"; }
hasnt() { ! has "$1"; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# fake_machine NAME: a fresh fake root with sane defaults (user namespaces allowed).
fake_machine() {
  root=$tmp/$1
  mkdir -p "$root/proc/self" "$root/proc/1" "$root/proc/sys/user" "$root/proc/sys/kernel" \
    "$root/sys/fs/cgroup" "$root/etc"
  echo 63000 >"$root/proc/sys/user/max_user_namespaces"
  echo "Linux version 6.8.0-generic (buildd@ubuntu) #1 SMP" >"$root/proc/version"
  echo "0::/init.scope" >"$root/proc/1/cgroup"
  echo "0::/user.slice/user-1000.slice/session-1.scope" >"$root/proc/self/cgroup"
  echo 'PRETTY_NAME="Fake Linux"' >"$root/etc/os-release"
  echo "learner:100000:65536" >"$root/etc/subuid"
}
# A cgroup-v2-only mount table, as systemd sets it up.
mounts_v2() {
  cat >"$root/proc/self/mountinfo" <<'MI'
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
MI
}
# run_doctor ROOT [VAR=VALUE...]: doctor on that fake machine; sets out and rc.
run_doctor() {
  r=$1; shift
  out=$(env NSRUN_DOCTOR_FAKE_ROOT="$r" NSRUN_CLONE="$src" "$@" sh "$doctor" 2>&1); rc=$?
  printf '%s\n' "$out" | sed 's/^/  | /'
}

echo "== cgroup v2 only, every controller (Debian 12, Fedora, Arch)"
fake_machine v2
mounts_v2
echo "cpuset cpu io memory hugetlb pids rdma misc" >"$root/sys/fs/cgroup/cgroup.controllers"
echo "cpu memory pids" >"$root/sys/fs/cgroup/cgroup.subtree_control"
run_doctor "$root"
check "names the layout v2" has '^  layout +v2 \(unified\)'
check "lists the controllers at the root" has '^  available +cpuset cpu io memory'
check "step 05 limits through cgroup v2" has '^  05 cgroups +ok +limits through cgroup v2$'
check "tries no kernel feature on a fake machine" hasnt '^  probe '
check "names no container" hasnt '^  inside '

echo "== Ubuntu 24.04: AppArmor restricts unprivileged user namespaces"
fake_machine apparmor
mounts_v2
echo "cpuset cpu io memory pids" >"$root/sys/fs/cgroup/cgroup.controllers"
echo 1 >"$root/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
run_doctor "$root" SUDO_UID=1000 SUDO_GID=1000
check "the AppArmor sysctl is named as blocking" \
  has '^  apparmor +no +kernel\.apparmor_restrict_unprivileged_userns = 1'
check "with its fix" has 'fix: sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0'
check "rootless steps 06-09 say no" has '^  06-09 +no '
check "and the exit status stays 0 (root is not affected: $rc)" [ "$rc" -eq 0 ]
echo 0 >"$root/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
run_doctor "$root" SUDO_UID=1000 SUDO_GID=1000
check "set to 0 it is ok" has '^  apparmor +ok +kernel\.apparmor_restrict_unprivileged_userns = 0'
check "and rootless steps 06-09 say ok" has '^  06-09 +ok '

echo "== user namespaces switched off by sysctl"
fake_machine nouserns
mounts_v2
echo "cpu memory pids" >"$root/sys/fs/cgroup/cgroup.controllers"
echo 0 >"$root/proc/sys/user/max_user_namespaces"
echo 0 >"$root/proc/sys/kernel/unprivileged_userns_clone"
run_doctor "$root" SUDO_UID=1000 SUDO_GID=1000
check "max_user_namespaces = 0 is named" has '^  max +no +user\.max_user_namespaces = 0'
check "with its fix" has 'fix: sudo sysctl -w user\.max_user_namespaces=15000'
check "unprivileged_userns_clone = 0 (Debian 10, older Ubuntu) is named" \
  has '^  clone +no +kernel\.unprivileged_userns_clone = 0'
check "with its fix" has 'fix: sudo sysctl -w kernel\.unprivileged_userns_clone=1'
check "step 06 says no" has '^  06 user +no '
check "and the exit status is 1 ($rc)" [ "$rc" -eq 1 ]

echo "== inside a docker container without cgroup controllers"
fake_machine container
mounts_v2
: >"$root/.dockerenv"
echo "0::/" >"$root/proc/1/cgroup"
: >"$root/sys/fs/cgroup/cgroup.controllers"
run_doctor "$root"
check "the container is named with its evidence" has '^  inside +warn +a container: docker \(/\.dockerenv\)'
check "the missing controllers are named" has '^  controllers +no +missing: memory cpu pids'
check "runs without a cgroup when no limit is asked" has 'without a limit flag steps 05-09 run with no cgroup'
check "the fix is a privileged container" has 'fix: start the container with --privileged'
check "step 05 says no" has '^  05 cgroups +no '
check "and the exit status is 1 ($rc)" [ "$rc" -eq 1 ]

echo "== WSL2: cgroup v1, no memory or pids hierarchy"
fake_machine wsl
echo "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@1c602f52c2e4) #1 SMP" >"$root/proc/version"
cat >"$root/proc/self/mountinfo" <<'MI'
22 1 8:32 / / rw,relatime - ext4 /dev/sdc rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu,cpuacct
MI
run_doctor "$root"
check "WSL2 is named" has '^  inside +warn +WSL2 '
check "the layout is v1" has '^  layout +v1:'
check "memory and pids are named missing" has '^  controllers +no +missing: memory pids'
check "the fix is WSL's kernel command line" has "fix: WSL2: put 'kernelCommandLine = cgroup_no_v1=all'"
check "step 05 says no" has '^  05 cgroups +no '

if command -v busybox >/dev/null && busybox ash -c true 2>/dev/null; then
  echo "== the container case under busybox ash"
  out=$(NSRUN_DOCTOR_FAKE_ROOT="$tmp/container" NSRUN_CLONE="$src" busybox ash "$doctor" 2>&1)
  check "the same report" has '^  controllers +no +missing: memory cpu pids'
fi
exit $failed

#!/bin/sh
# Tests of scripts/doctor.sh on the machine it runs on (no faked kernel):
#  - the cgroup layout it names is the one /proc/self/mountinfo shows, read here
#    independently (with grep instead of its awk);
#  - a clone under a 0750 directory is reported, naming that directory and the fix,
#    and the same tree at 0755 is not;
#  - its exit status agrees with its step table (0 exactly when no step says "no");
#  - it runs the same under busybox ash (the shell of the cgroup-v2 test VM).
# usage: doctor_test.sh SOURCE_DIR
src=${1:?usage: doctor_test.sh SOURCE_DIR}
doctor=$src/scripts/doctor.sh
failed=0
check() { # DESCRIPTION COMMAND...
  d=$1; shift
  if "$@"; then echo "ok:   $d"; else echo "FAIL: $d"; failed=1; fi
}

# The layout, independently: a cgroup2 mount on /sys/fs/cgroup is v2; v1
# hierarchies with a cgroup2 mount elsewhere is hybrid; v1 alone is v1.
mi=/proc/self/mountinfo
if grep -qE '^[^ ]+ [^ ]+ [^ ]+ [^ ]+ /sys/fs/cgroup .* - cgroup2 ' $mi; then want=v2
elif grep -q ' - cgroup ' $mi && grep -q ' - cgroup2 ' $mi; then want=hybrid
elif grep -q ' - cgroup ' $mi; then want=v1
elif grep -q ' - cgroup2 ' $mi; then want=v2
else want=none; fi

out=$(sh "$doctor" 2>&1); rc=$?
echo "$out" | sed 's/^/  | /'
layout=$(echo "$out" | awk '$1 == "layout" { print ($2 == "no" ? "none" : $2); exit }' | tr -d ':')
check "doctor names the layout of this machine ($want; it said: $layout)" [ "$layout" = "$want" ]
check "doctor prints a line for every step 01-09" [ "$(echo "$out" | grep -cE '^  0[1-9] ')" -eq 9 ]
steps_no=$(echo "$out" | grep -cE '^  0[1-9] [a-z-]+ +no ')
if [ "$steps_no" -eq 0 ]; then check "no step says no, and the exit status is 0 (it is $rc)" [ "$rc" -eq 0 ]
else check "$steps_no steps say no, and the exit status is 1 (it is $rc)" [ "$rc" -eq 1 ]; fi

# A clone under a 0750 home: uid 100000 (container root with --userns) cannot pass.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home/learner/nsrun/rootfs/lab"
chmod 755 "$tmp" "$tmp/home"
chmod 750 "$tmp/home/learner"
out=$(NSRUN_CLONE="$tmp/home/learner/nsrun" sh "$doctor" 2>&1)
check "a 0750 ancestor is named" sh -c 'echo "$1" | grep -q "dirs  *no  *$2 "' _ "$out" "$tmp/home/learner"
check "with its one-line fix" sh -c 'echo "$1" | grep -qF "fix: chmod o+x $2"' _ "$out" "$tmp/home/learner"
check "and step 06 says no" sh -c 'echo "$1" | grep -qE "^  06 user +no"' _ "$out"
chmod 755 "$tmp/home/learner"
out=$(NSRUN_CLONE="$tmp/home/learner/nsrun" sh "$doctor" 2>&1)
check "the same tree at 0755 passes" sh -c 'echo "$1" | grep -qE "^  dirs +ok"' _ "$out"

if command -v busybox >/dev/null && busybox ash -c true 2>/dev/null; then
  out=$(busybox ash "$doctor" 2>&1); rc_ash=$?
  layout=$(echo "$out" | awk '$1 == "layout" { print ($2 == "no" ? "none" : $2); exit }' | tr -d ':')
  check "under busybox ash: same layout ($layout) and exit status ($rc_ash)" [ "$layout" = "$want" -a "$rc_ash" -eq "$rc" ]
fi
exit $failed

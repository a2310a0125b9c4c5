#!/usr/bin/env bash
# Grades any runtime — yours, in any language — against the tests of steps 1..STEP.
#   scripts/grade.sh STEP "BIN [LEADING ARGS]"     (make grade STEP=4 BIN=./my-runtime)
#   BIN is run from the repository root: BIN=./my-runtime, BIN='python3 my.py', BIN='build/bin/nsrun run'.
# Prints a report in step order (every test; for each failure what it checks, what was run and what
# happened), a score per primitive, and exits non-zero unless everything passed.
set -euo pipefail
cd "$(dirname "$0")/.."

suites=(Uts Pid Mount Rootfs Cgroups Userns Netns Bridge Nat)
step=${1:-}
bin=${2:-}
if ! [[ "$step" =~ ^[0-9]+$ ]] || (( 10#$step < 1 || 10#$step > ${#suites[@]} )) || [ -z "$bin" ]; then
  echo "usage: make grade STEP=N BIN=PATH   (N in 1..${#suites[@]}; BIN may carry leading args: BIN='python3 my.py')" >&2
  exit 2
fi
step=$((10#$step))
tests=${BUILD:-build}/tests/step-tests
[ -x "$tests" ] || { echo "grade: $tests is not built: run make build" >&2; exit 2; }
first=${bin%% *}
if [[ "$first" == */* ]] && [ ! -e "$first" ]; then
  echo "grade: $first does not exist (BIN is relative to the repository root, $(pwd))" >&2
  exit 2
fi

filter=$(printf '%s.*:' "${suites[@]:0:$step}")
# From step 07 on a runtime configures networking, and nsrun does at every step
# (as root, `nsrun run` puts the container on the bridge nsrun0 by default):
# every launch then runs in a throwaway host (a fresh network + mount
# namespace), never on this machine's network.
throwaway=()
if (( step >= 7 )) || { [ "$(id -u)" = 0 ] && [ "$(basename "$first")" = nsrun ]; }; then
  throwaway=(--throwaway-host)
fi
echo "grade: step $step (${suites[*]:0:$step}) against: $bin"
[ "$(id -u)" = 0 ] || echo "grade: not root: the tests that need root are skipped (sudo make grade ...)"
exec "$tests" --bin="$bin" "${throwaway[@]}" --gtest_filter="${filter%:}"

#!/usr/bin/env bash
# diff-final.sh — how step 09's primitives changed to serve a real runtime.
#
#   scripts/diff-final.sh        (make diff-final)
#
# final/ starts from steps/09-port-nat's primitive files (same names); this
# prints `diff -u` of each against its final/ version, then lists the files
# only final/ has.  A viewer: it exits 0 whether or not they differ.
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

step=steps/09-port-nat
primitives=(uts pid mount rootfs cgroups userns netns bridge nat)
echo "== how ${step#steps/}'s primitives changed in final/ (+ lines new in final/, - lines it removed)"
for p in "${primitives[@]}"; do
    for ext in hpp cpp; do
        rc=0
        diff -uN --color=auto "$step/$p.$ext" "final/$p.$ext" || rc=$?
        ((rc <= 1)) || exit "$rc"
    done
done
echo
echo "== files only final/ has (its own: spec, state, engine, monitor, …):"
for f in final/*.cpp final/*.hpp; do
    name=$(basename "$f")
    [ -e "$step/$name" ] || echo "  $f ($(wc -l < "$f") lines)"
done
echo "== step 09 files final/ replaced: container.cpp/.hpp (→ container.cpp, engine.hpp), main.cpp (→ main.cpp, cli_*.cpp)"

#!/usr/bin/env bash
# diff-step.sh N — show what step N adds to the previous step.
#
#   scripts/diff-step.sh 4      (or 04)
#   make diff-step-4
#
# Prints `diff -ruN` of the previous step folder against step N, leaving out
# the chapters (README.md) and pictures rendered locally (*.svg, from the .dot
# sources): the diff is the code the step adds, the chapter
# explains it. This is a viewer: it exits 0 whether or not the folders differ.
set -euo pipefail
export LC_ALL=C

usage() {
    echo "usage: scripts/diff-step.sh N    (N = step number, e.g. 4 or 04; make diff-step-4)" >&2
    exit 1
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

(($# == 1)) || usage
[[ $1 =~ ^[0-9]{1,2}$ ]] || { echo "diff-step: not a step number: '$1'" >&2; usage; }
nn=$(printf '%02d' "$((10#$1))")

shopt -s nullglob
steps=()
for d in steps/[0-9][0-9]-*/; do steps+=("${d%/}"); done
shopt -u nullglob

idx=-1 n=0
for i in "${!steps[@]}"; do
    if [[ ${steps[i]} == steps/"$nn"-* ]]; then idx=$i n=$((n + 1)); fi
done
if ((n == 0)); then
    echo "diff-step: there is no step $nn; the steps are: ${steps[*]#steps/}" >&2
    exit 1
elif ((n > 1)); then
    echo "diff-step: several folders are numbered $nn under steps/; rename one" >&2
    exit 1
fi
cur=${steps[idx]}

if ((idx == 0)); then
    echo "== ${cur#steps/} is the first step: there is no previous step to diff against; its files:"
    (cd "$cur" && find . \( -type f -o -type l \) -printf '%P\n' | sort -f)
    exit 0
fi
prev=${steps[idx - 1]}

echo "== what step ${cur#steps/} adds to ${prev#steps/}: diff -ruN $prev $cur (+ lines new in ${cur#steps/}, - lines it removed; chapters left out)"
rc=0
diff -ruN -x README.md -x "*.svg" "$prev" "$cur" || rc=$? # both paths start with steps/, no -- needed
((rc <= 1)) || exit "$rc" # 1 just means "the folders differ"
exit 0

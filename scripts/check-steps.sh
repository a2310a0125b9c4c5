#!/usr/bin/env bash
# check-steps.sh — check that every workbook step builds on the previous one.
#
# Run from anywhere (it works on the repository that contains it); normally
# invoked as `make check-steps`, locally and in CI.
#
# For each consecutive pair of step folders steps/NN-*/ (sorted by name) it
# prints what step N adds (+) and changes (~) relative to step N-1, and fails
# when
#   a. step N lacks a file that step N-1 has (a step dropped a file);
#   b. a fix was not carried forward: a file P present in both steps differs,
#      the two copies were identical at some earlier state (newest such state:
#      HEAD vs. the working tree, then the commits touching either copy,
#      newest first) and since then only step N-1's copy changed.
#      If step N's copy changed too, the difference is intentional.
# Files ignored by git (.gitignore) are not step sources and are skipped.
# Without git history (tarball, no commits yet) only check (a) is done.
#
# Exit status: 0 = OK, 1 = problems found.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

problems=0
problem() { # $1 = message, then more lines (explanation, hint)
    problems=$((problems + 1))
    printf '  error: %s\n' "$1"
    shift
    if (($#)); then printf '         %s\n' "$@"; fi
}

# --- step folders -----------------------------------------------------------
shopt -s nullglob
steps=()
for d in steps/[0-9][0-9]-*/; do steps+=("${d%/}"); done
shopt -u nullglob
declare -A is_step=()
for s in "${steps[@]}"; do is_step[$s]=1; done

# --- git or not -------------------------------------------------------------
use_git=0 history=0
if command -v git >/dev/null 2>&1 && [[ -e .git ]]; then
    if top=$(git rev-parse --show-toplevel 2>&1) && [[ $(cd "$top" && pwd -P) == "$ROOT" ]]; then
        use_git=1
        if git rev-parse -q --verify 'HEAD^{commit}' >/dev/null; then
            history=1
        else
            echo "check-steps: no commits yet: only working-tree checks (dropped files); fix propagation not checked"
        fi
    else
        echo "check-steps: warning: git does not work here ($top): only working-tree checks"
    fi
else
    echo "check-steps: no git history (not a git checkout): only working-tree checks (dropped files); fix propagation not checked"
fi
if ((history)) && [[ $(git rev-parse --is-shallow-repository) == true ]]; then
    echo "check-steps: warning: shallow clone, history is truncated: unpropagated fixes committed before the" \
        "cut-off are not detected (CI: use actions/checkout with fetch-depth: 0)"
fi

# --- list the files of all steps (sorted, case-folded: README.md after main.cpp)
all=()
if ((use_git)); then
    mapfile -d '' -t all < <(git ls-files -z --cached --others --exclude-standard -- steps/ | sort -zfu)
else
    mapfile -d '' -t all < <(find steps -mindepth 2 \( -type f -o -type l \) -print0 | sort -zf)
fi

declare -A rels=()   # step dir -> newline-separated relative paths (sorted)
declare -A H=()      # path -> content hash (git blob id when using git)
files=()
for p in "${all[@]}"; do
    [[ -f $p ]] || continue             # tracked but deleted in the working tree
    [[ $p =~ ^(steps/[0-9][0-9]-[^/]+)/(.+)$ ]] || continue
    s=${BASH_REMATCH[1]} rel=${BASH_REMATCH[2]}
    [[ -n ${is_step[$s]+x} ]] || continue
    if [[ $p == *$'\n'* ]]; then
        problem "file name contains a newline: $(printf '%q' "$p")" "rename it"
        continue
    fi
    rels[$s]+="$rel"$'\n'
    files+=("$p")
done

# one process hashes every file
if ((${#files[@]})); then
    if ((use_git)); then
        mapfile -t hashes < <(printf '%s\n' "${files[@]}" | git hash-object --stdin-paths)
    else
        mapfile -t hashes < <(printf '%s\0' "${files[@]}" | xargs -0 sha256sum -- | sed 's/^\\//; s/ .*//')
    fi
    if ((${#hashes[@]} != ${#files[@]})); then
        echo "check-steps: internal error: hashed ${#hashes[@]} of ${#files[@]} files"
        exit 1
    fi
    for i in "${!files[@]}"; do H[${files[i]}]=${hashes[i]}; done
fi

# --- history: was $2 a stale copy of $1? -------------------------------------
# Looks for the newest state (commits touching either path, newest first; the
# working tree is already known to differ) in which both copies existed and
# were identical. Returns 0 (stale) if $2's working-tree copy is still that
# content; sets stale_commit to that commit.
stale_commit=''
is_stale() {
    local a=$1 b=$2 i x ok='^[0-9a-f]{40}([0-9a-f]{24})?$'
    local -a commits objs
    stale_commit=''
    mapfile -t commits < <(git rev-list HEAD -- "$a" "$b")
    ((${#commits[@]})) || return 1
    mapfile -t objs < <(for c in "${commits[@]}"; do printf '%s:%s\n%s:%s\n' "$c" "$a" "$c" "$b"; done |
        git cat-file --batch-check='%(objectname)')
    for i in "${!commits[@]}"; do
        x=${objs[2 * i]}
        if [[ $x =~ $ok && $x == "${objs[2 * i + 1]}" ]]; then
            stale_commit=${commits[i]}
            [[ ${H[$b]} == "$x" ]]
            return
        fi
    done
    return 1
}

# --- pairs ------------------------------------------------------------------
nfiles=${#files[@]}
for ((i = 1; i < ${#steps[@]}; i++)); do
    prev=${steps[i - 1]} cur=${steps[i]}
    added=() changed=() dropped=() report=()
    while IFS= read -r rel; do
        [[ -n $rel ]] || continue
        if [[ -z ${H[$prev/$rel]+x} ]]; then
            added+=("$rel")
        elif [[ ${H[$prev/$rel]} != "${H[$cur/$rel]}" ]]; then
            changed+=("$rel")
        fi
    done <<<"${rels[$cur]-}"
    while IFS= read -r rel; do
        if [[ -n $rel && -z ${H[$cur/$rel]+x} ]]; then dropped+=("$rel"); fi
    done <<<"${rels[$prev]-}"

    for rel in "${added[@]}"; do report+=("+$rel"); done
    for rel in "${changed[@]}"; do report+=("~$rel"); done
    for rel in "${dropped[@]}"; do report+=("-$rel"); done
    if ((${#report[@]})); then
        echo "${cur#steps/} ← ${prev#steps/}: ${report[*]}"
    else
        echo "${cur#steps/} ← ${prev#steps/}: (no changes)"
    fi

    for rel in "${dropped[@]}"; do
        restore="restore it"
        if ((history)); then restore="restore it (git checkout HEAD -- '$cur/$rel')"; fi
        problem "$cur/$rel is missing, but $prev/$rel exists (a step must keep every file of the previous step)" \
            "hint: $restore, or if $prev/$rel is new, carry it forward: scripts/sync-steps.sh --new $prev/$rel"
    done
    ((history)) || continue
    for rel in "${changed[@]}"; do
        if is_stale "$prev/$rel" "$cur/$rel"; then
            if [[ $(git rev-parse -q --verify "HEAD:$prev/$rel" || true) == "$(git rev-parse "$stale_commit:$prev/$rel")" ]]; then
                when="identical in HEAD, the change is not committed yet"
            else
                when="last identical in commit $(git log -1 --format='%h "%s"' "$stale_commit")"
            fi
            problem "$prev/$rel changed after it was identical to $cur/$rel; run: make sync-steps FILE=$prev/$rel" \
                "($when; ${cur#steps/}'s copy is still the old version)" \
                "hint: if ${cur#steps/} must keep the old code on purpose, change its copy too"
        fi
    done
done

if ((problems)); then
    echo "check-steps: $problems problem(s)"
    exit 1
fi
echo "check-steps: ${#steps[@]} steps, $nfiles files, OK"

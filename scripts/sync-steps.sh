#!/usr/bin/env bash
# sync-steps.sh — carry a change to one step's file forward into the later steps.
#
#   scripts/sync-steps.sh [--new] FILE...   e.g. steps/03-mount/mount.cpp
#   scripts/sync-steps.sh [--new]           every file under steps/ changed in
#                                           the working tree (git diff HEAD)
#   make sync-steps FILE=steps/03-mount/mount.cpp
#
# "old" is the committed (HEAD) version of FILE. If FILE has no uncommitted
# change (the fix was already committed), "old" is instead its last version
# that was identical to the next step's copy (the rule check-steps uses).
# Walking the later steps in order, a copy that
#   - equals old      is overwritten with FILE            ("synced ...");
#   - equals FILE     is left alone                        ("up to date ...");
#   - is missing      is created only with --new, else the walk stops;
#   - differs         stops the walk: that step changed the file on purpose,
#                     the fix (old -> FILE) is shown to be applied by hand.
# A FILE that is not in HEAD (new file) is copied into later steps that lack
# it only with --new.
#
# Exit status: 0 = done, 1 = misuse/error, 2 = stopped, manual work needed.
set -euo pipefail
export LC_ALL=C

usage() {
    cat >&2 <<'EOF'
usage: scripts/sync-steps.sh [--new] [FILE...]
       make sync-steps FILE=steps/03-mount/mount.cpp

Carries a change to FILE (a file of one step, e.g. steps/03-mount/mount.cpp)
forward into every later step whose copy is still the old version.
Without FILE: every file under steps/ with uncommitted changes.
  --new   also copy FILE into later steps that lack it (needed for new files)
EOF
    exit 1
}

ORIG_PWD=$PWD
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

new_mode=0 args=()
while (($#)); do
    case $1 in
    --new) new_mode=1 ;;
    -h | --help) usage ;;
    --) shift; args+=("$@"); break ;;
    -*) echo "sync-steps: unknown option: $1" >&2; usage ;;
    *) args+=("$1") ;;
    esac
    shift
done

shopt -s nullglob
steps=()
for d in steps/[0-9][0-9]-*/; do steps+=("${d%/}"); done
shopt -u nullglob

history=0
if command -v git >/dev/null 2>&1 && top=$(git rev-parse --show-toplevel 2>/dev/null) &&
    [[ $(cd "$top" && pwd -P) == "$ROOT" ]] && git rev-parse -q --verify 'HEAD^{commit}' >/dev/null; then
    history=1
fi
need_history() {
    if ((!history)); then
        echo "sync-steps: ${1:+$1: }no git history here (not a git checkout or no commits yet): cannot tell the old version" >&2
        echo "            (only --new, copying into steps that lack the file, works without history)" >&2
        exit 1
    fi
}

hash_of() { # content hash of a working-tree file (git blob id, or sha256 without git)
    if ((history)); then git hash-object -- "$1"; else sha256sum -- "$1" | sed 's/^\\//; s/ .*//'; fi
}

# newest commit in which $1 and $2 both existed and were identical -> prints its blob id
last_identical_blob() {
    local a=$1 b=$2 i x ok='^[0-9a-f]{40}([0-9a-f]{24})?$'
    local -a commits objs
    mapfile -t commits < <(git rev-list HEAD -- "$a" "$b")
    ((${#commits[@]})) || return 0
    mapfile -t objs < <(for c in "${commits[@]}"; do printf '%s:%s\n%s:%s\n' "$c" "$a" "$c" "$b"; done |
        git cat-file --batch-check='%(objectname)')
    for i in "${!commits[@]}"; do
        x=${objs[2 * i]}
        if [[ $x =~ $ok && $x == "${objs[2 * i + 1]}" ]]; then
            echo "$x"
            return 0
        fi
    done
}

tmpdir=$(mktemp -d)
trap 'rm -rf -- "$tmpdir"' EXIT

show_fix() { # $1 = FILE, $2 = old blob id, $3 = description of old
    local f=$1 old=$2
    git cat-file blob "$old" >"$tmpdir/old"
    echo "the fix to apply (old -> new $f):"
    diff -u --label "$f ($3)" --label "$f (now)" -- "$tmpdir/old" "$f" || true
}

# sync_one FILE (relative to ROOT); returns 0 done, 2 stopped, exits 1 on misuse
sync_one() {
    local f=$1 step rel i start=-1 s t th new head old='' old_desc='' cand
    if [[ ! $f =~ ^(steps/[0-9][0-9]-[^/]+)/(.+)$ ]]; then
        echo "sync-steps: $f is not a file inside a step folder (steps/NN-name/...)" >&2
        usage
    fi
    step=${BASH_REMATCH[1]} rel=${BASH_REMATCH[2]}
    for i in "${!steps[@]}"; do
        if [[ ${steps[i]} == "$step" ]]; then start=$i; fi
    done
    if ((start < 0)); then
        echo "sync-steps: $step is not a step folder" >&2
        usage
    fi
    if [[ ! -f $f ]]; then
        echo "sync-steps: $f: no such file" >&2
        usage
    fi
    if ((start == ${#steps[@]} - 1)); then
        echo "sync-steps: $f is in the last step; nothing to carry forward"
        return 0
    fi

    new=$(hash_of "$f")
    head=''
    if ((history)); then head=$(git rev-parse -q --verify "HEAD:$f" || true); fi
    if [[ -z $head ]] && ((!new_mode)); then
        if ((!history)); then need_history "$f"; fi
        echo "sync-steps: $f is not committed (a new file?): there is no old version to compare with;" >&2
        echo "            to copy it into the later steps that lack it: scripts/sync-steps.sh --new $f" >&2
        return 1
    fi

    for ((i = start + 1; i < ${#steps[@]}; i++)); do
        s=${steps[i]} t=${steps[i]}/$rel
        if [[ ! -e $t ]]; then
            if ((new_mode)); then
                mkdir -p -- "$(dirname -- "$t")"
                cp -- "$f" "$t"
                echo "synced $t (new)"
                continue
            fi
            echo "stopped at $s: it has no $rel (dropped?) — to add it: scripts/sync-steps.sh --new $f"
            return 2
        fi
        th=$(hash_of "$t")
        if [[ $th == "$new" ]]; then
            echo "up to date $t"
            continue
        fi
        if [[ -z $old && -n $head ]]; then
            # choose "old": HEAD's version if FILE has uncommitted changes; the last
            # version identical to this copy if that is what this copy still is
            if [[ $head != "$new" ]]; then old=$head old_desc="HEAD"; fi
            if [[ $th != "$old" ]]; then
                cand=$(last_identical_blob "$f" "$t")
                if [[ -n $cand && $cand == "$th" && $cand != "$new" ]]; then
                    old=$cand old_desc="last version identical to $t"
                    echo "old version of $f: its last version that was identical to $t (${cand:0:12})"
                fi
            fi
            if [[ -z $old ]]; then
                echo "sync-steps: nothing to carry forward from $f: it has no uncommitted change and" \
                    "$t differs on purpose (it changed since they were last identical)"
                return 0
            fi
        fi
        if [[ -n $old && $th == "$old" ]]; then
            cp -- "$f" "$t"
            echo "synced $t"
            continue
        fi
        echo "stopped at $t: its copy differs (intentional change) — apply the fix by hand"
        if [[ -n $old ]]; then
            show_fix "$f" "$old" "$old_desc"
        else
            echo "(new file: compare with: diff -u $t $f)"
        fi
        return 2
    done
    return 0
}

files=()
if ((${#args[@]})); then
    for a in "${args[@]}"; do
        # accept paths relative to the caller's directory or to the repo root
        if [[ $a != /* && -e $ORIG_PWD/$a ]]; then a=$ORIG_PWD/$a; fi
        if [[ $a == /* ]]; then a=$(realpath -m -- "$a"); a=${a#"$ROOT"/}; fi
        a=${a#./}
        files+=("$a")
    done
else
    need_history ""
    mapfile -d '' -t files < <(git diff --name-only -z HEAD -- steps/)
    if ((new_mode)); then
        mapfile -d '' -t -O "${#files[@]}" files < <(git ls-files -z --others --exclude-standard -- steps/)
        mapfile -d '' -t files < <(printf '%s\0' "${files[@]}" | sort -zu)
    fi
    existing=()
    for f in "${files[@]}"; do
        [[ -f $f ]] || continue   # deleted: nothing to carry
        if ((!new_mode)) && [[ -z $(git rev-parse -q --verify "HEAD:$f" || true) ]]; then
            echo "skipped $f (new file; use --new to copy it forward)"
            continue
        fi
        existing+=("$f")
    done
    files=("${existing[@]}")
    if ((${#files[@]} == 0)); then
        echo "sync-steps: no uncommitted changes under steps/ to carry forward"
        exit 0
    fi
fi

status=0
for f in "${files[@]}"; do
    rc=0
    # run in an async subshell so that `set -e` stays in force inside sync_one
    # (it is ignored in functions called from `f || ...`)
    sync_one "$f" &
    wait "$!" || rc=$?
    if ((rc > status)); then status=$rc; fi
done
if ((status == 2)); then echo "sync-steps: stopped; finish by hand, then run: make check-steps" >&2; fi
exit "$status"

#!/usr/bin/env bash
# make bench (its images part): how fast `nsrun image import` unpacks an
# image compared with GNU tar extracting the same layers, and what an
# overlay costs a container start (`run --image` against `run --rootfs` on the
# same files).  Side by side in one hyperfine run each; ratios are what count.
#
# usage: scripts/bench-images.sh BUILD_DIR ROOTFS OUTPUT.md     (as root)
#
# The image is made here, from nothing downloaded: the lab rootfs as its
# bottom layer and three layers of generated files (many small, a few
# large: ~100 MB in all), packed as `docker save` packs them (manifest.json,
# a config with the layers' diff_ids, uncompressed layer tars).  tar's side
# extracts those same layer tars, each into its own empty directory, on the
# same disk (BUILD_DIR) — what the import does after it has checked them.
# The results replace the text between the "bench-images:begin" and
# "bench-images:end" markers of OUTPUT.md; the prose around them is kept.
# Nothing is left behind: the store, the state and the files are in one
# directory under BUILD_DIR, removed at the end.
set -euo pipefail

BENCH_RUNS=${BENCH_RUNS:-10}
BENCH_WARMUP=${BENCH_WARMUP:-2}

die() {
    echo "bench-images: $*" >&2
    exit 1
}

[[ $# -eq 3 ]] || die "usage: $0 BUILD_DIR ROOTFS OUTPUT.md"
BUILD=$(realpath -- "$1")
ROOTFS=$(realpath -- "$2")
OUTPUT=$(realpath -m -- "$3")
NSRUN=$BUILD/bin/nsrun
[[ $(id -u) -eq 0 ]] || die "needs root (overlay mounts): sudo make bench"
for tool in hyperfine jq tar sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is missing: run 'sudo make bench-deps'"
done
[[ -x $NSRUN ]] || die "$NSRUN is missing: run 'make build' first"
[[ -x $ROOTFS/bin/true ]] || die "the lab rootfs $ROOTFS is missing: run 'make rootfs' first"
[[ -f $ROOTFS.oci.tar ]] || die "$ROOTFS.oci.tar is missing: run 'make rootfs' first"
grep -q '^<!-- bench-images:begin' "$OUTPUT" && grep -q '^<!-- bench-images:end' "$OUTPUT" ||
    die "$OUTPUT has no <!-- bench-images:begin --> … <!-- bench-images:end --> markers"

WORK=$(mktemp -d "$BUILD/bench-images.XXXXXX")
cleanup() {
    # A store may hold overlay-free layer trees only; containers were --rm.
    "$NSRUN" gc --state-dir "$WORK/state" >/dev/null 2>&1 || true
    rm -rf -- "$WORK"
}
trap cleanup EXIT

# --- the image: four layers, docker-save form -----------------------------------
reproducible=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)
make_layer() { # DIR N_SMALL SMALL_KB N_LARGE LARGE_MB
    local dir=$1 i
    mkdir -p "$dir/data/small" "$dir/data/large"
    for ((i = 0; i < $2; i++)); do
        head -c "$(($3 * 1024))" /dev/urandom >"$dir/data/small/f$i"
    done
    for ((i = 0; i < $4; i++)); do
        head -c "$(($5 * 1024 * 1024))" /dev/urandom >"$dir/data/large/f$i"
    done
}
echo "bench-images: generating the image's files…" >&2
mkdir -p "$WORK/src/1" "$WORK/archive"
cp -a "$ROOTFS/." "$WORK/src/1/"
for n in 2 3 4; do
    make_layer "$WORK/src/$n" 1200 16 2 4 # 1200 × 16 KiB + 2 × 4 MiB ≈ 27 MiB
    # Each layer renames its files so that none hides another's.
    mv "$WORK/src/$n/data" "$WORK/src/$n/data$n"
done
diff_ids=()
layers=()
for n in 1 2 3 4; do
    tar -C "$WORK/src/$n" "${reproducible[@]}" -cf "$WORK/archive/layer$n.tar" .
    diff_ids+=("\"sha256:$(sha256sum "$WORK/archive/layer$n.tar" | cut -d' ' -f1)\"")
    layers+=("\"layer$n.tar\"")
done
join() { local IFS=,; echo "$*"; }
config='{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":['"$(join "${diff_ids[@]}")"']}}'
printf '%s' "$config" >"$WORK/archive/config.json"
config_hex=$(sha256sum "$WORK/archive/config.json" | cut -d' ' -f1)
mv "$WORK/archive/config.json" "$WORK/archive/$config_hex.json"
printf '[{"Config":"%s.json","RepoTags":["big:latest"],"Layers":[%s]}]' "$config_hex" "$(join "${layers[@]}")" \
    >"$WORK/archive/manifest.json"
tar -C "$WORK/archive" -cf "$WORK/big.tar" .
image_mb=$(($(stat -c %s "$WORK/big.tar") / 1024 / 1024))
file_count=$(find "$WORK/src" -type f | wc -l)
rm -rf "$WORK/src"

# --- 1. import against tar -x ------------------------------------------------------
# The page cache is warm for both (the warm-up runs read the files): this
# compares the work each does, not the disk's read speed.
untar_all="for n in 1 2 3 4; do mkdir -p $WORK/x/\$n && tar -xf $WORK/archive/layer\$n.tar -C $WORK/x/\$n; done"
hyperfine --style basic --warmup "$BENCH_WARMUP" --runs "$BENCH_RUNS" --export-json "$WORK/import.json" \
    --prepare "rm -rf $WORK/store $WORK/x; sync" \
    -n "nsrun image import (checks every digest, safe extraction)" \
    "$NSRUN image import --image-root $WORK/store $WORK/big.tar" \
    -n "GNU tar -x of the same 4 layer tars" "$untar_all" >&2

# --- 2. run --image against run --rootfs -------------------------------------------
"$NSRUN" image import --image-root "$WORK/store" "$ROOTFS.oci.tar" >/dev/null
common="--state-dir $WORK/state --network none"
hyperfine --style basic --warmup "$BENCH_WARMUP" --runs "$((BENCH_RUNS * 2))" --export-json "$WORK/start.json" \
    -n "nsrun run --rootfs (the lab rootfs directory)" "$NSRUN run $common --rootfs $ROOTFS -- /bin/true" \
    -n "nsrun run --image lab (its one layer under an overlay)" \
    "$NSRUN run $common --image-root $WORK/store --image lab -- /bin/true" >&2

# --- the Markdown ------------------------------------------------------------------
table() { # JSON REFERENCE_COMMAND
    jq -r --arg ref "$2" '
        def ms: . * 1000 | . * 10 | round / 10;
        def ratio: . * 100 | round / 100;
        (.results[] | select(.command == $ref) | .median) as $r |
        .results[] |
        "| \(.command) | \(.median | ms) | \(.mean | ms) ± \(.stddev | ms) | \(.min | ms) | \(.median / $r | ratio)× | \(.user + .system | ms) |"' "$1"
}
import_name="nsrun image import (checks every digest, safe extraction)"
tar_name="GNU tar -x of the same 4 layer tars"
speed=$(jq -r --arg i "$import_name" --arg t "$tar_name" '
    ([.results[] | select(.command == $t) | .median][0]) / ([.results[] | select(.command == $i) | .median][0])
    | . * 100 | round / 100' "$WORK/import.json")
overlay=$(jq -r '(.results[1].median / .results[0].median) | . * 100 | round / 100' "$WORK/start.json")
generated=$WORK/generated.md
{
    echo "<!-- bench-images:begin: generated by scripts/bench-images.sh (make bench); do not edit by hand -->"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs, kernel $(uname -r), load average"
    echo "$(cut -d' ' -f1-3 /proc/loadavg) at the end. hyperfine: $BENCH_WARMUP warm-up runs, $BENCH_RUNS (imports) and"
    echo "$((BENCH_RUNS * 2)) (starts) timed runs. The image: ${image_mb} MB, 4 uncompressed layers, $file_count files."
    echo
    echo "| import | median (ms) | mean ± σ (ms) | min (ms) | ÷ nsrun's | CPU: user+sys (ms) |"
    echo "|---|---:|---:|---:|---:|---:|"
    table "$WORK/import.json" "$import_name"
    echo
    echo "**nsrun imports at ${speed}× GNU tar's speed** (tar's time ÷ nsrun's; the target is at least 0.8×)."
    echo
    echo "| start \`/bin/true\` | median (ms) | mean ± σ (ms) | min (ms) | ÷ --rootfs | CPU: user+sys (ms) |"
    echo "|---|---:|---:|---:|---:|---:|"
    table "$WORK/start.json" "nsrun run --rootfs (the lab rootfs directory)"
    echo
    echo "**A start from an image takes ${overlay}× a start from a directory** (the target is at most 1.5×)."
    echo
    echo "<!-- bench-images:end -->"
} >"$generated"
awk -v gen="$generated" '
    /^<!-- bench-images:begin/ { while ((getline line < gen) > 0) print line; skip = 1; next }
    /^<!-- bench-images:end/ { skip = 0; next }
    !skip { print }' "$OUTPUT" >"$OUTPUT.new"
mv "$OUTPUT.new" "$OUTPUT"
echo "bench-images: import ${speed}× tar; run --image ${overlay}× run --rootfs; written to $OUTPUT" >&2

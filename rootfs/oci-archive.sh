#!/usr/bin/env bash
# Packs a root filesystem directory as a one-layer OCI image archive: an OCI
# image layout (oci-layout, index.json, blobs/sha256/...) in a tar, what
# `skopeo copy ... oci-archive:` and `docker save` (25+) produce.  Nothing is
# downloaded, and the same tree always gives the same bytes: the tars are
# sorted by name with every time set to 0 and owners to 0:0, gzip stores no
# name or time, and the JSON has no creation date.
#
# usage: rootfs/oci-archive.sh ROOTFS_DIR OUT.tar [NAME:TAG] [CMD...]
#   e.g. rootfs/oci-archive.sh rootfs/lab rootfs/lab.oci.tar lab:latest /bin/sh
set -euo pipefail

die() {
    echo "oci-archive: $*" >&2
    exit 1
}

[[ $# -ge 2 ]] || { echo "usage: $0 ROOTFS_DIR OUT.tar [NAME:TAG] [CMD...]" >&2; exit 2; }
root=${1%/}
out=$2
ref=${3:-lab:latest}
shift $(($# < 3 ? $# : 3))
cmd=("$@")
[[ ${#cmd[@]} -gt 0 ]] || cmd=(/bin/sh)
[[ -d $root ]] || die "$root is not a directory"
[[ $ref == *:* ]] || ref="$ref:latest"
for tool in tar gzip sha256sum; do
    command -v "$tool" >/dev/null || die "$tool not found (it is in every Debian install: coreutils, tar, gzip)"
done

# GNU tar's options for a reproducible archive (https://reproducible-builds.org/docs/archives/).
reproducible=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)

tmp=$(mktemp -d "${out}.tmp.XXXXXX")
trap 'rm -rf -- "$tmp" "$out.part"' EXIT
blobs=$tmp/blobs/sha256
mkdir -p -- "$blobs"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# Store FILE as a blob under its digest; print the digest.
add_blob() {
    local digest
    digest=$(sha "$1")
    mv -- "$1" "$blobs/$digest"
    echo "$digest"
}
# A JSON string (the values here are paths and words: escape \ and ").
json_string() {
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

# The layer: the tree as an uncompressed tar (its digest is the config's
# diff_id), then gzip'd (its digest is the manifest's layer digest).
tar -C "$root" "${reproducible[@]}" -cf "$tmp/layer.tar" .
diff_id=$(sha "$tmp/layer.tar")
gzip -n -6 <"$tmp/layer.tar" >"$tmp/layer.tar.gz"
rm -f -- "$tmp/layer.tar"
layer_size=$(size "$tmp/layer.tar.gz")
layer=$(add_blob "$tmp/layer.tar.gz")

cmd_json=""
for word in "${cmd[@]}"; do
    cmd_json+="${cmd_json:+,}$(json_string "$word")"
done
printf '%s' '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":['"$cmd_json"'],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff_id"'"]},"history":[{"created_by":"rootfs/oci-archive.sh"}]}' >"$tmp/config.json"
config_size=$(size "$tmp/config.json")
config=$(add_blob "$tmp/config.json")

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer"'","size":'"$layer_size"'}]}' >"$tmp/manifest.json"
manifest_size=$(size "$tmp/manifest.json")
manifest=$(add_blob "$tmp/manifest.json")

printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest"'","size":'"$manifest_size"',"annotations":{"io.containerd.image.name":'"$(json_string "$ref")"',"org.opencontainers.image.ref.name":'"$(json_string "${ref##*:}")"'}}]}' >"$tmp/index.json"

tar -C "$tmp" "${reproducible[@]}" -cf "$out.part" oci-layout index.json blobs
mv -- "$out.part" "$out"
echo "oci-archive: built $out ($ref, layer sha256:${layer:0:12}, $(size "$out") bytes)"

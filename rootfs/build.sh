#!/usr/bin/env bash
# Builds the nsrun lab root filesystem: Debian's static busybox, a handful of /etc files,
# a web page and the lab-probe oracle, and the same tree as an OCI image archive
# (OUTDIR.oci.tar, by oci-archive.sh). Nothing is downloaded.
#
# usage: rootfs/build.sh OUTDIR PROBE_BINARY
#
# The tree is assembled in OUTDIR.tmp.<pid> and only then swapped in for OUTDIR, so an
# interrupted build never leaves a half-populated rootfs where tests expect a complete one.
set -euo pipefail

readonly BUSYBOX=/bin/busybox
APPLET_LINKS=0  # symlinks created by install_busybox

die() {
    echo "rootfs: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 OUTDIR PROBE_BINARY" >&2
    exit 2
}

# Binaries in the rootfs must be static: it contains no libc.so and no dynamic loader.
is_static() {
    ! readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

check_inputs() {
    local out=$1 probe=$2
    [[ -n $out && $(realpath -m -- "$out") != / ]] || die "refusing to build the rootfs into '${out:-/}'"
    [[ -x $BUSYBOX ]] ||
        die "$BUSYBOX not found: install Debian's busybox-static package (run 'make deps')"
    # Debian's plain 'busybox' package also installs /bin/busybox, but dynamically linked.
    if command -v readelf >/dev/null; then
        is_static "$BUSYBOX" ||
            die "$BUSYBOX is dynamically linked: install busybox-static instead of busybox (run 'make deps')"
    fi
    [[ -f $probe && -x $probe ]] || die "probe binary '$probe' not found or not executable (build lab-probe first)"
    if command -v readelf >/dev/null; then
        is_static "$probe" || die "probe binary '$probe' is dynamically linked; it must be linked with -static"
    fi
}

make_dirs() {
    local root=$1 dir
    for dir in bin sbin usr/bin usr/sbin etc proc sys dev tmp root home srv/www var/run run mnt; do
        mkdir -p -- "$root/$dir"
    done
    chmod 1777 "$root/tmp"
}

# One symlink per applet, at the path busybox itself reports (bin/sh, usr/bin/awk, ...).
# Links are relative (../../bin/busybox) so they also resolve when inspected from the host.
install_busybox() {
    local root=$1 applets applet up dir
    install -m 0755 -- "$BUSYBOX" "$root/bin/busybox"
    applets=$("$BUSYBOX" --list-full)   # not piped into the loop: set -e must see a failure
    while IFS= read -r applet; do
        [[ -n $applet && ! -e $root/$applet && ! -L $root/$applet ]] || continue
        up=${applet//[!\/]/}     # one "/" per directory level below /
        up=${up//\//../}
        dir=.
        [[ $applet != */* ]] || dir=${applet%/*}
        [[ -d $root/$dir ]] || mkdir -p -- "$root/$dir"
        ln -s -- "${up}bin/busybox" "$root/$applet"
        APPLET_LINKS=$((APPLET_LINKS + 1))
    done <<<"$applets"
}

busybox_version() {
    local banner
    banner=$("$BUSYBOX" 2>&1 || true)     # first line: "BusyBox v1.35.0 (Debian ...) multi-call binary."
    sed -n '1s/^BusyBox v\([0-9][0-9.]*\).*/\1/p' <<<"$banner"
}

write_etc() {
    local root=$1 version=$2
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
    cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost
EOF
    echo lab >"$root/etc/hostname"
    cat >"$root/etc/os-release" <<EOF
NAME="nsrun lab rootfs"
ID=nsrun-lab
VERSION_ID=1
PRETTY_NAME="nsrun lab rootfs (busybox $version)"
EOF
}

write_www() {
    local root=$1
    # The greeting is on the first line because `lab-probe http-get` reports only that line.
    cat >"$root/srv/www/index.html" <<'EOF'
<!DOCTYPE html><html><head><title>nsrun lab</title></head><body><h1>Hello from an nsrun container</h1>
<p>Served by busybox httpd from /srv/www in the nsrun lab rootfs.</p>
</body></html>
EOF
}

main() {
    [[ $# -eq 2 ]] || usage
    local out=${1%/} probe=$2
    check_inputs "$out" "$probe"

    local tmp="$out.tmp.$$"
    trap 'rm -rf -- "$tmp"' EXIT
    rm -rf -- "$tmp"
    mkdir -p -- "$tmp"

    make_dirs "$tmp"
    install_busybox "$tmp"
    local version
    version=$(busybox_version)
    write_etc "$tmp" "${version:-unknown}"
    write_www "$tmp"
    install -m 0755 -- "$probe" "$tmp/usr/bin/lab-probe"

    # Containers may run as any uid (user namespaces), so everything must be readable by all.
    # chmod -R skips symlinks; chown -h changes the links themselves, never their targets.
    chmod -R a+rX -- "$tmp"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R -h 0:0 -- "$tmp"
    else
        echo "rootfs: warning: not running as root, files stay owned by $(id -un)" >&2
    fi

    rm -rf -- "$out"
    mv -- "$tmp" "$out"
    trap - EXIT

    echo "rootfs: built $out (busybox ${version:-unknown}, $APPLET_LINKS applets, lab-probe)"

    # The same tree as an image (nsrun image import), so images work with no network.
    "$(dirname -- "${BASH_SOURCE[0]}")/oci-archive.sh" "$out" "$out.oci.tar" lab:latest /bin/sh
}

main "$@"

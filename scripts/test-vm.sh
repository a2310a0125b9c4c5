#!/usr/bin/env bash
# make test-vm: every step's suite on a real cgroup-v2-only kernel.
#
# This machine may be cgroup v1 or hybrid; most learners' machines are v2 only.
# So boot Debian's own kernel under qemu with cgroup_no_v1=all, from an initramfs
# holding the built binaries, the lab rootfs and the tests at the same absolute
# paths as here (they are compiled in), and run each step's suite there with
# the filters and flags of tests/CMakeLists.txt.  tests/vm/init is the guest's
# PID 1; it reports on the serial console, which this script parses.
#
# Needs (make deps): qemu-system-x86, kmod, cpio, busybox-static, iproute2,
# nftables; and apt to fetch the kernel package (never installed: unpacked).
# Environment:
#   BUILD=build            the build tree (binaries, and the VM's files under BUILD/vm)
#   NSRUN_VM_CACHE=DIR     where the kernel .deb is kept and unpacked (default BUILD/vm/kernel)
#   NSRUN_VM_KERNEL=PKG    a kernel package instead of the one linux-image-amd64 depends on
#   NSRUN_VM_STEPS="05 06" only these steps (default: every step, and "final")
#                          "final": nsrun's tests whose code differs on cgroup v2
#                          (FINAL_V2_TESTS below), when nsrun and final-tests are built
#   NSRUN_VM_TIMEOUT=2400  seconds before the VM is killed and the run fails
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=$(realpath -m -- "${BUILD:-build}")
WORK=$BUILD_DIR/vm
CACHE=${NSRUN_VM_CACHE:-$WORK/kernel}
TIMEOUT=${NSRUN_VM_TIMEOUT:-2400}
STAGING=$WORK/initramfs.d
INITRAMFS=$WORK/initramfs.gz
CONSOLE_LOG=$WORK/console.log
# The modules the steps need that Debian builds as modules (cgroups, memcg, CFS
# bandwidth, pids and the namespaces are built in): overlay, veth and bridge,
# and nftables with what step 09's NAT rules use (nat chains, dnat, masquerade, fib).
# fuse: /dev/fuse, the node nsrun's --device tests give a container.
MODULES=(overlay veth bridge nf_tables nft_chain_nat nft_nat nft_masq nft_fib_ipv4 fuse)
# nsrun's tests whose code path differs on cgroup v2, and only those (the VM
# has two slow shared cores; the host runs the whole final suite): the device
# cgroup (v2: an eBPF program, not devices.allow; under --userns too, where
# --device binds the host's node), memory.events' oom_kill,
# exec joining the container's cgroup, pause/resume (cgroup.freeze, not the
# v1 freezer), delete removing the cgroup, and config.json's cgroupsPath
# (the placed cgroup, its parents passing the controllers on, the limits in
# it; an existing one refused and left alone).
FINAL_V2_TESTS=(
    Security.ABlockDeviceCanBeMadeButNotOpened
    Security.ADeviceGivenWithDeviceIsUsableAndOnlyThatOne
    Security.ADeviceGivenUnderAnotherNameWorksInAUserNamespace
    Lifecycle.InspectRecordsAnOomKill
    Exec.JoinsEveryNamespaceAndTheCgroupOfTheContainer
    Oci.PauseFreezesResumeThaws
    Oci.KillThenDeleteRemovesTheCgroupEvenAfterSigkill
    Oci.CgroupsPathIsTheContainersCgroupInEveryHierarchyAndDeleteRemovesIt
    Oci.AnExistingCgroupAtCgroupsPathIsRefusedAndLeftAlone
)

die() {
    echo "test-vm: $*" >&2
    exit 1
}

note() { echo "test-vm: $*" >&2; }

# A value of the build tree's CMake cache, e.g. the lab rootfs path compiled into the binaries.
cmake_cache_value() {
    sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt"
}

check_tools() {
    local tool
    for tool in qemu-system-x86_64 dpkg-deb apt-get depmod modprobe cpio gzip strip ip nft; do
        command -v "$tool" >/dev/null || die "$tool not found: run 'sudo make deps'"
    done
    [[ -x /bin/busybox ]] || die "/bin/busybox not found: run 'sudo make deps' (busybox-static)"
    [[ -f $BUILD_DIR/CMakeCache.txt ]] || die "no build tree at $BUILD_DIR: run 'make build' first"
}

# --- the kernel: a Debian package, unpacked, never installed -----------------

# The kernel package the linux-image-amd64 metapackage depends on: the one a
# Debian machine installed today boots, and the same for every run until the
# package lists change.
kernel_package() {
    if [[ -n ${NSRUN_VM_KERNEL:-} ]]; then
        echo "$NSRUN_VM_KERNEL"
        return
    fi
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

update_package_lists() {
    [[ $(id -u) -eq 0 ]] || die "the package lists do not know the kernel: run 'sudo apt-get update' (or this as root)"
    note "apt-get update"
    apt-get update -q >/dev/null
}

# Downloads and unpacks the kernel package into CACHE/PACKAGE (once), runs
# depmod there so that modprobe can compute load orders.  Prints the directory.
fetch_kernel() {
    local package dir
    package=$(kernel_package)
    if [[ -z $package ]]; then
        update_package_lists
        package=$(kernel_package)
        [[ -n $package ]] || die "apt knows no linux-image-amd64: is this a Debian amd64 machine?"
    fi
    dir=$CACHE/$package
    if [[ ! -f $dir/.unpacked ]]; then
        note "fetching $package into $CACHE (once)"
        mkdir -p "$CACHE"
        rm -f "$CACHE/$package"_*.deb
        (cd "$CACHE" && apt-get download -q "$package" >/dev/null 2>&1) ||
            { update_package_lists && (cd "$CACHE" && apt-get download -q "$package" >/dev/null); } ||
            die "apt-get download $package failed"
        rm -rf "$dir" && mkdir -p "$dir"
        dpkg-deb -x "$CACHE/$package"_*.deb "$dir/root"
        depmod -b "$dir/root" "$(kernel_release "$dir")"
        touch "$dir/.unpacked"
    fi
    echo "$dir"
}

kernel_release() {
    basename "$(ls -d "$1"/root/lib/modules/*/)"
}

# --- the initramfs ----------------------------------------------------------

# Copies a file to the same path under STAGING, dereferencing symlinks.
stage_file() {
    mkdir -p "$STAGING$(dirname "$1")"
    cp -L "$1" "$STAGING$1"
}

# Copies a binary without its debug info (a third of the size) and every library ldd lists.
stage_binary() {
    local bin=$1 lib
    mkdir -p "$STAGING$(dirname "$bin")"
    strip --strip-debug -o "$STAGING$bin" "$bin"
    for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
        [[ -e $STAGING$lib ]] || stage_file "$lib"
        # ... and where the link points (/lib64/ld-linux-x86-64.so.2 is
        # /lib/x86_64-linux-gnu's): a static nsrun's dlopen finds libc's
        # loader in the library directories only.
        lib=$(readlink -f "$lib")
        [[ -e $STAGING$lib ]] || stage_file "$lib"
    done
}

# The top-level layout of this machine (Debian's merged /usr: /bin -> usr/bin),
# so that paths ldd and `command -v` print resolve the same way in the guest.
stage_layout() {
    local dir
    for dir in bin sbin lib lib64 usr/bin usr/sbin usr/lib etc root proc sys dev tmp run newroot; do
        if [[ -L /$dir ]]; then
            mkdir -p "$STAGING/$(dirname "$dir")/$(readlink "/$dir")" # a relative target: usr/bin
            ln -s "$(readlink "/$dir")" "$STAGING/$dir"
        else
            mkdir -p "$STAGING/$dir"
        fi
    done
    chmod 0700 "$STAGING/root"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$STAGING/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$STAGING/etc/group"
    echo nsrun-vm >"$STAGING/etc/hostname"
}

# busybox for the init and the plain commands of the tests (cat, ...), but this
# machine's own /bin/sh, ip, nft and rm: the tests parse ip's and nft's output,
# clean up with GNU rm's --one-file-system, and Debian's busybox sh runs its
# own applets before PATH (busybox ip for ip).
# The init links the other applets (busybox --install keeps existing files).
stage_tools() {
    local tool sh
    stage_file /bin/busybox
    for tool in ip nft rm; do
        stage_binary "$(command -v "$tool")"
    done
    sh=$(readlink -f /bin/sh)
    stage_binary "$sh"
    ln -s "$sh" "$STAGING/bin/sh"
}

# The binaries under test, at their paths in this build tree.
stage_binaries() {
    local bin
    for bin in "$BUILD_DIR"/bin/*; do
        [[ -f $bin && -x $bin ]] && stage_binary "$bin"
    done
    stage_binary "$BUILD_DIR/tests/step-tests"
    # The faults the Uts suite injects (a child that dies in setup).
    stage_binary "$BUILD_DIR/tests/lab-fault"
    if wants_final; then
        stage_binary "$BUILD_DIR/tests/final-tests"
    fi
}

# nsrun's v2 tests run unless NSRUN_VM_STEPS leaves "final" out; they need
# the final runtime and its tests built (make build builds both).
wants_final() {
    [[ -z ${NSRUN_VM_STEPS:-} || " $NSRUN_VM_STEPS " == *" final "* ]] || return 1
    [[ -x $BUILD_DIR/bin/nsrun && -x $BUILD_DIR/tests/final-tests ]] ||
        die "$BUILD_DIR/bin/nsrun or tests/final-tests is not built: run 'make build'"
}

# The lab rootfs at the path compiled into the steps and the tests.
stage_rootfs() {
    local rootfs
    rootfs=$(cmake_cache_value NSRUN_LAB_ROOTFS)
    [[ -x $rootfs/bin/busybox ]] || die "no lab rootfs at $rootfs: run 'make rootfs'"
    mkdir -p "$STAGING$(dirname "$rootfs")"
    cp -a "$rootfs" "$STAGING$rootfs"
}

# make doctor, at its path in this clone, and where it should look: the guest
# runs it and checks that it reports what the guest is (cgroup v2 only).
stage_doctor() {
    local rootfs
    rootfs=$(cmake_cache_value NSRUN_LAB_ROOTFS)
    stage_file "$PWD/scripts/doctor.sh"
    printf "NSRUN_CLONE='%s'\nNSRUN_ROOTFS='%s'\nBUILD='%s'\n" "$PWD" "$rootfs" "$BUILD_DIR" >"$STAGING/vm/doctor.env"
}

# Modules with their dependencies, in load order, de-duplicated.
stage_modules() {
    local kernel=$1 release module n=0
    release=$(kernel_release "$kernel")
    mkdir -p "$STAGING/vm/modules"
    : >"$STAGING/vm/modules.order"
    for module in $(modprobe -d "$kernel/root" -S "$release" --show-depends -a "${MODULES[@]}" |
        awk '$1 == "insmod" && !seen[$2]++ {print $2}'); do
        n=$((n + 1))
        cp "$module" "$STAGING/vm/modules/"
        basename "$module" >>"$STAGING/vm/modules.order"
    done
    note "$n modules from $release: ${MODULES[*]} and their dependencies"
}

# One line per step: NAME|TESTS|BIN|FILTER|FLAGS, as tests/CMakeLists.txt
# registers them: step N runs the suites of primitives 1..N, and from Netns on
# every launch happens in a throwaway host.
write_plan() {
    local suites=() step number index filter flags
    read -r -a suites <<<"$(sed -n 's/^set(NSRUN_PRIMITIVE_SUITES \(.*\))$/\1/p' tests/CMakeLists.txt)"
    [[ ${#suites[@]} -gt 0 ]] || die "cannot read NSRUN_PRIMITIVE_SUITES from tests/CMakeLists.txt"
    : >"$STAGING/vm/plan"
    for step in steps/[0-9][0-9]-*; do
        step=$(basename "$step")
        number=${step%%-*}
        index=$((10#$number))
        if [[ -n ${NSRUN_VM_STEPS:-} && " $NSRUN_VM_STEPS " != *" $number "* ]]; then
            continue
        fi
        [[ -x $BUILD_DIR/bin/step$step ]] || die "$BUILD_DIR/bin/step$step is not built: run 'make build'"
        filter=$(printf '%s.*:' "${suites[@]:0:index}")
        flags=""
        [[ " ${suites[*]:0:index} " == *" Netns "* ]] && flags=--throwaway-host
        echo "$step|$BUILD_DIR/tests/step-tests|$BUILD_DIR/bin/step$step|${filter%:}|$flags" >>"$STAGING/vm/plan"
    done
    if wants_final; then
        filter=$(printf '%s:' "${FINAL_V2_TESTS[@]}")
        echo "final|$BUILD_DIR/tests/final-tests|$BUILD_DIR/bin/nsrun|${filter%:}|" >>"$STAGING/vm/plan"
    fi
}

build_initramfs() {
    local kernel=$1
    rm -rf "$STAGING"
    mkdir -p "$STAGING/vm"
    stage_layout
    stage_tools
    stage_binaries
    stage_rootfs
    stage_doctor
    stage_modules "$kernel"
    write_plan
    install -m 0755 tests/vm/init "$STAGING/init"
    (cd "$STAGING" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$INITRAMFS"
    note "initramfs $(du -k "$INITRAMFS" | cut -f1) KiB gzipped ($(du -sk "$STAGING" | cut -f1) KiB unpacked)"
}

# --- the VM -----------------------------------------------------------------

# KVM when this machine offers it, else TCG (emulation: slower, works anywhere).
accelerator() {
    if [[ -r /dev/kvm && -w /dev/kvm ]]; then
        echo "-accel kvm -accel tcg" # qemu falls back to the next one if kvm fails
    else
        echo "-accel tcg"
    fi
}

# Boots the kernel; the serial console goes to the terminal and to CONSOLE_LOG.
# stdin is /dev/null: qemu must not take over the terminal, and ^C still ends it.
run_vm() {
    local kernel=$1 vmlinuz
    vmlinuz=$(ls "$kernel"/root/boot/vmlinuz-*)
    note "booting $(basename "$vmlinuz") ($(accelerator)), timeout ${TIMEOUT}s; console in $CONSOLE_LOG"
    # shellcheck disable=SC2046 # accelerator() is a word list
    timeout -k 10 "$TIMEOUT" qemu-system-x86_64 $(accelerator) -cpu max -m 1024 -smp 2 \
        -kernel "$vmlinuz" -initrd "$INITRAMFS" \
        -append "console=ttyS0 cgroup_no_v1=all panic=-1 quiet loglevel=3" \
        -display none -serial stdio -monitor none -nic none -no-reboot </dev/null |
        tr -d '\r' | tee "$CONSOLE_LOG"
}

# The verdict is the guest's last word, not qemu's exit status (a guest that
# powers off cleanly after failing tests still exits 0).
report() {
    local seconds=$1
    echo
    note "summary (${seconds}s in all):"
    grep -E '^NSRUN-VM: (init started|doctor: (PASS|FAIL)|step .*: (PASS|FAIL)|FAIL|RESULT)' "$CONSOLE_LOG" | sed 's/^/  /' || true
    if grep -q '^NSRUN-VM: RESULT PASS$' "$CONSOLE_LOG"; then
        note "PASS: every step's suite passed on a cgroup-v2-only kernel"
        return 0
    fi
    grep -q '^NSRUN-VM: RESULT' "$CONSOLE_LOG" ||
        note "the VM ended without a result (crashed, or killed after ${TIMEOUT}s)"
    note "FAIL: see the output above or $CONSOLE_LOG"
    return 1
}

main() {
    local start kernel
    start=$(date +%s)
    check_tools
    mkdir -p "$WORK"
    kernel=$(fetch_kernel)
    build_initramfs "$kernel"
    run_vm "$kernel" || true
    report $(($(date +%s) - start))
}

main "$@"

// The root filesystem: the container sees its own directory tree as "/".
#pragma once

#include <string>

struct RootfsOptions {
    std::string dir = NSRUN_LAB_ROOTFS; ///< the lab rootfs, built by `make rootfs`
};

/// In the parent, before anything is created: DIR must be an existing
/// directory.  Throws a clear error otherwise.
void check_rootfs(const RootfsOptions& options);

/// In the child, with mounts already private: make DIR the root with
/// pivot_root(2) and detach the old root, so the host's tree is unreachable.
void enter_rootfs(const RootfsOptions& options);

/// In the child, after enter_rootfs and /proc: a read-only /sys, a tmpfs
/// /dev with the standard device nodes, devpts and /dev/shm, and /tmp.
void mount_system_dirs();

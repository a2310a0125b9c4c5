// The root filesystem: the container sees its own directory tree as "/".
#pragma once

#include <nsrun/fd.hpp>

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

/// In the parent, just around clone: the runtime's working directory is
/// DIR, so the child starts there — in its own copy of the mount table.  In
/// a user namespace the child's host uid is another one (100000 with
/// --userns), which may not be allowed to walk the directories above DIR (a
/// home directory of mode 0750); it never has to.  The destructor goes
/// back to the previous working directory.
class RootfsAsWorkingDirectory {
public:
    explicit RootfsAsWorkingDirectory(const RootfsOptions& options);
    RootfsAsWorkingDirectory(const RootfsAsWorkingDirectory&) = delete;
    RootfsAsWorkingDirectory& operator=(const RootfsAsWorkingDirectory&) = delete;
    ~RootfsAsWorkingDirectory();

private:
    nsrun::UniqueFd previous_;
};

/// In the child (user namespace), started in the rootfs: enter_rootfs
/// without its path — the working directory becomes the root.
void enter_rootfs_here();

/// How /sys and the device nodes are made.
enum class SystemDirs {
    fresh,    ///< a new sysfs, device nodes made with mknod(2): needs host root
    borrowed, ///< in a user namespace: a read-only bind of the host's /sys
              ///< (its cgroup mounts covered by an empty tmpfs), the host's
              ///< device nodes bind-mounted one by one
};

/// In the child: a read-only ROOT/sys, a tmpfs ROOT/dev with the standard
/// device nodes, devpts and /dev/shm, and ROOT/tmp.  Fresh: after
/// enter_rootfs and /proc, ROOT "".  Borrowed: before enter_rootfs, ROOT the
/// rootfs, while the host's /sys and /dev are still reachable.
/// `fresh_sysfs`: mount a fresh sysfs even in a borrowed setup — one that
/// shows the container's interfaces, not the host's.  The kernel allows it
/// when the container's network namespace is owned by its user namespace
/// (step 07); the caller knows whether it is.
void mount_system_dirs(const std::string& root = "", SystemDirs how = SystemDirs::fresh, bool fresh_sysfs = false);

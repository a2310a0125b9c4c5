/// @file rootfs.hpp
/// The root filesystem: the container sees its own directory tree as "/".
#pragma once

#include "spec.hpp"

#include <nsrun/fd.hpp>

#include <string>

/// In the parent, before anything is created: root.path must be an existing
/// directory.  Throws a clear error otherwise.
void check_rootfs(const Root& root);

/// In the child, with mounts already private: make root.path the root with
/// pivot_root(2) and detach the old root, so the host's tree is unreachable.
void enter_rootfs(const Root& root);
/// enter_rootfs in two halves, for a bundle whose mounts are made into the
/// rootfs between them: bind root.path onto itself (pivot_root wants a
/// mount point) …
void bind_rootfs(const Root& root);
/// … and pivot_root into it (its submounts come along).
void enter_bound_rootfs(const Root& root);

/// In the child, before /proc, /sys, /dev and /tmp are mounted in ROOT: none
/// of them may be a symlink in the rootfs (an image whose /proc points
/// elsewhere would get a procfs there — or, before pivot_root, on the host:
/// CVE-2019-16884).  Throws nsrun::Error naming the link and its target.
void refuse_symlinked_system_dirs(const std::string& root);

/// In the parent, just around clone: the runtime's working directory is
/// DIR, so the child starts there — in its own copy of the mount table.  In
/// a user namespace the child's host uid is another one (100000 with
/// --userns), which may not be allowed to walk the directories above DIR (a
/// home directory of mode 0750); it never has to.  The destructor goes
/// back to the previous working directory.
class RootfsAsWorkingDirectory {
public:
    explicit RootfsAsWorkingDirectory(const Root& root);
    RootfsAsWorkingDirectory(const RootfsAsWorkingDirectory&) = delete;
    RootfsAsWorkingDirectory& operator=(const RootfsAsWorkingDirectory&) = delete;
    ~RootfsAsWorkingDirectory();

private:
    nsrun::UniqueFd previous_;
};

/// In the child (user namespace), started in the rootfs: enter_rootfs
/// without its path — the working directory becomes the root.
void enter_rootfs_here();

/// In the child, last of the mounts (--read-only): remount / read-only; the
/// mounts on top of it (/proc, /dev, /tmp, volumes) keep their own flags.
void make_root_readonly(const Root& root);

/// How /sys and the device nodes are made.
enum class SystemDirs {
    fresh,    ///< a new sysfs, device nodes made with mknod(2): needs host root
    borrowed, ///< in a user namespace: a read-only bind of the host's /sys,
              ///< the host's device nodes bind-mounted one by one
};

/// In the child, in the tmpfs DEV: the nodes every program expects (null,
/// zero, full, random, urandom, tty): made with mknod(2) (fresh), or the
/// host's bound onto empty files (borrowed, in a user namespace).
void make_standard_devices(const std::string& dev, SystemDirs how);
/// In DEV: fd, stdin, stdout, stderr as links into /proc/self/fd.
void make_standard_dev_links(const std::string& dev);

/// In the child: a read-only ROOT/sys, a tmpfs ROOT/dev with the standard
/// device nodes, devpts and /dev/shm, and ROOT/tmp.  Fresh: after
/// enter_rootfs and /proc, ROOT "".  Borrowed: before enter_rootfs, ROOT the
/// rootfs, while the host's /sys and /dev are still reachable.
/// `own_netns`: the container has a network namespace of its own (step 07),
/// owned by its user namespace, so even a borrowed setup mounts a fresh
/// sysfs — one that shows the container's interfaces, not the host's.
/// `sys_readonly`: false only for --privileged (docker mounts its sysfs
/// read-write).
void mount_system_dirs(const std::string& root = "", SystemDirs how = SystemDirs::fresh, bool own_netns = false,
                       bool sys_readonly = true);

// Changing the root (man 2 pivot_root).  chroot(2) only changes where path
// lookup starts: the old root stays mounted and reachable (a root process can
// chroot back out).  pivot_root(2) instead swaps the root *mount* of the mount
// namespace, after which the old root can be unmounted altogether.
//
// pivot_root wants the new root to be a mount point, so the rootfs is first
// bind-mounted onto itself.  We use pivot_root(".", "."), as runc does: the old
// root ends up stacked on top of the new one at "/", and a lazy unmount of
// "." detaches it.  The classic form, pivot_root(".", ".oldroot") followed by
// rmdir(".oldroot"), needs to write to the rootfs — which breaks read-only
// rootfs and races when several containers share one rootfs.
#include "rootfs.hpp"

#include <nsrun/error.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace {

void mount_tmpfs(const std::string& target, unsigned long flags, const char* data) {
    nsrun::sys::mkdir(target, 0755);
    nsrun::sys::mount("tmpfs", target, "tmpfs", flags, data);
}

/// The device nodes every program expects (what docker and runc create):
/// path, major, minor.
struct DeviceNode {
    const char* path;
    unsigned major;
    unsigned minor;
};
constexpr DeviceNode standard_devices[] = {
    {"/dev/null", 1, 3},    {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},  {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

/// A tmpfs on /dev holding only safe devices: the host's /dev (disks,
/// /dev/mem, …) is never shown to the container.  Inside a user namespace
/// mknod(2) of a device is refused (EPERM): the host's own nodes are
/// bind-mounted onto empty files instead, as podman does rootless.
void populate_dev(const std::string& root, SystemDirs how) {
    const std::string dev = root + "/dev";
    mount_tmpfs(dev, MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    for (const auto& node : standard_devices) {
        const std::string path = root + node.path;
        if (how == SystemDirs::fresh) {
            nsrun::sys::mknod_char(path, 0666, node.major, node.minor);
            nsrun::sys::chmod(path, 0666); // mknod's mode is masked by the umask
        } else {
            nsrun::sys::open(path, O_WRONLY | O_CREAT, 0666); // a mount point for the node
            nsrun::sys::mount(node.path, path, nullptr, MS_BIND);
        }
    }
    // A private devpts instance: the container's terminals are its own.
    nsrun::sys::mkdir(dev + "/pts", 0755);
    nsrun::sys::mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                      "newinstance,ptmxmode=0666,mode=0620");
    nsrun::sys::symlink("pts/ptmx", dev + "/ptmx");
    mount_tmpfs(dev + "/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    nsrun::sys::symlink("/proc/self/fd", dev + "/fd");
    nsrun::sys::symlink("/proc/self/fd/0", dev + "/stdin");
    nsrun::sys::symlink("/proc/self/fd/1", dev + "/stdout");
    nsrun::sys::symlink("/proc/self/fd/2", dev + "/stderr");
}

} // namespace

void check_rootfs(const Root& root) {
    struct stat st {};
    if (::stat(root.path.c_str(), &st) == -1) {
        const int err = errno;
        throw nsrun::Error{fmt::format("--rootfs {}: {}", root.path, nsrun::errno_text(err)),
                           root.path == NSRUN_LAB_ROOTFS ? "build the lab rootfs with `make rootfs`, or pass --rootfs DIR"
                                                           : "give a directory holding the container's files"};
    }
    if (!S_ISDIR(st.st_mode)) {
        throw nsrun::Error{fmt::format("--rootfs {}: not a directory", root.path),
                           "give a directory holding the container's files (e.g. an unpacked image)"};
    }
}

void enter_rootfs(const Root& root) {
    nsrun::sys::mount(root.path.c_str(), root.path, nullptr, MS_BIND | MS_REC);
    nsrun::sys::chdir(root.path);
    nsrun::sys::pivot_root(".", ".");
    nsrun::sys::umount2(".", MNT_DETACH);
    nsrun::sys::chdir("/");
}

void make_root_readonly(const Root& root) {
    if (root.readonly) {
        nsrun::sys::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY);
    }
}

void mount_system_dirs(const std::string& root, SystemDirs how, bool own_netns, bool sys_readonly) {
    // /sys read-only: the container may read it but never reconfigure the host.
    nsrun::sys::mkdir(root + "/sys", 0555);
    const unsigned long readonly = sys_readonly ? MS_RDONLY : 0;
    if (how == SystemDirs::fresh || own_netns) {
        nsrun::sys::mount("sysfs", root + "/sys", "sysfs", readonly | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    } else {
        // A fresh sysfs needs a network namespace owned by our user namespace
        // (step 07); until then, the host's, read-only down to every submount.
        nsrun::sys::mount("/sys", root + "/sys", nullptr, MS_BIND | MS_REC);
        nsrun::sys::mount_setattr_recursive(root + "/sys", (sys_readonly ? MOUNT_ATTR_RDONLY : 0) | MOUNT_ATTR_NOSUID |
                                                               MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    }
    populate_dev(root, how);
    mount_tmpfs(root + "/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
}

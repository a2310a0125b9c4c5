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
/// /dev/mem, …) is never shown to the container.
void populate_dev() {
    mount_tmpfs("/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    for (const auto& node : standard_devices) {
        nsrun::sys::mknod_char(node.path, 0666, node.major, node.minor);
        nsrun::sys::chmod(node.path, 0666); // mknod's mode is masked by the umask
    }
    // A private devpts instance: the container's terminals are its own.
    nsrun::sys::mkdir("/dev/pts", 0755);
    nsrun::sys::mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                      "newinstance,ptmxmode=0666,mode=0620");
    nsrun::sys::symlink("pts/ptmx", "/dev/ptmx");
    mount_tmpfs("/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    nsrun::sys::symlink("/proc/self/fd", "/dev/fd");
    nsrun::sys::symlink("/proc/self/fd/0", "/dev/stdin");
    nsrun::sys::symlink("/proc/self/fd/1", "/dev/stdout");
    nsrun::sys::symlink("/proc/self/fd/2", "/dev/stderr");
}

} // namespace

void check_rootfs(const RootfsOptions& options) {
    struct stat st {};
    if (::stat(options.dir.c_str(), &st) == -1) {
        const int err = errno;
        throw nsrun::Error{fmt::format("--rootfs {}: {}", options.dir, nsrun::errno_text(err)),
                           options.dir == NSRUN_LAB_ROOTFS ? "build the lab rootfs with `make rootfs`, or pass --rootfs DIR"
                                                           : "give a directory holding the container's files"};
    }
    if (!S_ISDIR(st.st_mode)) {
        throw nsrun::Error{fmt::format("--rootfs {}: not a directory", options.dir),
                           "give a directory holding the container's files (e.g. an unpacked image)"};
    }
}

void enter_rootfs(const RootfsOptions& options) {
    nsrun::sys::mount(options.dir.c_str(), options.dir, nullptr, MS_BIND | MS_REC);
    nsrun::sys::chdir(options.dir);
    nsrun::sys::pivot_root(".", ".");
    nsrun::sys::umount2(".", MNT_DETACH);
    nsrun::sys::chdir("/");
}

void mount_system_dirs() {
    // sysfs read-only: the container may read it but never reconfigure the host.
    nsrun::sys::mkdir("/sys", 0555);
    nsrun::sys::mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    populate_dev();
    mount_tmpfs("/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
}

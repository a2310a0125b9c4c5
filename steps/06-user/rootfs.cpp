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
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

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

/// The recursive bind of the host's /sys brought the host's cgroup mounts
/// along: a cgroup2 mount at sys/fs/cgroup (cgroup v2), or a tmpfs of v1
/// hierarchies (v1, hybrid).  The container must not browse the host's cgroup
/// tree, but it cannot unmount it either: mounts inherited into a user
/// namespace are locked (man 7 mount_namespaces), so that what they cover is
/// never revealed — umount2 fails with EINVAL.  So they are covered with an
/// empty read-only tmpfs, as crun does; the container's own cgroup view goes
/// on top of it.  (Mounting cgroup2 straight onto the host's cgroup2 mount
/// would fail anyway: the kernel refuses to stack a filesystem on its own
/// root, EBUSY.)
void cover_host_cgroups(const std::string& cgroup_dir) {
    struct stat st {};
    if (::stat(cgroup_dir.c_str(), &st) == -1 || !S_ISDIR(st.st_mode)) {
        return; // no cgroupfs on this host: nothing to cover
    }
    nsrun::sys::mount("tmpfs", cgroup_dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=4k");
}

/// The first directory on the way to `path` ("/", "/home", "/home/alice",
/// …, `path` itself) that the caller may not search (access(2), real ids),
/// or "" if none blocks.
std::string first_unsearchable(const std::string& path) {
    std::filesystem::path so_far;
    for (const auto& part : std::filesystem::absolute(path).lexically_normal()) {
        so_far /= part;
        if (::access(so_far.c_str(), X_OK) == -1 && errno == EACCES) {
            return so_far.string();
        }
    }
    return {};
}

/// A directory on the way to the rootfs that the caller may not search: name
/// it, its mode and owner, and the one-line fix.
nsrun::Error blocked_by(const std::string& rootfs, const std::string& dir) {
    struct stat st {};
    ::stat(dir.c_str(), &st);
    return nsrun::Error{
        fmt::format("--rootfs {}: uid {} may not enter {} (mode {:o}, owner {}:{}), a directory on the way to it",
                    rootfs, ::getuid(), dir, st.st_mode & 07777, st.st_uid, st.st_gid),
        fmt::format("let every user pass through it: chmod o+x {} — or put the rootfs where uid {} can reach it "
                    "and pass --rootfs DIR",
                    dir, ::getuid())};
}

} // namespace

void check_rootfs(const RootfsOptions& options) {
    struct stat st {};
    if (::stat(options.dir.c_str(), &st) == -1) {
        const int err = errno;
        if (const std::string dir = err == EACCES ? first_unsearchable(options.dir) : ""; !dir.empty()) {
            throw blocked_by(options.dir, dir);
        }
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

RootfsAsWorkingDirectory::RootfsAsWorkingDirectory(const RootfsOptions& options)
    : previous_(nsrun::sys::open(".", O_PATH | O_DIRECTORY)) {
    // clone(CLONE_NEWNS) gives the child a copy of the mount table, and moves
    // its working directory over to the copy: the child starts in the rootfs
    // of its own mount namespace, without ever walking the path to it.
    nsrun::sys::chdir(options.dir);
}

RootfsAsWorkingDirectory::~RootfsAsWorkingDirectory() {
    if (::fchdir(previous_.get()) == -1) {
        nsrun::explain::note("fchdir back to the previous working directory failed: staying in the rootfs");
    }
}

void enter_rootfs_here() {
    // pivot_root wants the new root to be a mount point: above, the rootfs is
    // bind-mounted onto itself and entered by its path.  Here a mount on "."
    // cannot be entered through "." (it names the directory *under* the new
    // mount), and the path may be out of reach.  So: a copy of the rootfs's
    // mount tree (with the /proc, /sys and /dev just mounted in it), attached
    // on top of the rootfs and held by a descriptor we fchdir(2) into.
    const nsrun::UniqueFd here = nsrun::sys::open(".", O_PATH | O_DIRECTORY);
    const nsrun::UniqueFd tree = nsrun::sys::open_tree_clone(here.get(), "the rootfs");
    nsrun::sys::move_mount(tree.get(), here.get(), "the rootfs");
    nsrun::sys::fchdir(tree.get(), "the rootfs's new mount");
    nsrun::sys::pivot_root(".", ".");
    nsrun::sys::umount2(".", MNT_DETACH);
    nsrun::sys::chdir("/");
}

void mount_system_dirs(const std::string& root, SystemDirs how) {
    // /sys read-only: the container may read it but never reconfigure the host.
    nsrun::sys::mkdir(root + "/sys", 0555);
    if (how == SystemDirs::fresh) {
        nsrun::sys::mount("sysfs", root + "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    } else {
        // A fresh sysfs needs a network namespace owned by our user namespace
        // (step 07); until then, the host's, read-only down to every submount.
        nsrun::sys::mount("/sys", root + "/sys", nullptr, MS_BIND | MS_REC);
        nsrun::sys::mount_setattr_recursive(root + "/sys", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                                               MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        cover_host_cgroups(root + "/sys/fs/cgroup");
    }
    populate_dev(root, how);
    mount_tmpfs(root + "/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
}

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

/// The device nodes every program expects (what docker and runc create):
/// path in /dev, major, minor.
struct StandardNode {
    const char* name;
    unsigned major;
    unsigned minor;
};
constexpr StandardNode standard_devices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

} // namespace

void make_standard_devices(const std::string& dev, SystemDirs how) {
    for (const auto& node : standard_devices) {
        const std::string path = dev + "/" + node.name;
        if (how == SystemDirs::fresh) {
            nsrun::sys::mknod_char(path, 0666, node.major, node.minor);
            nsrun::sys::chmod(path, 0666); // mknod's mode is masked by the umask
        } else {
            nsrun::sys::open(path, O_WRONLY | O_CREAT, 0666); // a mount point for the node
            nsrun::sys::mount((std::string("/dev/") + node.name).c_str(), path, nullptr, MS_BIND);
        }
    }
}

void make_standard_dev_links(const std::string& dev) {
    nsrun::sys::symlink("/proc/self/fd", dev + "/fd");
    nsrun::sys::symlink("/proc/self/fd/0", dev + "/stdin");
    nsrun::sys::symlink("/proc/self/fd/1", dev + "/stdout");
    nsrun::sys::symlink("/proc/self/fd/2", dev + "/stderr");
}

namespace {

void mount_tmpfs(const std::string& target, unsigned long flags, const char* data) {
    nsrun::sys::mkdir(target, 0755);
    nsrun::sys::mount("tmpfs", target, "tmpfs", flags, data);
}

/// A new tmpfs (fsopen/fsconfig/fsmount), attached onto the directory `dir`
/// of `root` — opened with O_NOFOLLOW, so a name swapped for a symlink is
/// refused (ELOOP/ENOTDIR), never followed — and returned as a descriptor of
/// the mount's own root.  Paths under fd_path() of it name what is inside
/// this tmpfs whatever anyone does to the rootfs's names meanwhile: before
/// pivot_root (in a user namespace) the host is reachable from the rootfs,
/// and a container sharing the rootfs could swap /dev for a symlink to a
/// host directory between a check and the files made in it (CVE-2025-31133
/// class).
nsrun::UniqueFd attach_tmpfs(const std::string& root, const char* dir, const char* size, unsigned long long attrs) {
    const nsrun::UniqueFd top = nsrun::sys::open(root.empty() ? "/" : root, O_PATH | O_DIRECTORY);
    if (::mkdirat(top.get(), dir, 0755) == -1 && errno != EEXIST) {
        throw nsrun::SysError(fmt::format("mkdirat(<root>, {})", nsrun::explain::quote(dir)), errno);
    }
    const int target = ::openat(top.get(), dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (target == -1) {
        throw nsrun::SysError(
            fmt::format("openat(<root>, {}, O_PATH|O_DIRECTORY|O_NOFOLLOW) (is it a symlink now?)", nsrun::explain::quote(dir)),
            errno);
    }
    const nsrun::UniqueFd on{target};
    const nsrun::UniqueFd fs{::fsopen("tmpfs", FSOPEN_CLOEXEC)};
    if (!fs) {
        throw nsrun::SysError("fsopen(\"tmpfs\")", errno);
    }
    for (const auto& [key, value] : {std::pair{"source", "tmpfs"}, std::pair{"mode", "755"}, std::pair{"size", size}}) {
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0) == -1) {
            throw nsrun::SysError(fmt::format("fsconfig(tmpfs, {}={})", key, value), errno);
        }
    }
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == -1) {
        throw nsrun::SysError("fsconfig(tmpfs, FSCONFIG_CMD_CREATE)", errno);
    }
    const nsrun::UniqueFd mounted{::fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs))};
    if (!mounted) {
        throw nsrun::SysError("fsmount(tmpfs)", errno);
    }
    nsrun::explain::note("fsopen(\"tmpfs\"), fsconfig(mode=755, size={}), fsmount() = {}", size, mounted.get());
    nsrun::sys::move_mount(mounted.get(), on.get(), std::string(dir));
    return nsrun::UniqueFd{::fcntl(mounted.get(), F_DUPFD_CLOEXEC, 0)};
}

/// A tmpfs on /dev holding only safe devices: the host's /dev (disks,
/// /dev/mem, …) is never shown to the container.  Inside a user namespace
/// mknod(2) of a device is refused (EPERM): the host's own nodes are
/// bind-mounted onto empty files instead, as podman does rootless.  All of
/// it is made through the new tmpfs's descriptor (attach_tmpfs).
void populate_dev(const std::string& root, SystemDirs how) {
    const nsrun::UniqueFd mounted = attach_tmpfs(root, "dev", "65536k", MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME);
    const std::string dev = fmt::format("/proc/self/fd/{}", mounted.get());
    make_standard_devices(dev, how);
    // A private devpts instance: the container's terminals are its own.
    nsrun::sys::mkdir(dev + "/pts", 0755);
    nsrun::sys::mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                      "newinstance,ptmxmode=0666,mode=0620");
    nsrun::sys::symlink("pts/ptmx", dev + "/ptmx");
    mount_tmpfs(dev + "/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    make_standard_dev_links(dev);
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

void check_rootfs(const Root& root) {
    struct stat st {};
    if (::stat(root.path.c_str(), &st) == -1) {
        const int err = errno;
        if (const std::string dir = err == EACCES ? first_unsearchable(root.path) : ""; !dir.empty()) {
            throw blocked_by(root.path, dir);
        }
        throw nsrun::Error{fmt::format("--rootfs {}: {}", root.path, nsrun::errno_text(err)),
                           root.path == NSRUN_LAB_ROOTFS ? "build the lab rootfs with `make rootfs`, or pass --rootfs DIR"
                                                           : "give a directory holding the container's files"};
    }
    if (!S_ISDIR(st.st_mode)) {
        throw nsrun::Error{fmt::format("--rootfs {}: not a directory", root.path),
                           "give a directory holding the container's files (e.g. an unpacked image)"};
    }
}

void refuse_symlinked_system_dirs(const std::string& root) {
    const nsrun::UniqueFd dir = nsrun::sys::open(root.empty() ? "/" : root, O_PATH | O_DIRECTORY);
    for (const char* name : {"proc", "sys", "dev", "tmp"}) {
        struct stat st {};
        if (::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISLNK(st.st_mode)) {
            continue; // missing (made later) or a real directory
        }
        char target[4096] = {};
        const ssize_t n = ::readlinkat(dir.get(), name, target, sizeof target - 1);
        throw nsrun::Error{fmt::format("the rootfs's /{} is a symlink (to {}): refused, the kernel's filesystems "
                                       "are mounted only on real directories",
                                       name, n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "?"),
                           fmt::format("make /{} an empty directory in the image", name)};
    }
}

void enter_rootfs(const Root& root) {
    nsrun::sys::mount(root.path.c_str(), root.path, nullptr, MS_BIND | MS_REC);
    enter_bound_rootfs(root);
}

void bind_rootfs(const Root& root) { nsrun::sys::mount(root.path.c_str(), root.path, nullptr, MS_BIND | MS_REC); }

void enter_bound_rootfs(const Root& root) {
    nsrun::sys::chdir(root.path);
    nsrun::sys::pivot_root(".", ".");
    nsrun::sys::umount2(".", MNT_DETACH);
    nsrun::sys::chdir("/");
}

RootfsAsWorkingDirectory::RootfsAsWorkingDirectory(const Root& root)
    : previous_(nsrun::sys::open(".", O_PATH | O_DIRECTORY)) {
    // clone(CLONE_NEWNS) gives the child a copy of the mount table, and moves
    // its working directory over to the copy: the child starts in the rootfs
    // of its own mount namespace, without ever walking the path to it.
    nsrun::sys::chdir(root.path);
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
        cover_host_cgroups(root + "/sys/fs/cgroup");
    }
    populate_dev(root, how);
    mount_tmpfs(root + "/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
}

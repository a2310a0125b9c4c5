// An OCI bundle's mounts, made as config.json lists them (bundle_mounts.hpp).
//
// `nsrun run` knows what a container needs and mounts it itself (rootfs.cpp:
// /proc, /sys, a /dev tmpfs with its nodes, /tmp).  A bundle's caller decides
// instead: podman and containerd list proc, sysfs, a tmpfs /dev, devpts,
// /dev/shm, mqueue, the cgroup view and their binds (/etc/hosts,
// /etc/resolv.conf, volumes) with the options of each, and a runtime mounts
// exactly that, in that order — a later mount may land inside an earlier one
// (/dev/pts in /dev).  Like runc, nsrun mounts them into the rootfs before
// pivot_root, while the host's tree (the bind sources, the host's /dev in a
// user namespace, the container's cgroup directories) is still reachable.
// Every destination is resolved inside the rootfs by the kernel (inroot.hpp),
// so no symlink of the image leads a mount onto the host.
#include "bundle_mounts.hpp"

#include "devices.hpp"
#include "inroot.hpp"
#include "rootfs.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <map>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace {

/// A flag option: the MS_* bits it sets, and whether it clears them instead.
struct FlagOption {
    unsigned long bits;
    bool clear;
};

const std::map<std::string, FlagOption>& flag_options() {
    static const std::map<std::string, FlagOption> options = {
        {"ro", {MS_RDONLY, false}},         {"rw", {MS_RDONLY, true}},
        {"nosuid", {MS_NOSUID, false}},     {"suid", {MS_NOSUID, true}},
        {"nodev", {MS_NODEV, false}},       {"dev", {MS_NODEV, true}},
        {"noexec", {MS_NOEXEC, false}},     {"exec", {MS_NOEXEC, true}},
        {"sync", {MS_SYNCHRONOUS, false}},  {"async", {MS_SYNCHRONOUS, true}},
        {"dirsync", {MS_DIRSYNC, false}},   {"mand", {MS_MANDLOCK, false}},
        {"nomand", {MS_MANDLOCK, true}},    {"noatime", {MS_NOATIME, false}},
        {"atime", {MS_NOATIME, true}},      {"nodiratime", {MS_NODIRATIME, false}},
        {"diratime", {MS_NODIRATIME, true}}, {"relatime", {MS_RELATIME, false}},
        {"norelatime", {MS_RELATIME, true}}, {"strictatime", {MS_STRICTATIME, false}},
        {"nostrictatime", {MS_STRICTATIME, true}}, {"lazytime", {MS_LAZYTIME, false}},
        {"nolazytime", {MS_LAZYTIME, true}}, {"silent", {MS_SILENT, false}},
        {"loud", {MS_SILENT, true}},        {"iversion", {MS_I_VERSION, false}},
        {"noiversion", {MS_I_VERSION, true}}, {"nosymfollow", {MS_NOSYMFOLLOW, false}},
        {"symfollow", {MS_NOSYMFOLLOW, true}}, {"defaults", {0, false}},
    };
    return options;
}

const std::map<std::string, unsigned long>& propagation_options() {
    static const std::map<std::string, unsigned long> options = {
        {"private", MS_PRIVATE},        {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
        {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},              {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE},  {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    return options;
}

/// MS_* read-only, nosuid, nodev, noexec → MOUNT_ATTR_* (a detached bind's
/// flags are set with mount_setattr before it is attached).
unsigned long long mount_attributes(unsigned long flags) {
    unsigned long long attr = 0;
    if (flags & MS_RDONLY) attr |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID) attr |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV) attr |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC) attr |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NOATIME) attr |= MOUNT_ATTR_NOATIME;
    if (flags & MS_NODIRATIME) attr |= MOUNT_ATTR_NODIRATIME;
    if (flags & MS_STRICTATIME) attr |= MOUNT_ATTR_STRICTATIME;
    if (flags & MS_NOSYMFOLLOW) attr |= MOUNT_ATTR_NOSYMFOLLOW;
    return attr;
}

std::string describe(const Mount& m) {
    return fmt::format("config.json mounts: {} on {}", m.type == "bind" ? m.source : m.type, m.destination);
}

/// The path the kernel walks to `destination` inside ROOT — mounts made on
/// it are crossed, unlike a /proc/self/fd/N jump — checked to be the very
/// directory open_in_root resolves, so no symlink changed the way.
std::string walkable(int root_fd, const std::string& root, const Mount& m) {
    const nsrun::UniqueFd resolved = open_in_root(root_fd, m.destination);
    const std::string path = root + m.destination;
    struct stat by_fd {};
    struct stat by_path {};
    if (::fstat(resolved.get(), &by_fd) == -1 || ::lstat(path.c_str(), &by_path) == -1 ||
        by_fd.st_dev != by_path.st_dev || by_fd.st_ino != by_path.st_ino) {
        throw nsrun::Error{fmt::format("{}: {} is not the directory it resolves to inside the root (a symlink on "
                                       "the way)",
                                       describe(m), path),
                           "mount onto a real directory of the image"};
    }
    return path;
}

/// The tmpfs config.json mounted on /dev, as a descriptor of its root: "dev"
/// opened without following a symlink (O_NOFOLLOW|O_DIRECTORY: a symlink
/// there is ENOTDIR) and checked to be a tmpfs, so a /dev swapped after the
/// mount is refused (125), never written through.
nsrun::UniqueFd own_dev_tmpfs(int root_fd) {
    const int fd = ::openat(root_fd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1) {
        throw nsrun::SysError("openat(<root>, \"dev\", O_PATH|O_DIRECTORY|O_NOFOLLOW) (is /dev a symlink now?)",
                              errno);
    }
    nsrun::UniqueFd dev{fd};
    struct statfs fs {};
    if (::fstatfs(dev.get(), &fs) == -1 || fs.f_type != TMPFS_MAGIC) {
        throw nsrun::Error{"config.json mounts: /dev is no longer the tmpfs mounted there (was it renamed while the "
                           "container was made?)",
                           "do not let another process change the bundle's rootfs while nsrun create runs"};
    }
    nsrun::explain::note("openat(<root>, \"dev\", O_PATH|O_DIRECTORY|O_NOFOLLOW) = {} (a tmpfs)", dev.get());
    return dev;
}

/// The destination, made if missing and resolved inside the root.
nsrun::UniqueFd destination_of(int root_fd, const Mount& m, bool directory) {
    try {
        return make_in_root(root_fd, m.destination, directory);
    } catch (const nsrun::SysError& e) {
        throw nsrun::Error{fmt::format("{}: the destination cannot be made inside the container: {}", describe(m),
                                       e.what()),
                           "a destination is resolved inside the container's root; check the image's symlinks on "
                           "the way to it"};
    }
}

bool is_dir(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

void mount_bind(int root_fd, const Mount& m, const MountOptions& o, const nsrun::UniqueFd& source) {
    const nsrun::UniqueFd destination = destination_of(root_fd, m, is_dir(source.get()));
    if (!is_kernel_filesystem_path(m.destination) && is_on_kernel_filesystem(destination)) {
        throw nsrun::Error{fmt::format("{}: the destination resolves into /proc, /sys or a cgroup filesystem (a "
                                       "symlink in the rootfs points there)",
                                       describe(m)),
                           "mount somewhere else"};
    }
    if (const unsigned long long attr = mount_attributes(o.flags)) {
        // On the detached copy, before it is attached: no path is walked again.
        nsrun::sys::mount_setattr_recursive(source.get(), attr, m.source);
    }
    nsrun::sys::move_mount(source.get(), destination.get(), m.destination);
    if (o.propagation & (MS_SHARED | MS_SLAVE | MS_UNBINDABLE)) {
        // The copy is private (as everything here); other propagation is
        // given to the attached mount, reached again through the root.
        const nsrun::UniqueFd attached = open_in_root(root_fd, m.destination);
        nsrun::sys::mount(nullptr, fd_path(attached), nullptr, o.propagation);
    }
}

void mount_filesystem(int root_fd, const std::string& root, const Mount& m, const MountOptions& o,
                      bool own_cgroup_namespace, const std::function<const Cgroup*()>& cgroup_view) {
    const nsrun::UniqueFd destination = destination_of(root_fd, m, true);
    nsrun::explain::note("{} is {} inside the root", fd_path(destination), nsrun::explain::quote(m.destination));
    if (m.type == "cgroup" || m.type == "cgroup2") {
        const Cgroup* cgroup = cgroup_view();
        if (!cgroup) {
            nsrun::explain::note("{}: the container has no cgroup: an empty read-only tmpfs instead", describe(m));
            nsrun::sys::mount("tmpfs", fd_path(destination), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                              "mode=755,size=4k");
            return;
        }
        cgroup->mount_view_at(walkable(root_fd, root, m), own_cgroup_namespace);
        return;
    }
    nsrun::sys::mount(m.source.c_str(), fd_path(destination), m.type.c_str(), o.flags,
                      o.data.empty() ? nullptr : o.data.c_str());
    if (o.propagation & (MS_SHARED | MS_SLAVE | MS_UNBINDABLE)) {
        const nsrun::UniqueFd mounted = open_in_root(root_fd, m.destination);
        nsrun::sys::mount(nullptr, fd_path(mounted), nullptr, o.propagation);
    }
}

} // namespace

MountOptions mount_options(const std::vector<std::string>& options) {
    MountOptions o;
    for (const auto& option : options) {
        if (const auto flag = flag_options().find(option); flag != flag_options().end()) {
            o.flags = flag->second.clear ? o.flags & ~flag->second.bits : o.flags | flag->second.bits;
        } else if (const auto p = propagation_options().find(option); p != propagation_options().end()) {
            o.propagation = p->second;
        } else if (option == "rbind") {
            o.recursive_bind = true;
        } else if (option.find('=') == std::string::npos && (option == "bind" || option.starts_with("r"))) {
            // bind; the recursive forms (rro, rnosuid, …) act like the plain
            // ones: a bind is attached with its whole tree
            if (option.size() > 1 && option.front() == 'r' && option != "rbind") {
                if (const auto plain = flag_options().find(option.substr(1)); plain != flag_options().end()) {
                    o.flags = plain->second.clear ? o.flags & ~plain->second.bits : o.flags | plain->second.bits;
                }
            }
        } else {
            o.data += (o.data.empty() ? "" : ",") + option;
        }
    }
    return o;
}

void mount_bundle(const ContainerSpec& spec, const std::string& root, bool in_user_namespace,
                  const std::vector<nsrun::UniqueFd>& sources, const std::function<const Cgroup*()>& cgroup_view) {
    const nsrun::UniqueFd root_fd = nsrun::sys::open(root.empty() ? "/" : root, O_PATH | O_DIRECTORY);
    const Namespace* cgroupns = spec.linux.find("cgroup");
    const bool own_cgroup_namespace = cgroupns && cgroupns->path.empty();
    bool dev_is_tmpfs = false;
    for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
        const Mount& m = spec.mounts[i];
        const MountOptions o = mount_options(m.options);
        if (m.type == "bind") {
            mount_bind(root_fd.get(), m, o, sources[i]);
        } else {
            mount_filesystem(root_fd.get(), root, m, o, own_cgroup_namespace, cgroup_view);
        }
        dev_is_tmpfs = m.destination == "/dev" ? m.type == "tmpfs" : dev_is_tmpfs;
    }
    if (dev_is_tmpfs) {
        // runc's default devices: in the container's own /dev, what every program expects —
        // made through the tmpfs's own descriptor, never by the name "ROOT/dev": before
        // pivot_root the host is reachable from the rootfs, and a container sharing it could
        // rename /dev away (a mount point only in our namespace, not in its own) and put a
        // symlink to a host directory in its place between a check and the nodes made by path.
        const nsrun::UniqueFd dev_fd = own_dev_tmpfs(root_fd.get());
        const std::string dev = fmt::format("/proc/self/fd/{}", dev_fd.get());
        make_standard_devices(dev, in_user_namespace ? SystemDirs::borrowed : SystemDirs::fresh);
        make_standard_dev_links(dev);
        if (!nsrun::fs::exists(dev + "/ptmx")) {
            nsrun::sys::symlink("pts/ptmx", dev + "/ptmx");
        }
    } // else the image's /dev, or the caller's bind: its nodes are theirs
    make_device_nodes(root, spec.linux.devices, /*bind_from_host=*/in_user_namespace);
}

void apply_bundle_settings(const ContainerSpec& spec) {
    for (const auto& [key, value] : spec.linux.sysctl) {
        std::string file = "/proc/sys/" + key;
        std::replace(file.begin() + 10, file.end(), '.', '/');
        nsrun::sys::write_file(file, value);
    }
    const std::string& propagation = spec.linux.rootfs_propagation;
    if (!propagation.empty()) {
        const auto p = propagation_options().find(propagation);
        if (p == propagation_options().end()) {
            throw nsrun::Error{fmt::format("linux.rootfsPropagation: \"{}\" is not a propagation", propagation),
                               "give private, rprivate, slave, rslave, shared, rshared, unbindable or runbindable"};
        }
        nsrun::sys::mount(nullptr, "/", nullptr, p->second);
    }
}

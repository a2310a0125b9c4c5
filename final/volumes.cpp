// A bind mount (mount --bind) makes a host directory or file appear at a
// second place; made inside the container's mount namespace, it exists only
// there.  The parent, still in the host's mount namespace, takes a detached
// copy of the source's mount tree (open_tree with OPEN_TREE_CLONE): a plain
// descriptor would not do, since mount(2) refuses to bind a mount that
// belongs to another mount namespace (EINVAL).  After pivot_root the child
// attaches that copy with move_mount: the destination is then resolved
// inside the container's root, so a symlink in the rootfs cannot send it to
// the host.
#include "volumes.hpp"

#include "inroot.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace {

void check_destination(const std::string& flag, const std::string& text, const std::string& path) {
    if (path.empty() || path.front() != '/') {
        throw nsrun::Error{fmt::format("{} {}: the container path '{}' must be absolute", flag, text, path),
                           "e.g. -v /srv/site:/srv/www:ro"};
    }
    if (path == "/") {
        throw nsrun::Error{fmt::format("{} {}: cannot mount over the container's /", flag, text)};
    }
    if (is_kernel_filesystem_path(path)) {
        throw nsrun::Error{fmt::format("{} {}: {} is the kernel's view (/proc, /sys and below): a mount there is "
                                       "refused",
                                       flag, text, path),
                           "mount somewhere else, e.g. -v /srv/data:/data"};
    }
}

bool is_dir(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

std::string describe(const Mount& m) {
    return m.type == "tmpfs" ? fmt::format("--tmpfs {}", m.destination) : fmt::format("-v {}:{}", m.source, m.destination);
}

/// The destination, made if missing and resolved inside the root; refused
/// when it reached /proc, /sys or a cgroup filesystem through a symlink.
nsrun::UniqueFd destination_of(const Mount& m, int root, bool directory) {
    nsrun::UniqueFd fd;
    try {
        fd = make_in_root(root, m.destination, directory);
    } catch (const nsrun::SysError& e) {
        throw nsrun::Error{fmt::format("{}: the destination {} cannot be made inside the container: {}", describe(m),
                                       m.destination, e.what()),
                           "a destination is resolved inside the container's root; check the image's symlinks "
                           "on the way to it"};
    }
    if (is_on_kernel_filesystem(fd)) {
        throw nsrun::Error{fmt::format("{}: the destination {} resolves into /proc, /sys or a cgroup filesystem "
                                       "(a symlink in the rootfs points there)",
                                       describe(m), m.destination),
                           "mount somewhere else: a volume may not replace the kernel's view"};
    }
    return fd;
}

} // namespace

Mount parse_volume(const std::string& text) {
    const auto first = text.find(':');
    if (first == std::string::npos) {
        throw nsrun::Error{fmt::format("-v {}: give HOST:CONTAINER[:ro|rw]", text), "e.g. -v /srv/site:/srv/www:ro"};
    }
    Mount m{.destination = "", .type = "bind", .source = text.substr(0, first), .options = {"rbind"}};
    std::string rest = text.substr(first + 1);
    std::string mode = "rw";
    if (const auto second = rest.find(':'); second != std::string::npos) {
        mode = rest.substr(second + 1);
        rest = rest.substr(0, second);
    }
    if (mode != "ro" && mode != "rw") {
        throw nsrun::Error{fmt::format("-v {}: the mode is ro or rw, not '{}'", text, mode)};
    }
    if (m.source.empty() || m.source.front() != '/') {
        throw nsrun::Error{fmt::format("-v {}: the host path '{}' must be absolute", text, m.source),
                           "named volumes do not exist in nsrun: give a host directory, e.g. -v $PWD/data:/data"};
    }
    check_destination("-v", text, rest);
    m.destination = rest;
    m.options.push_back(mode);
    return m;
}

Mount parse_tmpfs(const std::string& text) {
    check_destination("--tmpfs", text, text);
    return Mount{.destination = text, .type = "tmpfs", .source = "tmpfs", .options = {"nosuid", "nodev", "mode=1777"}};
}

void check_volumes(const ContainerSpec& spec) {
    if (!spec.nsrun.bundle.empty()) {
        // config.json's mounts are the whole list, /proc and /sys included.
        for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
            const Mount& m = spec.mounts[i];
            if (m.type == "bind" && !nsrun::fs::exists(m.source)) {
                throw nsrun::Error{fmt::format("config.json: mounts[{}].source: {} does not exist (the bind to {})", i,
                                               m.source, m.destination),
                                   "create it first, or correct the path in config.json"};
            }
        }
        return;
    }
    for (const auto& m : spec.mounts) {
        if ((m.type == "bind" || m.type == "tmpfs") && is_kernel_filesystem_path(m.destination)) {
            throw nsrun::Error{fmt::format("{}: {} is the kernel's view (/proc, /sys and below): a volume there is "
                                           "refused",
                                           describe(m), m.destination),
                               "mount somewhere else, e.g. -v /srv/data:/data"};
        }
        if (m.type == "bind" && !nsrun::fs::exists(m.source)) {
            throw nsrun::Error{fmt::format("-v {}:{}: the host path {} does not exist", m.source, m.destination,
                                           m.source),
                               "create it first, or check the spelling"};
        }
    }
}

std::vector<nsrun::UniqueFd> open_volume_sources(const ContainerSpec& spec) {
    std::vector<nsrun::UniqueFd> fds;
    for (const auto& m : spec.mounts) {
        if (m.type != "bind") {
            fds.emplace_back();
            continue;
        }
        // rbind (every -v, and config.json's "rbind") brings what is mounted
        // below the source; config.json's plain "bind" does not (MS_BIND
        // without MS_REC, as runc).
        const bool recursive = std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end();
        const nsrun::UniqueFd source = nsrun::sys::open(m.source, O_PATH | O_CLOEXEC);
        fds.push_back(nsrun::sys::open_tree_clone(source.get(), m.source, recursive));
    }
    return fds;
}

void mount_volumes(const ContainerSpec& spec, const std::vector<nsrun::UniqueFd>& sources) {
    const nsrun::UniqueFd root = nsrun::sys::open("/", O_PATH | O_DIRECTORY);
    for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
        const Mount& m = spec.mounts[i];
        if (m.type == "tmpfs") {
            const nsrun::UniqueFd destination = destination_of(m, root.get(), true);
            nsrun::explain::note("{} is {} inside the root", fd_path(destination), nsrun::explain::quote(m.destination));
            nsrun::sys::mount("tmpfs", fd_path(destination), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
            continue;
        }
        const nsrun::UniqueFd destination = destination_of(m, root.get(), is_dir(sources[i].get()));
        if (m.readonly()) {
            // On the detached copy, before it is attached: no path is walked again.
            nsrun::sys::mount_setattr_recursive(sources[i].get(), MOUNT_ATTR_RDONLY, m.source);
        }
        nsrun::sys::move_mount(sources[i].get(), destination.get(), m.destination);
    }
}

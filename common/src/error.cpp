#include "nsrun/error.hpp"

#include <cstring>
#include <unistd.h>

#include <fmt/format.h>

namespace nsrun {

Error::Error(std::string message, std::string hint, int exit_status)
    : std::runtime_error(std::move(message)), hint_(std::move(hint)),
      exit_status_(exit_status) {}

SysError::SysError(std::string call, int err)
    : Error(fmt::format("{} failed: {}", call, std::strerror(err)), hint_for(call, err)),
      call_(std::move(call)), errno_(err) {}

std::string errno_name(int err) {
    // strerrorname_np is glibc ≥ 2.32 and gives the symbolic name, which is
    // what learners will find in man pages' ERRORS sections.
    if (const char* name = strerrorname_np(err)) {
        return name;
    }
    return std::to_string(err);
}

std::string errno_text(int err) {
    return fmt::format("{} ({})", errno_name(err), std::strerror(err));
}

std::string hint_for(const std::string& call, int err) {
    const auto starts = [&](std::string_view prefix) { return call.starts_with(prefix); };
    switch (err) {
    case EPERM:
        if (starts("unshare") || starts("clone") || starts("setns")) {
            return "creating namespaces needs root (CAP_SYS_ADMIN): run as root, e.g. with sudo";
        }
        if (starts("setgroups")) {
            return "setgroups needs CAP_SETGID; in a user namespace it must be allowed (/proc/PID/setgroups "
                   "\"allow\", written before gid_map)";
        }
        return "this needs root privileges: run as root, e.g. with sudo";
    case EACCES:
        // Root inside a user namespace is an ordinary uid on the host: telling
        // it to "run as root" would not help.
        return ::geteuid() == 0 ? "permission denied: check the permissions of the path and of every directory "
                                  "above it (namei -l PATH lists them)"
                                : "permission denied: check the permissions of the path and of every directory "
                                  "above it (namei -l PATH lists them), or run as root";
    case ENOSPC:
        if (starts("clone")) {
            return "the namespace limit is reached: see /proc/sys/user/max_*_namespaces";
        }
        return {};
    case EBUSY:
        return "the target is busy: is something still mounted or running there?";
    case EINVAL:
        if (starts("setgroups")) {
            return "a group is not mapped in this user namespace: map it (gid_map, linux.gidMappings) or leave it out";
        }
        if (starts("pivot_root")) {
            return "pivot_root needs the new root to be a mount point and / not shared: "
                   "was the rootfs bind-mounted and the tree made private?";
        }
        return {};
    default:
        return {};
    }
}

} // namespace nsrun

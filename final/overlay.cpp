// overlayfs for `run --image` (see overlay.hpp for the stack).
#include "overlay.hpp"

#include "userns.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// The messages overlayfs left in the filesystem context ("e overlay: …").
std::string context_log(int fs) {
    std::string log;
    char line[512];
    for (;;) {
        const ssize_t n = ::read(fs, line, sizeof line - 1);
        if (n <= 0) {
            return log;
        }
        line[n] = '\0';
        log += (log.empty() ? "" : "; ") + std::string(line);
    }
}

void set_string(int fs, const char* key, const std::string& value) {
    const int rc = ::fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0);
    const int err = errno;
    nsrun::explain::note("fsconfig({}, FSCONFIG_SET_STRING, \"{}\", {}, 0) {}", fs, key, nsrun::explain::quote(value),
                         nsrun::explain::result(rc, err));
    if (rc == -1) {
        throw nsrun::Error{fmt::format("fsconfig(overlay, {}={}): {} {}", key, value, nsrun::errno_text(err), context_log(fs)),
                           std::string(key) == "lowerdir+" ? "overlayfs's lowerdir+ needs Linux 6.8 or later"
                                                           : "is the directory on a filesystem overlayfs accepts?"};
    }
}

} // namespace

OverlayPlan plan_overlay(const ContainerSpec& spec, const std::string& container_dir) {
    OverlayPlan plan;
    plan.lowers = spec.nsrun.image_layers;
    plan.upper = container_dir + "/upper";
    plan.work = container_dir + "/work";
    plan.merged = container_dir + "/rootfs";
    plan.userxattr = spec.nsrun.rootless;
    return plan;
}

namespace {

std::uint32_t outside_of_zero(const std::vector<IdRange>& ranges, std::uint32_t fallback) {
    for (const auto& r : ranges) {
        if (r.inside == 0 && r.count > 0) {
            return r.outside;
        }
    }
    return fallback;
}

} // namespace

uid_t outside_root_uid(const UserNamespace& userns) {
    return userns.enabled ? outside_of_zero(userns.uids, ::geteuid()) : 0;
}

gid_t outside_root_gid(const UserNamespace& userns) {
    return userns.enabled ? outside_of_zero(userns.gids, ::getegid()) : 0;
}

void make_overlay_dirs(const OverlayPlan& plan, uid_t owner_uid, gid_t owner_gid) {
    for (const auto& dir : {plan.upper, plan.work, plan.merged}) {
        nsrun::sys::mkdir(dir, 0755);
        // The upper directory's owner is the owner of the container's "/":
        // with --userns, its root as the host sees it.
        if (::geteuid() == 0 && ::chown(dir.c_str(), owner_uid, owner_gid) == -1) {
            throw nsrun::SysError(fmt::format("chown({}, {}, {})", nsrun::explain::quote(dir), owner_uid, owner_gid), errno);
        }
    }
}

nsrun::UniqueFd make_overlay(const OverlayPlan& plan) {
    nsrun::UniqueFd fs{::fsopen("overlay", FSOPEN_CLOEXEC)};
    const int err = errno;
    nsrun::explain::note("fsopen(\"overlay\", FSOPEN_CLOEXEC) {}", nsrun::explain::result(fs.get(), err));
    if (!fs) {
        throw nsrun::Error{fmt::format("fsopen(\"overlay\"): {}", nsrun::errno_text(err)),
                           err == ENODEV ? "load overlayfs: modprobe overlay"
                           : plan.userxattr ? "a rootless overlay needs Linux 5.11 or later; run as root, or use --rootfs DIR"
                                            : "run as root (sudo)"};
    }
    for (const auto& lower : plan.lowers) {
        set_string(fs.get(), "lowerdir+", lower);
    }
    if (!plan.upper.empty()) { // none: a read-only overlay (nsrun export of a stopped container)
        set_string(fs.get(), "upperdir", plan.upper);
        set_string(fs.get(), "workdir", plan.work);
    }
    if (plan.userxattr) {
        const int rc = ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0);
        nsrun::explain::note("fsconfig({}, FSCONFIG_SET_FLAG, \"userxattr\", NULL, 0) {}", fs.get(),
                             nsrun::explain::result(rc, errno));
    }
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == -1) {
        const int e = errno;
        nsrun::explain::note("fsconfig({}, FSCONFIG_CMD_CREATE, NULL, NULL, 0) {}", fs.get(), nsrun::explain::result(-1, e));
        throw nsrun::Error{fmt::format("overlayfs over {} layers: {} {}", plan.lowers.size(), nsrun::errno_text(e),
                                       context_log(fs.get())),
                           "see dmesg for overlayfs's reason; the state directory must be on a filesystem "
                           "that can hold an upper layer (tmpfs, ext4, xfs)"};
    }
    nsrun::explain::note("fsconfig({}, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0", fs.get());
    nsrun::UniqueFd mount{::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV)};
    const int merr = errno;
    nsrun::explain::note("fsmount({}, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV) {}", fs.get(), nsrun::explain::result(mount.get(), merr));
    if (!mount) {
        throw nsrun::Error{fmt::format("fsmount(overlay): {}", nsrun::errno_text(merr))};
    }
    return mount;
}

void attach_overlay(const nsrun::UniqueFd& overlay, const std::string& target) {
    const int rc = ::move_mount(overlay.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
    const int err = errno;
    nsrun::explain::note("move_mount({}, \"\", AT_FDCWD, {}, MOVE_MOUNT_F_EMPTY_PATH) {}", overlay.get(),
                         nsrun::explain::quote(target), nsrun::explain::result(rc, err));
    if (rc == -1) {
        throw nsrun::Error{fmt::format("move_mount(overlay, {}): {}", target, nsrun::errno_text(err))};
    }
}

void check_image_layers(const ContainerSpec& spec) {
    for (const auto& layer : spec.nsrun.image_layers) {
        if (!nsrun::fs::is_directory(layer)) {
            throw nsrun::Error{fmt::format("--image {}: its layer {} is missing", spec.nsrun.image, layer),
                               "the image was removed (nsrun image rm) while the container started: import it again"};
        }
    }
}

void confirm_image_layers(const ContainerSpec& spec) {
    if (spec.nsrun.image_layers.empty()) {
        return;
    }
    // IMAGE_ROOT/layers/<diff_id>/fs: the store is three levels up (image_store.hpp).
    const auto root = std::filesystem::path(spec.nsrun.image_layers.front()).parent_path().parent_path().parent_path();
    const std::string lock_path = (root / "lock").string();
    const nsrun::UniqueFd lock = nsrun::sys::open(lock_path, O_RDONLY | O_CLOEXEC);
    nsrun::sys::flock(lock.get(), LOCK_SH, lock_path); // image rm holds it exclusively
    check_image_layers(spec);
}

// The container's life, start to end: the parent clones a child into new
// namespaces, the child sets up its inside and execs COMMAND, the parent waits.
// Each primitive's setup lives in its own file; this file only orders them.
#include "container.hpp"

#include "cgroups.hpp"
#include "mount.hpp"
#include "netns.hpp"
#include "pid.hpp"
#include "rootfs.hpp"
#include "userns.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/container_id.hpp>
#include <nsrun/error.hpp>
#include <nsrun/handshake.hpp>
#include <nsrun/process.hpp>

#include <optional>
#include <sched.h>

#include <fmt/format.h>

namespace {

/// The namespaces the child is cloned into.
constexpr int namespaces = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS;

/// Cgroups need privileges on the host: a rootless container gets none (no
/// cgroup is delegated to this user).  Say so once per limit flag given.
void warn_unhonoured_limits(const CgroupOptions& limits) {
    const auto warn = [](const std::string& flag) {
        nsrun::cli::print_warning(fmt::format(
            "{} ignored: rootless, and no cgroup is delegated to this user (run as root for limits)", flag));
    };
    if (limits.memory) warn("--memory");
    if (limits.cpus) warn("--cpus");
    if (limits.cpu_weight) warn("--cpu-weight");
    if (limits.pids_limit) warn("--pids-limit");
}

/// The container's cgroup, or none.  Inside a container or on WSL2 there may
/// be no cgroup the runtime can use (no cgroup filesystem, a controller
/// missing, a read-only /sys/fs/cgroup).  With no limit flag the container
/// then runs without one, and a one-line note says why, as podman does; a
/// limit flag there is an error (125) that says what is missing: a limit
/// without a cgroup would be a silent lie.  Rootless, there is none either.
std::optional<Cgroup> cgroup_for(const std::string& id, const CgroupOptions& limits, const UserNamespace& userns) {
    if (userns.rootless) {
        warn_unhonoured_limits(limits);
        return std::nullopt;
    }
    try {
        return std::optional<Cgroup>{std::in_place, detect_cgroup_driver(), id, limits};
    } catch (const nsrun::Error& e) {
        if (limits.any()) {
            throw;
        }
        nsrun::cli::print_note(fmt::format("running without a cgroup (no limit was asked for): {}", e.what()));
        return std::nullopt;
    }
}

/// The network mode to use.  A veth pair is created in the host's network
/// namespace, which needs root there: a rootless container's default is
/// `none`, said in one note, and an explicit veth is refused (125).
NetnsOptions network_for(const NetnsOptions& options, const UserNamespace& userns) {
    if (!userns.rootless || options.mode == NetworkMode::none || options.mode == NetworkMode::host) {
        return options;
    }
    if (options.given) {
        throw nsrun::Error{"--network veth needs root: the veth pair is created in the host's network namespace",
                           "run as root, or use --network none (the default when rootless)"};
    }
    // Not an error and not an ignored flag: the default changes, as podman's
    // does without slirp4netns, and we say so once.
    nsrun::cli::print_note("rootless, so no veth (it needs root on the host): using --network none, loopback only");
    return NetnsOptions{NetworkMode::none, false};
}

/// Runs in the child, already inside the new namespaces: set up the inside,
/// in order, then become COMMAND.  Any failure — whatever was thrown — is
/// reported to the parent, which would otherwise take the silence for success.
int container_main(const Options& options, const std::optional<Cgroup>& cgroup, const UserNamespace& userns,
                   const NetnsOptions& netns, const LinkPlan* link, nsrun::Handshake& handshake,
                   const SignalForwarder& signals) {
    handshake.in_child();
    try {
        die_with_runtime();
        handshake.wait_for_parent();
        signals.restore_mask_in_child();
        become_root(userns);
        configure_inside(netns, link);
        enter_cgroup_namespace();
        set_hostname(options.uts);
        make_mounts_private();
        if (userns.enabled) {
            // In a user namespace /proc, /sys and /dev are borrowed from the
            // host, whose tree is reachable only until pivot_root: mount first.
            // Relative to the working directory, the rootfs: our host uid may
            // not be allowed to walk the rootfs's path (a 0750 home directory).
            const std::string root = ".";
            mount_proc(root);
            // A fresh sysfs needs a network namespace owned by our user
            // namespace: only --network host still borrows the host's /sys.
            const bool own_netns = netns_clone_flags(netns) != 0;
            mount_system_dirs(root, SystemDirs::borrowed, /*fresh_sysfs=*/own_netns);
            enter_rootfs_here();
        } else {
            enter_rootfs(options.rootfs);
            mount_proc();
            mount_system_dirs();
        }
        if (cgroup) {
            cgroup->mount_view();
        }
        nsrun::exec_command(options.command.argv, handshake);
    } catch (...) {
        handshake.fail(std::current_exception()); // any failure, not only nsrun::Error
    }
}

} // namespace

int run_container(const Options& options) {
    const UserNamespace userns = plan_user_namespace(options.userns);
    check_rootfs(options.rootfs);
    check_rootfs_access(userns, options.rootfs);
    auto handshake = nsrun::Handshake::create();
    SignalForwarder signals;
    const std::string id = nsrun::make_container_id();
    std::optional<Cgroup> cgroup = cgroup_for(id, options.cgroups, userns);
    const NetnsOptions netns = network_for(options.netns, userns);
    std::optional<HostLink> link; // declared before the child: deleted after it is killed
    if (netns.mode == NetworkMode::veth) {
        link.emplace(plan_veth(id));
    }
    const LinkPlan* plan = link ? &link->plan() : nullptr;
    std::optional<RootfsAsWorkingDirectory> in_rootfs; // the child starts there (rootfs.hpp)
    if (userns.enabled) {
        in_rootfs.emplace(options.rootfs);
    }
    nsrun::Child child = nsrun::clone_child(namespaces | userns.clone_flag() | netns_clone_flags(netns), [&] {
        return container_main(options, cgroup, userns, netns, plan, handshake, signals);
    });
    in_rootfs.reset(); // the parent goes back
    handshake.in_parent();
    if (cgroup) {
        cgroup->add_process(child.pid());
    }
    write_id_maps(userns, child.pid());
    if (link) {
        link->attach(child.pid());
    }
    handshake.release_child();
    if (auto failure = handshake.wait_for_exec()) {
        child.wait();
        throw *failure;
    }
    const int status = signals.wait_forwarding(child);
    return cgroup ? cgroup->exit_status(status) : nsrun::exit_status_of(status);
}

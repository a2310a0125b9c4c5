// The container's life, start to end: the parent clones a child into new
// namespaces, the child sets up its inside and execs COMMAND, the parent waits.
// Each primitive's setup lives in its own file; this file only orders them.
#include "container.hpp"

#include "bridge.hpp"
#include "cgroups.hpp"
#include "mount.hpp"
#include "nat.hpp"
#include "netns.hpp"
#include "pid.hpp"
#include "rootfs.hpp"
#include "userns.hpp"

#include <nsrun/container_id.hpp>
#include <nsrun/error.hpp>
#include <nsrun/handshake.hpp>
#include <nsrun/process.hpp>

#include <optional>
#include <sched.h>

namespace {

/// The namespaces the child is cloned into.
constexpr int namespaces = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS;

/// Runs in the child, already inside the new namespaces: set up the inside,
/// in order, then become COMMAND.  Any failure — whatever was thrown — is
/// reported to the parent, which would otherwise take the silence for success.
int container_main(const Options& options, const std::optional<Cgroup>& cgroup, const UserNamespace& userns,
                   const NetnsOptions& netns, const LinkPlan* link, const EtcFiles* etc, nsrun::Handshake& handshake,
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
        if (etc) {
            bind_etc_files(*etc, userns.enabled ? "." : options.rootfs.dir);
        }
        if (userns.enabled) {
            // In a user namespace /proc, /sys and /dev are borrowed from the
            // host, whose tree is reachable only until pivot_root: mount first.
            // Relative to the working directory, the rootfs: our host uid may
            // not be allowed to walk the rootfs's path (a 0750 home directory).
            const std::string root = ".";
            mount_proc(root);
            mount_system_dirs(root, SystemDirs::borrowed, netns_clone_flags(netns) != 0);
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
    warn_unhonoured_limits(userns, options.cgroups);
    auto handshake = nsrun::Handshake::create();
    SignalForwarder signals;
    const std::string id = nsrun::make_container_id();
    std::optional<Cgroup> cgroup =
        userns.may_use_cgroups() ? make_cgroup(id, options.cgroups) : std::optional<Cgroup>{};
    const NetnsOptions netns = network_for(options.netns, userns.rootless);
    const PortReservations ports{options.nat, netns.mode}; // 125 on a conflict, before anything starts
    std::optional<Lease> lease;   // released last, after the veth is gone
    std::optional<HostLink> link; // declared before the child: deleted after it is killed
    if (netns.mode == NetworkMode::bridge) {
        lease.emplace(join_bridge(options.bridge));
        link.emplace(plan_bridge_port(options.bridge, id, *lease));
    } else if (netns.mode == NetworkMode::veth) {
        link.emplace(plan_veth(id));
    }
    const LinkPlan* plan = link ? &link->plan() : nullptr;
    std::optional<EtcFiles> etc; // rootless: no state directory of ours to write to
    if (!userns.rootless) {
        etc.emplace(options.bridge, id, options.uts.hostname, plan ? plan->container_address.ip() : "");
    }
    const EtcFiles* etc_files = etc ? &*etc : nullptr;
    std::optional<RootfsAsWorkingDirectory> in_rootfs; // the child starts there (rootfs.hpp)
    if (userns.enabled) {
        in_rootfs.emplace(options.rootfs);
    }
    nsrun::Child child = nsrun::clone_child(namespaces | userns.clone_flag() | netns_clone_flags(netns), [&] {
        return container_main(options, cgroup, userns, netns, plan, etc_files, handshake, signals);
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
    std::optional<PortMapping> mapping; // its nft entries go before the child is killed
    if (lease) {
        enslave_to_bridge(options.bridge, link->plan());
        mapping.emplace(options.bridge, ports, lease->address());
    }
    handshake.release_child();
    if (auto failure = handshake.wait_for_exec()) {
        child.wait();
        throw *failure;
    }
    const int status = signals.wait_forwarding(child);
    return cgroup ? cgroup->exit_status(status) : nsrun::exit_status_of(status);
}

// The container's life, start to end: the parent clones a child into new
// namespaces, the child sets up its inside and execs COMMAND, the parent waits.
// Each primitive's setup lives in its own file; this file only orders them.
#include "container.hpp"

#include "cgroups.hpp"
#include "mount.hpp"
#include "pid.hpp"
#include "rootfs.hpp"

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

/// The container's cgroup, or none.  Inside a container or on WSL2 there may
/// be no cgroup the runtime can use (no cgroup filesystem, a controller
/// missing, a read-only /sys/fs/cgroup).  With no limit flag the container
/// then runs without one, and a one-line note says why, as podman does; a
/// limit flag there is an error (125) that says what is missing: a limit
/// without a cgroup would be a silent lie.
std::optional<Cgroup> cgroup_for(const std::string& id, const CgroupOptions& limits) {
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

/// Runs in the child, already inside the new namespaces: set up the inside,
/// in order, then become COMMAND.  Any failure — whatever was thrown — is
/// reported to the parent, which would otherwise take the silence for success.
int container_main(const Options& options, const std::optional<Cgroup>& cgroup, nsrun::Handshake& handshake,
                   const SignalForwarder& signals) {
    handshake.in_child();
    try {
        die_with_runtime();
        handshake.wait_for_parent();
        signals.restore_mask_in_child();
        enter_cgroup_namespace();
        set_hostname(options.uts);
        make_mounts_private();
        enter_rootfs(options.rootfs);
        mount_proc();
        mount_system_dirs();
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
    nsrun::require_root("creating namespaces");
    check_rootfs(options.rootfs);
    auto handshake = nsrun::Handshake::create();
    SignalForwarder signals;
    const std::string id = nsrun::make_container_id();
    std::optional<Cgroup> cgroup = cgroup_for(id, options.cgroups);
    nsrun::Child child =
        nsrun::clone_child(namespaces, [&] { return container_main(options, cgroup, handshake, signals); });
    handshake.in_parent();
    if (cgroup) {
        cgroup->add_process(child.pid());
    }
    handshake.release_child();
    if (auto failure = handshake.wait_for_exec()) {
        child.wait();
        throw *failure;
    }
    const int status = signals.wait_forwarding(child);
    return cgroup ? cgroup->exit_status(status) : nsrun::exit_status_of(status);
}

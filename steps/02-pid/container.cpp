// The container's life, start to end: the parent clones a child into new
// namespaces, the child sets up its inside and execs COMMAND, the parent waits.
// Each primitive's setup lives in its own file; this file only orders them.
#include "container.hpp"

#include "pid.hpp"

#include <nsrun/error.hpp>
#include <nsrun/handshake.hpp>
#include <nsrun/process.hpp>

#include <sched.h>

namespace {

/// The namespaces the child is cloned into.
constexpr int namespaces = CLONE_NEWUTS | CLONE_NEWPID;

/// Runs in the child, already inside the new namespaces: set up the inside,
/// in order, then become COMMAND.  Any failure — whatever was thrown — is
/// reported to the parent, which would otherwise take the silence for success.
int container_main(const Options& options, nsrun::Handshake& handshake,
                   const SignalForwarder& signals) {
    handshake.in_child();
    try {
        die_with_runtime();
        handshake.wait_for_parent();
        signals.restore_mask_in_child();
        set_hostname(options.uts);
        nsrun::exec_command(options.command.argv, handshake);
    } catch (...) {
        handshake.fail(std::current_exception()); // any failure, not only nsrun::Error
    }
}

} // namespace

int run_container(const Options& options) {
    nsrun::require_root("creating namespaces");
    auto handshake = nsrun::Handshake::create();
    SignalForwarder signals;
    nsrun::Child child =
        nsrun::clone_child(namespaces, [&] { return container_main(options, handshake, signals); });
    handshake.in_parent();
    handshake.release_child();
    if (auto failure = handshake.wait_for_exec()) {
        child.wait();
        throw *failure;
    }
    return nsrun::exit_status_of(signals.wait_forwarding(child));
}

/// @file pid.hpp
/// The PID namespace: COMMAND is PID 1, and the runtime, outside, is its
/// parent — it forwards signals to it and waits for it.
#pragma once

#include <nsrun/fd.hpp>
#include <nsrun/process.hpp>

#include <csignal>

/// The container dies with its supervisor (the runtime, or the monitor of a
/// detached container): PR_SET_PDEATHSIG.  The child can only set it after
/// clone, and a parent that dies before that sends no signal, ever: the
/// child would run on, unsupervised and unrecorded.  So the parent opens a
/// pidfd on itself before clone, and the child, right after prctl, asks it
/// whether the parent has exited meanwhile — and then exits.  (getppid()
/// could not tell: across the PID namespace boundary it reads 0, parent or
/// not.)
class ParentLifeline {
public:
    /// In the parent, before clone: a pidfd of this process.
    ParentLifeline();
    /// In the child, first thing: SIGKILL when the parent dies, and an exit
    /// at once (125) if it already has.
    void die_with_parent() const;

private:
    nsrun::UniqueFd parent_;
};

/// Forwards the signals a user sends to the runtime (Ctrl-C, docker stop's
/// SIGTERM, …) to the container's PID 1 while the runtime waits for it.
///
/// The signals are blocked from construction on — before clone — so none
/// can slip through between clone and the wait loop; the child unblocks them
/// before exec, and they are read from a signalfd(2) while waiting.
class SignalForwarder {
public:
    SignalForwarder();
    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;
    ~SignalForwarder();

    /// In the child, before exec: COMMAND starts with the mask we started with.
    void restore_mask_in_child() const;

    /// In the parent: wait until `child` ends, forwarding every signal that
    /// arrives meanwhile.  Returns the child's wait status.
    int wait_forwarding(nsrun::Child& child);

    /// The signals blocked and forwarded (SIGCHLD included), for other wait
    /// loops (the terminal relay).
    [[nodiscard]] const sigset_t& signal_set() const noexcept { return forwarded_; }

private:
    sigset_t forwarded_{};
    sigset_t original_mask_{};
};

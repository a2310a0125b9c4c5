// The PID namespace: COMMAND is PID 1, and the runtime, outside, is its
// parent — it forwards signals to it and waits for it.
#pragma once

#include <nsrun/process.hpp>

#include <csignal>

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

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

private:
    sigset_t forwarded_{};
    sigset_t original_mask_{};
};

/// In the child, first thing: prctl(PR_SET_PDEATHSIG, SIGKILL), so that a
/// runtime killed with SIGKILL (which it cannot forward) takes its container
/// with it instead of leaving it running, unsupervised.
void die_with_runtime();

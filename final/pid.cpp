// The PID namespace (man 7 pid_namespaces).  The first process cloned with
// CLONE_NEWPID is PID 1 inside; the host still sees it under an ordinary pid
// (both appear in the NSpid line of /proc/PID/status).  PID 1 is special:
//  - the kernel delivers to it only the signals it has a handler for (so a
//    plain `sleep` as PID 1 ignores SIGTERM; a shell with a trap does not),
//    except SIGKILL/SIGSTOP sent from an ancestor namespace;
//  - orphans inside are re-parented to it, so it must reap zombies;
//  - when it exits, the kernel kills every other process in the namespace.
#include "pid.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/flags.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

/// What a user or a supervisor sends to stop or poke a container.
constexpr int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

} // namespace

ParentLifeline::ParentLifeline() : parent_(nsrun::sys::pidfd_open(::getpid())) {}

void ParentLifeline::die_with_parent() const {
    nsrun::sys::set_parent_death_signal(SIGKILL);
    // A pidfd is readable once its process has exited.
    pollfd parent{parent_.get(), POLLIN, 0};
    if (::poll(&parent, 1, 0) == 1 && (parent.revents & POLLIN) != 0) {
        nsrun::explain::note("poll(pidfd of the parent) = 1: it exited before PR_SET_PDEATHSIG was set");
        throw nsrun::Error{"the runtime (the container's parent) died while the container was being made",
                           "nothing runs unsupervised: nsrun gc reclaims what it left"};
    }
    nsrun::explain::note("poll(pidfd of the parent) = 0: the parent is alive, and its death now kills us");
}

SignalForwarder::SignalForwarder() {
    sigemptyset(&forwarded_);
    for (const int sig : forwarded_signals) {
        sigaddset(&forwarded_, sig);
    }
    sigaddset(&forwarded_, SIGCHLD); // so the wait loop also wakes when the child ends
    if (::sigprocmask(SIG_BLOCK, &forwarded_, &original_mask_) == -1) {
        throw nsrun::SysError("sigprocmask(SIG_BLOCK)", errno);
    }
}

SignalForwarder::~SignalForwarder() { ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr); }

void SignalForwarder::restore_mask_in_child() const {
    if (::sigprocmask(SIG_SETMASK, &original_mask_, nullptr) == -1) {
        throw nsrun::SysError("sigprocmask(SIG_SETMASK)", errno);
    }
}

int SignalForwarder::wait_forwarding(nsrun::Child& child) {
    const nsrun::UniqueFd signals{::signalfd(-1, &forwarded_, SFD_CLOEXEC)};
    if (!signals) {
        throw nsrun::SysError("signalfd()", errno);
    }
    for (;;) {
        // The child may have ended before we started listening: check first.
        int status = 0;
        const pid_t done = ::waitpid(child.pid(), &status, WNOHANG);
        if (done == child.pid()) {
            nsrun::explain::note("waitpid({}) = {} (the container's PID 1 has ended)", done, done);
            child.reaped();
            return status;
        }
        signalfd_siginfo info{};
        const ssize_t n = ::read(signals.get(), &info, sizeof info);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != sizeof info) {
            throw nsrun::SysError("read(signalfd)", errno);
        }
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig != SIGCHLD) {
            nsrun::explain::note("got {}: forwarding it to the container's PID 1", nsrun::flags::signal_name(sig));
            nsrun::sys::kill(child.pid(), sig);
        }
    }
}

/// @file process.hpp
/// @brief Cloning the container's first process, waiting for it, exec'ing.
#pragma once

#include "nsrun/handshake.hpp"

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace nsrun {

/// The container's first process, owned by the parent.  If it is still
/// running when this object is destroyed (an error path), it is killed with
/// SIGKILL and reaped, so no exit path leaves a stray process behind.
class Child {
public:
    explicit Child(pid_t pid) noexcept : pid_(pid) {}
    Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
    Child& operator=(Child&&) = delete;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child();

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    /// waitpid(2) until the child ends; returns the raw wait status.
    int wait();
    /// Mark the child as reaped by someone else (e.g. a signalfd loop).
    void reaped() noexcept { pid_ = -1; }

private:
    pid_t pid_;
};

/// clone(2) a child running `body` on its own stack with `flags` (namespace
/// flags; SIGCHLD is added).  The child's explain role becomes "child".
/// `body`'s return value is the child's exit status; `body` must not throw
/// (an exception escaping it ends the child in std::terminate — which the
/// parent's Handshake::wait_for_exec still reports as a failed setup).
Child clone_child(int flags, const std::function<int()>& body);

/// Translate a wait status into the runtime's exit status: the command's own
/// status, or 128+N when it was killed by signal N (docker's convention).
int exit_status_of(int wait_status) noexcept;

/// execvp(3) `argv` in the child, after telling the parent "ready" through
/// `handshake`.  Never returns: on failure it reports to the parent with
/// status 127 (not found) or 126 (cannot execute), as docker does.
[[noreturn]] void exec_command(const std::vector<std::string>& argv, Handshake& handshake);

/// Throw a clear error (exit 125, hint "run as root") unless we are root.
void require_root(const std::string& what);

} // namespace nsrun

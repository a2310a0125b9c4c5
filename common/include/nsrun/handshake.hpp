/// @file handshake.hpp
/// @brief The parent/child handshake that orders container setup.
///
/// A container is made by two processes that must take turns: the parent
/// (outside) clones the child into new namespaces, prepares what only the
/// outside can prepare (cgroups, uid maps, network), then lets the child go;
/// the child sets up its inside and execs the command.  The child must be able
/// to say "setup failed, here is why", and the parent must know when the exec
/// has happened.
///
/// Both needs are met by one socketpair with close-on-exec ends, as nsjail
/// and crun do: a successful execve closes the child's end, so the parent
/// reads end-of-file; a failure arrives as a message first.
#pragma once

#include "nsrun/error.hpp"
#include "nsrun/fd.hpp"

#include <optional>
#include <string>

namespace nsrun {

class Handshake {
public:
    /// socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC).
    static Handshake create();

    /// In the parent, after clone: drop the child's end.
    void in_parent() noexcept;
    /// In the child, first thing: drop the parent's end.
    void in_child() noexcept;

    /// Parent: the outside is ready, the child may continue.
    void release_child();
    /// Parent: wait until the child has exec'd (nullopt) or reported a
    /// failure (the error, carrying its exit status: 125, 126 or 127).
    [[nodiscard]] std::optional<Error> wait_for_exec();

    /// Child: block until the parent releases us.  Throws if the parent died.
    void wait_for_parent();
    /// Child: report a setup failure to the parent and exit with its status.
    [[noreturn]] void fail(const Error& error) noexcept;

private:
    Handshake(UniqueFd parent_end, UniqueFd child_end) noexcept
        : parent_end_(std::move(parent_end)), child_end_(std::move(child_end)) {}

    UniqueFd parent_end_;
    UniqueFd child_end_;
};

} // namespace nsrun

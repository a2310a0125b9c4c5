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
/// and crun do, carrying typed messages (as youki's message enum does) — one
/// SOCK_SEQPACKET packet each, its first byte the type:
///
///     parent → child   go             the outside is ready: continue
///                                     (optionally with a word on what
///                                     the outside made, for the child)
///     either way       maps_written   (for runtimes whose child asks the
///                                     parent to write its uid/gid maps)
///     child → parent   ready          setup done: exec'ing COMMAND now
///     child → parent   failed         {status, message, hint}: setup failed
///
/// A successful execve closes the child's end, so after `ready` the parent
/// reads end-of-file.  End-of-file *without* `ready` means the child died
/// during setup without a word (a crash, a signal, an exception nobody
/// caught): that is a failure, never "exec worked".
#pragma once

#include "nsrun/error.hpp"
#include "nsrun/fd.hpp"

#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace nsrun {

class Handshake {
public:
    /// The message types; the value is the packet's first byte.
    enum class Message : char { go = 'G', maps_written = 'M', ready = 'R', failed = 'F' };

    /// socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC).
    static Handshake create();

    /// In the parent, after clone: drop the child's end.
    void in_parent() noexcept;
    /// In the child, first thing: drop the parent's end.
    void in_child() noexcept;

    /// Parent: the outside is ready, the child may continue (sends `go`,
    /// carrying `news` for the child: what the outside made, if the child
    /// needs to know — final/'s runtime says whether a cgroup was made).
    /// A child that already ended is no error here: wait_for_exec() reads
    /// its report.
    void release_child(std::string_view news = {});
    /// Parent, when a step outside failed: the child's own report if it
    /// failed first (a child may set up part of its inside before `go`,
    /// and a step on a dead child fails for that reason only).  Never blocks.
    [[nodiscard]] std::optional<Error> reported_failure();
    /// Parent: wait until the child has exec'd (nullopt: `ready`, then
    /// end-of-file) or failed (the error, carrying its exit status: 125,
    /// 126 or 127 — 125 also when the child ended without reporting).
    [[nodiscard]] std::optional<Error> wait_for_exec();

    /// Child: block until the parent releases us (`go`); returns the news
    /// `go` carried ("" if none).  Throws if the parent died.
    std::string wait_for_parent();
    /// Child: setup is done, COMMAND is exec'd next (sends `ready`).
    void ready();
    /// Child: report a setup failure to the parent and exit with its status.
    [[noreturn]] void fail(const Error& error) noexcept;
    /// Child, in a catch (...) block: report whatever was thrown — an
    /// nsrun::Error as it is, any other exception as a runtime failure (125)
    /// naming it — and exit.  So no failure of the child reads as success.
    [[noreturn]] void fail(std::exception_ptr thrown) noexcept;

    /// The descriptor of this process's end (the child's, after in_child()),
    /// for a program the child execs that reports on it in the same format.
    [[nodiscard]] int own_fd() const noexcept { return own_end(); }

    /// Either side: send a message, with `payload` after its type byte.
    void send(Message message, std::string_view payload = {});
    /// Either side: wait for `expected` and return its payload; throws
    /// nsrun::Error on anything else (end-of-file: the other side is gone).
    std::string receive(Message expected);
    /// receive(), for a message whose payload does not matter.
    void expect(Message expected) { (void)receive(expected); }

private:
    Handshake(UniqueFd parent_end, UniqueFd child_end) noexcept
        : parent_end_(std::move(parent_end)), child_end_(std::move(child_end)) {}
    /// The end this process uses: the parent's, or the child's after in_child().
    [[nodiscard]] int own_end() const noexcept { return parent_end_ ? parent_end_.get() : child_end_.get(); }

    UniqueFd parent_end_;
    UniqueFd child_end_;
};

/// A message type's name for narration: "go", "ready", ….
const char* message_name(Handshake::Message message) noexcept;

} // namespace nsrun

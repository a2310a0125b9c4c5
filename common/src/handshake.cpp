#include "nsrun/handshake.hpp"

#include "nsrun/explain.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsrun {
namespace {

using Message = Handshake::Message;

/// A `failed` packet: "F" then "status\nmessage\nhint"; SOCK_SEQPACKET keeps it whole.
std::string encode_failure(const Error& error) {
    return fmt::format("{}{}\n{}\n{}", static_cast<char>(Message::failed), error.exit_status(), error.what(),
                       error.hint());
}

Error decode_failure(const std::string& payload) {
    const auto first = payload.find('\n');
    const auto second = payload.find('\n', first + 1);
    if (first == std::string::npos || second == std::string::npos) {
        return Error{"container setup failed (garbled report from the child)"};
    }
    int status = exit_code::runtime_error;
    try {
        status = std::stoi(payload.substr(0, first));
    } catch (const std::exception&) {
        // keep 125: a garbled status is still a runtime failure
    }
    return Error{payload.substr(first + 1, second - first - 1), payload.substr(second + 1), status};
}

/// recv(2), again after EINTR and after ECONNRESET.  The kernel answers
/// ECONNRESET once, before any queued packet, when the other end was closed
/// with a packet of ours still unread in it — a child that failed before it
/// read "go" — and clears it: the next recv returns the child's report, or
/// end-of-file.
ssize_t recv_retrying(int fd, void* buf, std::size_t len, int flags = 0) {
    ssize_t n;
    do {
        n = ::recv(fd, buf, len, flags);
    } while (n < 0 && (errno == EINTR || errno == ECONNRESET));
    return n;
}

} // namespace

const char* message_name(Message message) noexcept {
    switch (message) {
    case Message::go: return "go";
    case Message::maps_written: return "maps-written";
    case Message::ready: return "ready";
    case Message::failed: return "failed";
    }
    return "?";
}

Handshake Handshake::create() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1) {
        throw SysError("socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)", errno);
    }
    return Handshake{UniqueFd{fds[0]}, UniqueFd{fds[1]}};
}

void Handshake::in_parent() noexcept { child_end_.reset(); }
void Handshake::in_child() noexcept { parent_end_.reset(); }

void Handshake::send(Message message, std::string_view payload) {
    std::string packet(1, static_cast<char>(message));
    packet += payload;
    if (::send(own_end(), packet.data(), packet.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(packet.size())) {
        throw SysError(fmt::format("send(handshake, \"{}\")", message_name(message)), errno);
    }
}

std::string Handshake::receive(Message expected) {
    char buf[4096];
    const ssize_t n = recv_retrying(own_end(), buf, sizeof buf);
    if (n >= 1 && buf[0] == static_cast<char>(expected)) {
        return std::string(buf + 1, static_cast<std::size_t>(n - 1));
    }
    if (n > 0 && buf[0] == static_cast<char>(Message::failed)) {
        throw decode_failure(std::string(buf + 1, static_cast<std::size_t>(n - 1)));
    }
    throw Error{n == 0 ? fmt::format("the other side of the setup handshake went away (waiting for \"{}\")",
                                     message_name(expected))
                       : fmt::format("unexpected handshake message (waiting for \"{}\")", message_name(expected))};
}

void Handshake::release_child(std::string_view news) {
    if (news.empty()) {
        explain::note("handshake: outside is ready, releasing the child");
    } else {
        explain::note("handshake: outside is ready ({}), releasing the child", news);
    }
    try {
        send(Message::go, news);
    } catch (const SysError& e) {
        if (e.error_number() != EPIPE && e.error_number() != ECONNRESET) {
            throw;
        }
        // A child that does part of its setup before waiting for "go" may
        // have failed already: its report is still queued for wait_for_exec().
        explain::note("handshake: the child has already ended (its report follows)");
    }
}

std::optional<Error> Handshake::reported_failure() {
    char buf[4096];
    const ssize_t n = recv_retrying(parent_end_.get(), buf, sizeof buf, MSG_DONTWAIT | MSG_PEEK);
    if (n > 0 && buf[0] == static_cast<char>(Message::failed)) {
        (void)::recv(parent_end_.get(), buf, sizeof buf, MSG_DONTWAIT); // consumed: it is reported now
        return decode_failure(std::string(buf + 1, static_cast<std::size_t>(n - 1)));
    }
    return std::nullopt;
}

std::optional<Error> Handshake::wait_for_exec() {
    bool ready_seen = false;
    for (;;) {
        char buf[4096];
        const ssize_t n = recv_retrying(parent_end_.get(), buf, sizeof buf);
        if (n < 0) {
            throw SysError("recv(handshake)", errno);
        }
        if (n == 0 && ready_seen) {
            // The child's end was close-on-exec: end-of-file after "ready" means execve worked.
            explain::note("handshake: end-of-file, the child has exec'd the command");
            return std::nullopt;
        }
        if (n == 0) {
            explain::note("handshake: end-of-file before \"ready\": the child died during setup");
            return Error{"container setup failed: the container's process ended during setup without reporting why",
                         "it may have crashed or been killed; run again with --explain to see its last step"};
        }
        if (buf[0] == static_cast<char>(Message::ready) && n == 1) {
            ready_seen = true;
            continue;
        }
        if (buf[0] == static_cast<char>(Message::failed)) {
            return decode_failure(std::string(buf + 1, static_cast<std::size_t>(n - 1)));
        }
        return Error{fmt::format("container setup failed: unexpected handshake message '{}'", buf[0])};
    }
}

std::string Handshake::wait_for_parent() {
    explain::note("handshake: waiting for the parent");
    try {
        return receive(Message::go);
    } catch (const Error&) {
        throw Error{"the runtime's parent process went away during setup"};
    }
}

void Handshake::ready() {
    explain::note("handshake: setup done, telling the parent \"ready\"");
    send(Message::ready);
}

void Handshake::fail(const Error& error) noexcept {
    const std::string packet = encode_failure(error);
    // Best effort: if the parent is gone there is nobody left to tell.
    (void)::send(child_end_.get(), packet.data(), packet.size(), MSG_NOSIGNAL);
    ::_exit(error.exit_status());
}

void Handshake::fail(std::exception_ptr thrown) noexcept {
    try {
        std::rethrow_exception(thrown);
    } catch (const Error& error) {
        fail(error);
    } catch (const std::exception& e) {
        fail(Error{fmt::format("container setup failed in the child: {}", e.what()),
                   "this is a bug in the runtime: please report it with the output of --explain"});
    } catch (...) {
        fail(Error{"container setup failed in the child: an unknown exception",
                   "this is a bug in the runtime: please report it with the output of --explain"});
    }
}

} // namespace nsrun

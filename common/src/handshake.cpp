#include "nsrun/handshake.hpp"

#include "nsrun/explain.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsrun {
namespace {

constexpr char go_message = 'G';

/// Messages are "status\nmessage\nhint"; SOCK_SEQPACKET keeps them whole.
std::string encode(const Error& error) {
    return fmt::format("{}\n{}\n{}", error.exit_status(), error.what(), error.hint());
}

Error decode(const std::string& packet) {
    const auto first = packet.find('\n');
    const auto second = packet.find('\n', first + 1);
    if (first == std::string::npos || second == std::string::npos) {
        return Error{"container setup failed (garbled report from the child)"};
    }
    int status = exit_code::runtime_error;
    try {
        status = std::stoi(packet.substr(0, first));
    } catch (const std::exception&) {
        // keep 125: a garbled status is still a runtime failure
    }
    return Error{packet.substr(first + 1, second - first - 1), packet.substr(second + 1), status};
}

ssize_t recv_retrying(int fd, void* buf, std::size_t len) {
    ssize_t n;
    do {
        n = ::recv(fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    return n;
}

} // namespace

Handshake Handshake::create() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1) {
        throw SysError("socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)", errno);
    }
    return Handshake{UniqueFd{fds[0]}, UniqueFd{fds[1]}};
}

void Handshake::in_parent() noexcept { child_end_.reset(); }
void Handshake::in_child() noexcept { parent_end_.reset(); }

void Handshake::release_child() {
    explain::note("handshake: outside is ready, releasing the child");
    if (::send(parent_end_.get(), &go_message, 1, MSG_NOSIGNAL) != 1) {
        throw SysError("send(handshake, \"go\")", errno);
    }
}

std::optional<Error> Handshake::wait_for_exec() {
    char buf[4096];
    const ssize_t n = recv_retrying(parent_end_.get(), buf, sizeof buf);
    if (n < 0) {
        throw SysError("recv(handshake)", errno);
    }
    if (n == 0) {
        // The child's end was close-on-exec: end-of-file means execve worked.
        explain::note("handshake: end-of-file, the child has exec'd the command");
        return std::nullopt;
    }
    return decode(std::string(buf, static_cast<std::size_t>(n)));
}

void Handshake::wait_for_parent() {
    explain::note("handshake: waiting for the parent");
    char c = 0;
    const ssize_t n = recv_retrying(child_end_.get(), &c, 1);
    if (n != 1 || c != go_message) {
        throw Error{"the runtime's parent process went away during setup"};
    }
}

void Handshake::fail(const Error& error) noexcept {
    const std::string packet = encode(error);
    // Best effort: if the parent is gone there is nobody left to tell.
    (void)::send(child_end_.get(), packet.data(), packet.size(), MSG_NOSIGNAL);
    ::_exit(error.exit_status());
}

} // namespace nsrun

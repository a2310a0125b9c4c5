#include "tty.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/flags.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// Write all of `data`, retrying short writes.
void write_all(int fd, const char* data, ssize_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, static_cast<std::size_t>(size));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        data += n;
        size -= n;
    }
}

/// Copy what is readable on `from` to `to`; false at end-of-file or error.
bool pump(int from, int to) {
    char buf[8192];
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return true;
    }
    if (n <= 0) {
        return false;
    }
    write_all(to, buf, n);
    return true;
}

} // namespace

TerminalChannel::TerminalChannel() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1) {
        throw nsrun::SysError("socketpair(terminal)", errno);
    }
    parent_end_.reset(fds[0]);
    child_end_.reset(fds[1]);
}

void TerminalChannel::become_controlling_terminal() {
    parent_end_.reset();
    nsrun::UniqueFd master = nsrun::sys::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (::unlockpt(master.get()) == -1) {
        throw nsrun::SysError("unlockpt(/dev/ptmx)", errno);
    }
    char name[64] = {};
    if (::ptsname_r(master.get(), name, sizeof name) != 0) {
        throw nsrun::SysError("ptsname(/dev/ptmx)", errno);
    }
    if (::setsid() == -1) {
        throw nsrun::SysError("setsid()", errno);
    }
    nsrun::UniqueFd slave = nsrun::sys::open(name, O_RDWR);
    if (::ioctl(slave.get(), TIOCSCTTY, 0) == -1) {
        throw nsrun::SysError(fmt::format("ioctl({}, TIOCSCTTY)", name), errno);
    }
    nsrun::explain::note("{} is the controlling terminal of the container's PID 1", name);
    for (int fd = 0; fd < 3; ++fd) {
        ::dup2(slave.get(), fd);
    }
    nsrun::sys::send_fd(child_end_.get(), master.get(), "pty master");
    child_end_.reset();
}

void send_console(const std::string& socket_path, nsrun::UniqueFd master) {
    if (!master) {
        return; // the child failed before making it: the handshake says why
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path) {
        throw nsrun::Error{fmt::format("--console-socket {}: the path is too long for a unix socket", socket_path),
                           "give a shorter path"};
    }
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size());
    const nsrun::UniqueFd sock{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (!sock || ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == -1) {
        throw nsrun::Error{fmt::format("connect({}): {}", socket_path, nsrun::errno_text(errno)),
                           "--console-socket must name a listening unix socket"};
    }
    nsrun::sys::send_fd(sock.get(), master.get(), "pty master, to " + nsrun::explain::quote(socket_path));
}

nsrun::UniqueFd TerminalChannel::receive_master() {
    child_end_.reset();
    return nsrun::sys::receive_fd(parent_end_.get(), "pty master"); // none: the child failed before making it
}

TerminalSession::TerminalSession(nsrun::UniqueFd master, bool interactive, int out, WindowSize fallback)
    : master_(std::move(master)), interactive_(interactive), out_(out), fallback_(fallback) {
    if (!master_) {
        return;
    }
    termios mode{};
    if (interactive_ && ::tcgetattr(STDIN_FILENO, &mode) == 0) {
        saved_ = mode;
        ::cfmakeraw(&mode);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &mode);
    }
    copy_window_size();
}

TerminalSession::~TerminalSession() {
    if (saved_) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &*saved_);
    }
}

void TerminalSession::copy_window_size() const {
    winsize size{};
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO}) {
        if (::ioctl(fd, TIOCGWINSZ, &size) == 0) {
            ::ioctl(master_.get(), TIOCSWINSZ, &size);
            return;
        }
    }
    if (fallback_.rows != 0 && fallback_.cols != 0) {
        size.ws_row = fallback_.rows;
        size.ws_col = fallback_.cols;
        ::ioctl(master_.get(), TIOCSWINSZ, &size);
    }
}

int TerminalSession::relay(nsrun::Child& child, const SignalForwarder& signals) {
    sigset_t set = signals.signal_set();
    sigaddset(&set, SIGWINCH);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    const nsrun::UniqueFd sigfd{::signalfd(-1, &set, SFD_CLOEXEC)};
    if (!sigfd) {
        throw nsrun::SysError("signalfd()", errno);
    }
    bool stdin_open = interactive_;
    bool master_open = master_.valid();
    for (;;) {
        int status = 0;
        if (::waitpid(child.pid(), &status, WNOHANG) == child.pid()) {
            child.reaped();
            while (master_open && pump(master_.get(), out_)) {
                pollfd p{master_.get(), POLLIN, 0};
                if (::poll(&p, 1, 0) <= 0) {
                    break;
                }
            }
            return status;
        }
        pollfd fds[3] = {{sigfd.get(), POLLIN, 0},
                         {master_open ? master_.get() : -1, POLLIN, 0},
                         {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0 && errno != EINTR) {
            throw nsrun::SysError("poll(terminal)", errno);
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info{};
            if (::read(sigfd.get(), &info, sizeof info) == sizeof info) {
                const int sig = static_cast<int>(info.ssi_signo);
                if (sig == SIGWINCH) {
                    copy_window_size();
                } else if (sig != SIGCHLD) {
                    nsrun::explain::note("got {}: forwarding it to the container's PID 1", nsrun::flags::signal_name(sig));
                    ::kill(child.pid(), sig);
                }
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            master_open = pump(master_.get(), out_);
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            stdin_open = pump(STDIN_FILENO, master_.get());
        }
    }
}

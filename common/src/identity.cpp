#include "nsrun/identity.hpp"

#include "nsrun/error.hpp"
#include "nsrun/sys.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsrun {
namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\n");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\n") - first + 1);
}

template <typename Number>
std::optional<Number> number_of(std::string_view text) {
    Number value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

/// /proc/PID/stat, read raw (silently: liveness checks are questions, not actions).
std::optional<std::string> read_stat(pid_t pid) {
    const int fd = ::open(fmt::format("/proc/{}/stat", pid).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return std::nullopt;
    }
    char buf[1024];
    ssize_t n;
    do {
        n = ::read(fd, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    ::close(fd);
    if (n <= 0) {
        return std::nullopt;
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

} // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view line) {
    const auto close = line.rfind(')');
    if (close == std::string_view::npos) {
        return std::nullopt;
    }
    // After ") ": field 3 (state) is the first, so field 22 is the 20th.
    std::string_view rest = line.substr(close + 1);
    ProcStat stat;
    for (int field = 3; field <= 22; ++field) {
        const auto start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) {
            return std::nullopt;
        }
        rest = rest.substr(start);
        const auto end = rest.find_first_of(" \n");
        const std::string_view value = rest.substr(0, end);
        if (field == 3) {
            if (value.size() != 1) {
                return std::nullopt;
            }
            stat.state = value.front();
        } else if (field == 22) {
            const auto start_time = number_of<std::uint64_t>(value);
            if (!start_time) {
                return std::nullopt;
            }
            stat.start_time = *start_time;
        }
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    }
    return stat;
}

std::optional<ProcessIdentity> ProcessIdentity::of(pid_t pid) {
    const auto text = read_stat(pid);
    const auto stat = text ? parse_proc_stat(*text) : std::nullopt;
    if (!stat) {
        return std::nullopt;
    }
    return ProcessIdentity{pid, stat->start_time};
}

ProcessIdentity ProcessIdentity::self() {
    // Our own stat is always readable while /proc is mounted; without /proc
    // we still know our pid.
    return of(::getpid()).value_or(ProcessIdentity{::getpid(), 0});
}

std::string ProcessIdentity::str() const { return fmt::format("{} {}", pid, start_time); }

std::optional<ProcessIdentity> ProcessIdentity::parse(std::string_view text) {
    text = trim(text);
    const auto space = text.find(' ');
    const auto pid = number_of<pid_t>(text.substr(0, space));
    if (!pid || *pid <= 0) {
        return std::nullopt;
    }
    if (space == std::string_view::npos) {
        return ProcessIdentity{*pid, 0};
    }
    const auto start_time = number_of<std::uint64_t>(trim(text.substr(space + 1)));
    if (!start_time) {
        return std::nullopt;
    }
    return ProcessIdentity{*pid, *start_time};
}

bool is_alive(const ProcessIdentity& identity) {
    if (identity.pid <= 0) {
        return false;
    }
    const auto text = read_stat(identity.pid);
    if (!text) {
        if (::access("/proc/self/stat", F_OK) == 0) {
            return false; // /proc works, and has no such pid: it is gone
        }
        // No /proc here at all: the bare pid is all we can ask about.
        return ::kill(identity.pid, 0) == 0 || errno == EPERM;
    }
    const auto stat = parse_proc_stat(*text);
    if (!stat) {
        return true; // unreadable as a stat line: never reclaim on a doubt
    }
    if (stat->state == 'Z' || stat->state == 'X') {
        return false; // ended, only not reaped yet: it holds nothing any more
    }
    return identity.start_time == 0 || stat->start_time == identity.start_time;
}

bool record_owner_is_gone(const std::string& path) {
    std::string text;
    try {
        text = sys::read_file(path);
    } catch (const SysError& e) {
        return e.error_number() == ENOENT;
    }
    const auto owner = ProcessIdentity::parse(text);
    return !owner || !is_alive(*owner);
}

UniqueFd open_pidfd(const ProcessIdentity& identity) {
    if (identity.pid <= 0) {
        return {};
    }
    UniqueFd pidfd = sys::try_pidfd_open(identity.pid);
    if (!pidfd) {
        return {}; // ESRCH: gone already
    }
    if (!is_alive(identity)) {
        return {}; // gone, or the pid now names another process
    }
    return pidfd;
}

} // namespace nsrun

// The monitor of a detached container (see monitor.hpp).
//
//   client ──fork──> intermediate ──setsid, fork──> monitor ──clone──> container
//      │                 └─ exits at once                │
//      └── reads the report pipe: "started <id>" or "failed <status> <message> <hint>"
//
// Until the report, the monitor's stderr *is* the report pipe, so warnings
// and --explain narration reach the user; then it lets go of it (the client
// sees end-of-file and returns) and writes nothing but the log and the record.
#include "monitor.hpp"

#include "engine.hpp"
#include "tty.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// Report lines start with this byte; anything else is the monitor's own
/// stderr (warnings, narration) and is passed through.
constexpr char report_mark = '\x01';

std::string escape_line(std::string text) {
    for (auto& c : text) {
        if (c == '\n' || c == '\t') {
            c = ' ';
        }
    }
    return text;
}

void report(const std::string& line) {
    const std::string text = fmt::format("{}{}\n", report_mark, line);
    (void)::write(STDERR_FILENO, text.data(), text.size());
}

/// Let go of the report pipe: from now on the monitor is silent.
void detach_stderr() {
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(null, STDERR_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::close(null);
    nsrun::explain::enable(false);
}

/// Copies the container's stdout and stderr into the log, one record per
/// line: "<RFC 3339 time> <stdout|stderr> <F|P> <text>" (F: a full line, P:
/// a partial one, the line continues in the next record) — the CRI log
/// format conmon writes, so that `logs --timestamps` knows when each line came.
class Logger {
public:
    Logger(int out, int err, std::string path) : out_(out), err_(err), path_(std::move(path)) {}

    void run() {
        const nsrun::UniqueFd log{::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)};
        std::string pending[2];
        const char* names[2] = {"stdout", "stderr"};
        pollfd fds[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
        int open = 2;
        while (open > 0) {
            if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
                break;
            }
            for (int i = 0; i < 2; ++i) {
                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                    continue;
                }
                char buf[8192];
                const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    if (n < 0 && errno == EINTR) {
                        continue;
                    }
                    write_lines(log.get(), names[i], pending[i], true);
                    fds[i].fd = -1;
                    --open;
                    continue;
                }
                pending[i].append(buf, static_cast<std::size_t>(n));
                write_lines(log.get(), names[i], pending[i], false);
            }
        }
    }

private:
    static void write_lines(int log, const char* stream, std::string& pending, bool flush) {
        std::string out;
        const std::string now = now_rfc3339();
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
            out += fmt::format("{} {} F {}\n", now, stream, std::string_view(pending).substr(start, nl - start));
        }
        pending.erase(0, start);
        if (flush && !pending.empty()) {
            out += fmt::format("{} {} P {}\n", now, stream, pending);
            pending.clear();
        }
        if (!out.empty()) {
            (void)::write(log, out.data(), out.size());
        }
    }

    nsrun::UniqueFd out_;
    nsrun::UniqueFd err_;
    std::string path_;
};

std::pair<nsrun::UniqueFd, nsrun::UniqueFd> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == -1) {
        throw nsrun::SysError("pipe2(O_CLOEXEC)", errno);
    }
    return {nsrun::UniqueFd{fds[0]}, nsrun::UniqueFd{fds[1]}};
}

/// The size for a detached container's pty (-d -t): the caller's terminal's
/// if it has one, else the classic 24x80.
WindowSize detached_window_size() {
    winsize size{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row != 0 && size.ws_col != 0) {
        return {size.ws_row, size.ws_col};
    }
    return {24, 80};
}

[[noreturn]] void monitor_main(const ContainerSpec& spec) {
    nsrun::explain::set_role("monitor");
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    nsrun::explain::note("prctl(PR_SET_CHILD_SUBREAPER, 1) = 0 (the monitor adopts the container's orphans)");
    const WindowSize window = detached_window_size(); // before stdin is /dev/null
    const nsrun::UniqueFd null{::open("/dev/null", O_RDWR | O_CLOEXEC)};
    ::dup2(null.get(), STDIN_FILENO);
    auto [out_read, out_write] = make_pipe();
    auto [err_read, err_write] = make_pipe();
    std::thread logger;
    bool started = false;
    int status = 0;
    // -t: the container's streams are its pty, whose output the monitor
    // copies into the stdout pipe, so the log holds what a terminal would show.
    const bool terminal = spec.process.terminal;
    try {
        Stdio stdio{null.get(), out_write.get(), err_write.get()};
        if (terminal) {
            stdio.terminal_out = out_write.get();
            stdio.terminal_rows = window.rows;
            stdio.terminal_cols = window.cols;
        }
        status = run_container(spec, stdio, [&](const Record& record) {
            // The container exec'd: only it holds the pipes' write ends now
            // (with a terminal, the monitor keeps writing the pty's output).
            if (!terminal) {
                out_write.reset();
            }
            err_write.reset();
            logger = std::thread([&, path = log_path(spec.nsrun.state_dir, record.id)] {
                Logger(out_read.release(), err_read.release(), path).run();
            });
            report("started " + record.id);
            started = true;
            detach_stderr();
        });
    } catch (const nsrun::Error& e) {
        if (!started) {
            report(fmt::format("failed\t{}\t{}\t{}", e.exit_status(), escape_line(e.what()), escape_line(e.hint())));
        }
        status = e.exit_status();
    } catch (const std::exception& e) {
        if (!started) {
            report(fmt::format("failed\t{}\t{}\t", nsrun::exit_code::runtime_error, escape_line(e.what())));
        }
        status = nsrun::exit_code::runtime_error;
    }
    out_write.reset(); // the logger sees end-of-file once the container's copies are gone too
    err_write.reset();
    if (logger.joinable()) {
        logger.join();
    }
    ::_exit(status);
}

} // namespace

std::string log_path(const std::string& state_dir, const std::string& id) {
    return fmt::format("{}/containers/{}/container.log", state_dir, id);
}

int run_detached(const ContainerSpec& spec) {
    auto [report_read, report_write] = make_pipe();
    std::fflush(nullptr);
    const pid_t intermediate = ::fork();
    if (intermediate == -1) {
        throw nsrun::SysError("fork(monitor)", errno);
    }
    if (intermediate == 0) {
        report_read.reset();
        ::setsid();
        const pid_t monitor = ::fork();
        if (monitor != 0) {
            ::_exit(monitor == -1 ? nsrun::exit_code::runtime_error : 0);
        }
        ::dup2(report_write.get(), STDERR_FILENO);
        ::dup2(report_write.get(), STDOUT_FILENO);
        report_write.reset();
        monitor_main(spec);
    }
    report_write.reset();
    int ignored = 0;
    ::waitpid(intermediate, &ignored, 0);
    // Relay the monitor's messages until its report.
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(report_read.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    std::string result;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
        const std::string line = text.substr(start, nl - start);
        if (!line.empty() && line.front() == report_mark) {
            result = line.substr(1);
        } else {
            std::fputs((line + "\n").c_str(), stderr);
        }
    }
    if (result.starts_with("started ")) {
        std::puts(result.substr(8).c_str());
        return 0;
    }
    if (result.starts_with("failed\t")) {
        const auto a = result.find('\t', 7);
        const auto b = result.find('\t', a + 1);
        const int status = std::stoi(result.substr(7, a - 7));
        throw nsrun::Error{result.substr(a + 1, b - a - 1), b == std::string::npos ? "" : result.substr(b + 1), status};
    }
    throw nsrun::Error{"the container's monitor ended before the container started",
                       "run it in the foreground (without -d) to see why"};
}

// The exec step (exec_step.hpp): a sealed stub execs COMMAND.
#include "exec_step.hpp"

#include "sealed_exe.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

extern char** environ;

namespace {

/// stub/exec_stub.cpp as built, embedded at build time (stub/embed.cmake).
constexpr unsigned char stub_image[] = {
#include "exec_stub_image.inc"
};

/// Why `path` cannot be exec'd (0: it can), as execve would say it.
int cannot_execute(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == -1) {
        return errno;
    }
    if (S_ISDIR(st.st_mode) || ::access(path.c_str(), X_OK) == -1) {
        return EACCES;
    }
    return 0;
}

/// COMMAND's file, found as execvp finds it: a name with a slash is a path;
/// any other is looked up on the container's PATH (execvp's default when
/// it has none), skipping candidates that cannot be executed.
std::string find_command(const std::string& name) {
    const auto not_found = [&] {
        return nsrun::Error{fmt::format("{}: command not found", name),
                            "check the name, or give a full path inside the container",
                            nsrun::exit_code::not_found};
    };
    const auto denied = [&] {
        return nsrun::Error{fmt::format("{}: cannot execute: {}", name, nsrun::errno_text(EACCES)),
                            "is the file executable (chmod +x) and not a directory?",
                            nsrun::exit_code::cannot_execute};
    };
    if (name.empty()) {
        throw not_found();
    }
    if (name.find('/') != std::string::npos) {
        const int err = cannot_execute(name);
        if (err == ENOENT || err == ENOTDIR) {
            throw not_found();
        }
        if (err != 0) {
            throw denied();
        }
        return name;
    }
    const char* path = std::getenv("PATH");
    const std::string dirs = path ? path : "/bin:/usr/bin";
    bool saw_denied = false;
    for (std::size_t start = 0; start <= dirs.size();) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::string dir = end == start ? "." : dirs.substr(start, end - start);
        const std::string candidate = dir + "/" + name;
        const int err = cannot_execute(candidate);
        if (err == 0) {
            return candidate;
        }
        saw_denied = saw_denied || err == EACCES;
        start = end + 1;
    }
    throw saw_denied ? denied() : not_found();
}

} // namespace

ExecStep ExecStep::make() {
    nsrun::UniqueFd memfd = executable_memfd("nsrun-exec");
    for (std::size_t written = 0; written < sizeof stub_image;) {
        const ssize_t n = ::write(memfd.get(), stub_image + written, sizeof stub_image - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw nsrun::SysError("write(memfd nsrun-exec, the exec step's program)", n == 0 ? EIO : errno);
        }
        written += static_cast<std::size_t>(n);
    }
    nsrun::explain::note("write({}, the exec step's program, {} bytes) = {}", memfd.get(), sizeof stub_image,
                         sizeof stub_image);
    seal_memfd(memfd.get());
    return ExecStep{std::move(memfd)};
}

void ExecStep::exec(const std::vector<std::string>& argv, nsrun::Handshake& handshake) const {
    std::string path;
    try {
        path = find_command(argv.front());
        handshake.ready(); // from here on, only the exec or its failure can follow
    } catch (const nsrun::Error& error) {
        handshake.fail(error);
    }
    const int report = handshake.own_fd();
    const std::string report_arg = fmt::format("--report-fd={}", report);
    std::vector<char*> args{const_cast<char*>("nsrun-exec"), const_cast<char*>(report_arg.c_str()),
                            const_cast<char*>(path.c_str())};
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    if (nsrun::explain::enabled()) {
        nsrun::explain::note("execveat({} <sealed memfd nsrun-exec>, \"\", {}, AT_EMPTY_PATH): the stub then "
                             "execve({}, {})",
                             memfd_.get(), nsrun::explain::quote(std::vector<std::string>(args.begin(), args.begin() + 3)),
                             nsrun::explain::quote(path), nsrun::explain::quote(argv));
    }
    // The stub reports on the handshake if COMMAND fails to exec, and marks
    // it close-on-exec again before trying.
    (void)::fcntl(report, F_SETFD, 0);
    ::execveat(memfd_.get(), "", args.data(), environ, AT_EMPTY_PATH);
    int err = errno;
    if (err == EPERM || err == ENOSYS) {
        // A seccomp profile without execveat: the same file through /proc.
        const std::string by_path = fmt::format("/proc/self/fd/{}", memfd_.get());
        ::execve(by_path.c_str(), args.data(), environ);
        err = errno;
    }
    (void)::fcntl(report, F_SETFD, FD_CLOEXEC);
    handshake.fail(nsrun::Error{fmt::format("execveat(sealed memfd nsrun-exec): {}", nsrun::errno_text(err)),
                                "nsrun execs COMMAND through its own sealed stub: the container's seccomp "
                                "profile must allow execveat or execve, and /proc must be mounted",
                                nsrun::exit_code::cannot_execute});
}

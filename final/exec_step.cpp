// The exec step (exec_step.hpp): a sealed stub execs COMMAND.
#include "exec_step.hpp"

#include "sealed_exe.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

extern char** environ;

namespace {

/// stub/exec_stub.cpp as built, embedded at build time (stub/embed.cmake).
constexpr unsigned char stub_image[] = {
#if defined(NSRUN_EXEC_STUB) && !defined(NSRUN_DOXYGEN) // made by the build (final/CMakeLists.txt)
#include "exec_stub_image.inc"
#else
    0 // no stub in this build: ExecStep::available() is false and make() is never called
#endif
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

/// look_up_command's result as `run` reports it (nsrun's own words).
std::string find_command(const std::string& name) {
    const CommandLookup found = look_up_command(name);
    if (found.error == EACCES) {
        throw nsrun::Error{fmt::format("{}: cannot execute: {}", name, nsrun::errno_text(EACCES)),
                           "is the file executable (chmod +x) and not a directory?", nsrun::exit_code::cannot_execute};
    }
    if (found.error != 0) {
        throw nsrun::Error{fmt::format("{}: command not found", name),
                           "check the name, or give a full path inside the container", nsrun::exit_code::not_found};
    }
    return found.path;
}

/// execveat the stub, or the same file through /proc when a seccomp profile
/// refuses execveat; returns the error when both fail.
int exec_stub(int memfd, std::vector<char*>& args) {
    ::execveat(memfd, "", args.data(), environ, AT_EMPTY_PATH);
    int err = errno;
    if (err == EPERM || err == ENOSYS) {
        const std::string by_path = fmt::format("/proc/self/fd/{}", memfd);
        ::execve(by_path.c_str(), args.data(), environ);
        err = errno;
    }
    return err;
}

/// The stub's argv: MODE, PATH, then COMMAND's own argv.
std::vector<char*> stub_args(const std::string& mode, const std::string& path, const std::vector<std::string>& argv) {
    std::vector<char*> args{const_cast<char*>("nsrun-exec"), const_cast<char*>(mode.c_str()),
                            const_cast<char*>(path.c_str())};
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    return args;
}

const char* const stub_hint = "nsrun execs COMMAND through its own sealed stub: the container's seccomp profile must "
                              "allow execveat or execve, and /proc must be mounted";

} // namespace

CommandLookup look_up_command(const std::string& name) {
    if (name.empty()) {
        return {"", ENOENT};
    }
    if (name.find('/') != std::string::npos) {
        const int err = cannot_execute(name);
        return {err == 0 ? name : "", err == 0 ? 0 : err == EACCES ? EACCES : ENOENT};
    }
    const char* path = std::getenv("PATH");
    const std::string dirs = path ? path : "/bin:/usr/bin"; // execvp's default
    bool saw_denied = false;
    for (std::size_t start = 0; start <= dirs.size();) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::string dir = end == start ? "." : dirs.substr(start, end - start);
        const std::string candidate = dir + "/" + name;
        const int err = cannot_execute(candidate);
        if (err == 0) {
            return {candidate, 0};
        }
        saw_denied = saw_denied || err == EACCES;
        start = end + 1;
    }
    return {"", saw_denied ? EACCES : ENOENT};
}

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
    const std::string mode = fmt::format("--report-fd={}", report);
    std::vector<char*> args = stub_args(mode, path, argv);
    if (nsrun::explain::enabled()) {
        nsrun::explain::note("execveat({} <sealed memfd nsrun-exec>, \"\", [\"nsrun-exec\", \"{}\", {}, ...], "
                             "AT_EMPTY_PATH): the stub then execve({}, {})",
                             memfd_.get(), mode, nsrun::explain::quote(path), nsrun::explain::quote(path),
                             nsrun::explain::quote(argv));
    }
    // The stub reports on the handshake if COMMAND fails to exec, and marks
    // it close-on-exec again before trying.
    (void)::fcntl(report, F_SETFD, 0);
    const int err = exec_stub(memfd_.get(), args);
    (void)::fcntl(report, F_SETFD, FD_CLOEXEC);
    handshake.fail(nsrun::Error{fmt::format("execveat(sealed memfd nsrun-exec): {}", nsrun::errno_text(err)), stub_hint,
                                nsrun::exit_code::cannot_execute});
}

void ExecStep::exec_after_start(const std::vector<std::string>& argv, const std::string& path, int fifo) const {
    const std::string mode = fmt::format("--start-fifo={}", fifo);
    std::vector<char*> args = stub_args(mode, path, argv);
    nsrun::explain::note("execveat({} <sealed memfd nsrun-exec>, \"\", [\"nsrun-exec\", \"{}\", ...], AT_EMPTY_PATH): "
                         "the stub waits for start, then execs COMMAND",
                         memfd_.get(), mode);
    (void)::fcntl(fifo, F_SETFD, 0); // the stub needs it, and closes it before COMMAND
    const int err = exec_stub(memfd_.get(), args);
    std::fprintf(stderr, "nsrun: error: execveat(sealed memfd nsrun-exec): %s\nnsrun: hint: %s\n",
                 nsrun::errno_text(err).c_str(), stub_hint);
    ::_exit(nsrun::exit_code::runtime_error);
}

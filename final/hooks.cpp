// OCI hooks (see hooks.hpp).
#include "hooks.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include <optional>

namespace {

/// Fork and exec one hook with `state` on its stdin; returns its wait status,
/// or nullopt when it outlived its timeout (then it was killed).
std::optional<int> run_one(const Hook& hook, const std::string& state) {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) == -1) {
        throw nsrun::SysError("pipe2(hook stdin)", errno);
    }
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = hook.env;
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == -1) {
        throw nsrun::SysError(fmt::format("fork(hook {})", hook.path), errno);
    }
    if (pid == 0) {
        ::dup2(in[0], STDIN_FILENO);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(in[0]);
    // The state is small (well under a pipe's 64 KiB): one write never blocks.
    (void)::write(in[1], state.data(), state.size());
    ::close(in[1]);
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::seconds(hook.timeout.value_or(0));
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, hook.timeout ? WNOHANG : 0);
        if (r == pid) {
            return status;
        }
        if (r == -1 && errno != EINTR) {
            throw nsrun::SysError(fmt::format("waitpid(hook {})", hook.path), errno);
        }
        if (hook.timeout && clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace

void run_hooks(const std::vector<Hook>& hooks, const std::string& point, const std::string& state) {
    for (std::size_t i = 0; i < hooks.size(); ++i) {
        const Hook& hook = hooks[i];
        nsrun::explain::note("hook {}[{}]: {}", point, i, hook.path);
        const auto status = run_one(hook, state);
        const std::string name = fmt::format("hooks.{}[{}] ({})", point, i, hook.path);
        if (!status) {
            throw nsrun::Error{fmt::format("{} timed out after {} s and was killed", name, *hook.timeout),
                               "make the hook faster, or raise its timeout in config.json"};
        }
        if (WIFSIGNALED(*status)) {
            throw nsrun::Error{fmt::format("{} was killed by signal {}", name, WTERMSIG(*status))};
        }
        if (WEXITSTATUS(*status) != 0) {
            throw nsrun::Error{fmt::format("{} failed with exit status {}", name, WEXITSTATUS(*status)),
                               WEXITSTATUS(*status) == 127 ? "is hook.path an absolute path to an executable?" : ""};
        }
    }
}

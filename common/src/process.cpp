#include "nsrun/process.hpp"

#include "nsrun/error.hpp"
#include "nsrun/explain.hpp"
#include "nsrun/flags.hpp"

#include <cerrno>
#include <csignal>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsrun {
namespace {

constexpr std::size_t child_stack_size = 1024 * 1024;

int child_trampoline(void* arg) {
    explain::set_role("child");
    const auto& body = *static_cast<const std::function<int()>*>(arg);
    return body();
}

/// An mmap'd stack for clone(2); the parent unmaps its copy after cloning
/// (the child, without CLONE_VM, has its own copy of the whole address space).
class Stack {
public:
    Stack() {
        memory_ = ::mmap(nullptr, child_stack_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (memory_ == MAP_FAILED) {
            throw SysError("mmap(child stack)", errno);
        }
    }
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;
    ~Stack() { ::munmap(memory_, child_stack_size); }
    /// Stacks grow down on every architecture we run on.
    [[nodiscard]] void* top() const noexcept { return static_cast<char*>(memory_) + child_stack_size; }

private:
    void* memory_;
};

} // namespace

Child::~Child() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {
        }
    }
}

int Child::wait() {
    int status = 0;
    for (;;) {
        const pid_t rc = ::waitpid(pid_, &status, 0);
        if (rc == pid_) {
            break;
        }
        if (rc == -1 && errno != EINTR) {
            throw SysError(fmt::format("waitpid({})", pid_), errno);
        }
    }
    if (explain::enabled()) { // the arguments cost formatting: only when narrating
        explain::note("waitpid({}) = {} ({})", pid_, pid_,
                      WIFSIGNALED(status) ? fmt::format("killed by {}", flags::signal_name(WTERMSIG(status)))
                                          : fmt::format("exited with {}", WEXITSTATUS(status)));
    }
    pid_ = -1;
    return status;
}

Child clone_child(int flags, const std::function<int()>& body) {
    const Stack stack;
    const int all_flags = flags | SIGCHLD;
    const pid_t pid = ::clone(child_trampoline, stack.top(), all_flags,
                              const_cast<std::function<int()>*>(&body));
    const int err = errno;
    if (explain::enabled()) {
        explain::note("clone({}) {}", flags::clone_flags(static_cast<unsigned long>(all_flags)),
                      explain::result(pid, err));
    }
    if (pid == -1) {
        throw SysError(fmt::format("clone({})", flags::clone_flags(static_cast<unsigned long>(all_flags))), err);
    }
    return Child{pid};
}

int exit_status_of(int wait_status) noexcept {
    if (WIFSIGNALED(wait_status)) {
        return exit_code::signal_base + WTERMSIG(wait_status);
    }
    return WEXITSTATUS(wait_status);
}

void exec_command(const std::vector<std::string>& argv, Handshake& handshake) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    try {
        handshake.ready(); // from here on, only exec or its failure can follow
    } catch (const Error& error) {
        handshake.fail(error);
    }
    if (explain::enabled()) {
        explain::note("execvp({}, {})", explain::quote(argv.front()), explain::quote(argv));
    }
    ::execvp(args[0], args.data());
    const int err = errno;
    explain::note("execvp({}) {}", explain::quote(argv.front()), explain::result(-1, err));
    if (err == ENOENT || err == ENOTDIR) {
        handshake.fail(Error{fmt::format("{}: command not found", argv.front()),
                             "check the name, or give a full path inside the container",
                             exit_code::not_found});
    }
    handshake.fail(Error{fmt::format("{}: cannot execute: {}", argv.front(), errno_text(err)),
                         err == EACCES ? "is the file executable (chmod +x) and not a directory?" : "",
                         exit_code::cannot_execute});
}

void require_root(const std::string& what) {
    if (::geteuid() != 0) {
        throw Error{fmt::format("{} needs root privileges (running as uid {})", what, ::geteuid()),
                    "run it as root, e.g. with sudo"};
    }
}

} // namespace nsrun

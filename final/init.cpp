#include "init.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/process.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

void run_init(const std::vector<std::string>& argv, nsrun::Handshake& handshake) {
    sigset_t all;
    sigset_t original;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, &original);
    const pid_t command = ::fork();
    if (command == -1) {
        handshake.fail(nsrun::SysError("fork(init)", errno));
    }
    if (command == 0) {
        nsrun::explain::set_role("command");
        ::sigprocmask(SIG_SETMASK, &original, nullptr);
        nsrun::exec_command(argv, handshake);
    }
    nsrun::explain::note("init: PID 1 runs COMMAND as pid {}, forwards signals, reaps zombies", command);
    handshake.in_parent(); // PID 1 keeps no end: the runtime sees EOF once COMMAND exec'd
    // PID 1 never execs, so close-on-exec does not protect it: it closes
    // every descriptor it still holds, none of them may be reached through
    // /proc/1/fd from inside.
    try {
        nsrun::sys::close_from(3);
    } catch (const nsrun::Error&) {
        // close_range only fails on bad arguments; keep reaping regardless
    }
    for (;;) {
        siginfo_t info{};
        const int sig = ::sigwaitinfo(&all, &info);
        if (sig == -1) {
            continue;
        }
        if (sig != SIGCHLD) {
            ::kill(command, sig);
            continue;
        }
        int status = 0;
        for (pid_t done; (done = ::waitpid(-1, &status, WNOHANG)) > 0;) {
            if (done == command) {
                ::_exit(nsrun::exit_status_of(status));
            }
        }
    }
}

// nsrun exec: a second process in a running container.  setns(2) moves the
// caller into an existing namespace; for the PID namespace it moves only the
// caller's future children (a process never changes its pid), so the runtime
// joins that one and forks: the child is born inside, then joins the others
// itself — user first (it owns them all), the mount namespace last but one
// (it changes the root and the working directory to the container's).  The
// parent moves it into the container's cgroup before releasing it, as `run` does.
#include "engine.hpp"

#include "cgroups.hpp"
#include "pid.hpp"
#include "tty.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/handshake.hpp>
#include <nsrun/process.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <optional>
#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

struct JoinedNamespace {
    const char* name; ///< /proc/PID/ns/NAME
    nsrun::UniqueFd fd;
};

void set_namespace(const JoinedNamespace& ns, pid_t pid) {
    nsrun::sys::setns(ns.fd.get(), 0, fmt::format("/proc/{}/ns/{}", pid, ns.name));
}

} // namespace

int exec_in_container(const Record& record, const Process& process, bool interactive, const ExecDetach* detach) {
    const pid_t pid = record.init.pid;
    // Open every namespace first, then check that the pid is still *the*
    // container's PID 1 (same start time): the descriptors then are its.
    std::vector<JoinedNamespace> namespaces;
    const bool userns = record.spec.linux.has("user");
    for (const char* name : {"user", "ipc", "uts", "net", "cgroup", "mnt"}) {
        if (std::string(name) == "user" && !userns) {
            continue;
        }
        namespaces.push_back({name, nsrun::sys::open(fmt::format("/proc/{}/ns/{}", pid, name), O_RDONLY | O_CLOEXEC)});
    }
    const JoinedNamespace pid_ns{"pid", nsrun::sys::open(fmt::format("/proc/{}/ns/pid", pid), O_RDONLY | O_CLOEXEC)};
    if (!nsrun::is_alive(record.init)) {
        throw nsrun::Error{"the container stopped while exec was joining it"};
    }
    set_namespace(pid_ns, pid); // for our children only
    auto handshake = nsrun::Handshake::create();
    SignalForwarder signals;
    std::optional<TerminalChannel> terminal;
    if (process.terminal) {
        terminal.emplace();
    }
    const ParentLifeline lifeline;
    if (::geteuid() == 0) {
        // The child is born in the container's PID namespace and is nsrun
        // until it execs: not dumpable from birth (it inherits the flag), so
        // root in the container (no CAP_SYS_PTRACE) cannot open its
        // /proc/PID/exe, fd/ or mem (CVE-2016-9962, CVE-2019-5736).
        nsrun::sys::set_not_dumpable();
    }
    nsrun::Child child = nsrun::clone_child(0, [&]() -> int {
        handshake.in_child();
        try {
            if (!detach) {
                lifeline.die_with_parent(); // detached, it outlives us: the caller adopts it
            }
            handshake.wait_for_parent();
            signals.restore_mask_in_child();
            for (const auto& ns : namespaces) {
                set_namespace(ns, pid);
                if (std::string(ns.name) == "user") {
                    nsrun::sys::setresgid(0);
                    nsrun::sys::setresuid(0);
                }
            }
            if (terminal) {
                terminal->become_controlling_terminal();
            }
            set_up_process(process, record.spec.linux.seccomp);
            lock_down_process(process, record.spec.linux.seccomp);
            nsrun::exec_command(process.args, handshake);
        } catch (const nsrun::Error& error) {
            handshake.fail(error);
        } catch (const std::exception& error) {
            handshake.fail(nsrun::Error{fmt::format("exec setup failed: {}", error.what())});
        }
    });
    handshake.in_parent();
    join_cgroups(record.resources.cgroups, child.pid());
    handshake.release_child();
    std::optional<TerminalSession> session;
    if (terminal && detach) {
        send_console(detach->console_socket, terminal->receive_master());
    } else if (terminal) {
        session.emplace(terminal->receive_master(), interactive);
    }
    if (auto failure = handshake.wait_for_exec()) {
        child.wait();
        throw *failure;
    }
    if (detach) {
        if (!detach->pid_file.empty()) {
            write_pid_file(detach->pid_file, child.pid());
        }
        child.reaped(); // the caller's now
        return 0;
    }
    const int status = session ? session->relay(child, signals) : signals.wait_forwarding(child);
    return nsrun::exit_status_of(status);
}

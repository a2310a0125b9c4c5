// lab-fault: runs COMMAND with system-call faults injected, in COMMAND and
// in every process it starts, whatever their binaries (static or dynamic)
// and namespaces — the tests' way to make a runtime fail, or to hold it, at
// one precise system call.
//
//   lab-fault --inject 'sethostname:kill' -- nsrun run ...
//   lab-fault --inject 'prctl:arg0=1:mark=FILE:wait=FILE' -- nsrun run ...
//
// How: before it execs COMMAND (in place: COMMAND keeps this process's pid)
// it installs a seccomp filter that hands the listed system calls to a
// supervisor process (SECCOMP_RET_USER_NOTIF, seccomp_unotify(2)).  The
// supervisor, forked before the filter and detached from COMMAND (it is not
// COMMAND's child, so a runtime that reaps its children never sees it), gets
// each such call with the caller's pid and arguments, and answers it: let it
// run (SECCOMP_USER_NOTIF_FLAG_CONTINUE), fail it with an errno, or kill the
// caller — after a delay, or once a file exists.  It ends when every process
// under the filter has ended.  strace's -e inject does the same through
// ptrace, but cannot hold a call until the test says go, and ptrace changes
// what it traces (who the parent is, signals).
//
// A rule is SYSCALL[:CONDITION...][:ACTION...], conditions first:
//   arg0=N          the first argument is N (e.g. prctl's option)
//   runtime         the caller is COMMAND's own process, not a descendant
//   after-send=C    only once COMMAND's process has sent the one byte C
//                   (send/sendto of length 1: the handshake's "go" is 'G')
//   fd-path=S       the first argument is an fd whose path contains S
//   fd-path-not=S   ... and does not contain S
// and actions, in this order:
//   mark=FILE       create FILE (the test sees the call is held)
//   wait=FILE       hold the call until FILE exists (at most 20 s)
//   delay=MS        hold it MS milliseconds
//   errno=NAME      fail it with NAME (EPERM, EIO, ...) instead of running it
//   kill            SIGKILL the caller
// A call that matches no rule runs as usual.
#include "../fd_passing.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <map>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

struct Rule {
    std::string text;
    int nr = -1;
    std::optional<unsigned long> arg0;
    bool runtime_only = false;
    std::optional<char> after_send;
    std::string fd_path, fd_path_not;
    std::string mark, wait;
    int delay_ms = 0;
    int error = 0;
    bool kill = false;
};

const std::map<std::string, int> syscalls{
    {"sethostname", SYS_sethostname}, {"prctl", SYS_prctl}, {"write", SYS_write},
    {"recvfrom", SYS_recvfrom},       {"sendto", SYS_sendto}, {"mount", SYS_mount},
    {"pivot_root", SYS_pivot_root},   {"unshare", SYS_unshare}, {"execve", SYS_execve},
    {"mkdir", SYS_mkdir},             {"openat", SYS_openat},
};

const std::map<std::string, int> errnos{
    {"EPERM", EPERM}, {"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EACCES", EACCES}, {"EINVAL", EINVAL},
    {"ENOMEM", ENOMEM}, {"EBUSY", EBUSY}, {"ENOENT", ENOENT},
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "lab-fault: %s\n", what.c_str());
    std::exit(125);
}

Rule parse_rule(const std::string& text) {
    Rule rule;
    rule.text = text;
    std::vector<std::string> parts;
    for (std::size_t from = 0;;) {
        const std::size_t colon = text.find(':', from);
        parts.push_back(text.substr(from, colon - from));
        if (colon == std::string::npos) break;
        from = colon + 1;
    }
    const auto nr = syscalls.find(parts.front());
    if (nr == syscalls.end()) die(fmt::format("{}: unknown system call {}", text, parts.front()));
    rule.nr = nr->second;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& part = parts[i];
        const std::size_t eq = part.find('=');
        const std::string key = part.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : part.substr(eq + 1);
        if (key == "arg0") rule.arg0 = std::stoul(value, nullptr, 0);
        else if (key == "runtime") rule.runtime_only = true;
        else if (key == "after-send" && value.size() == 1) rule.after_send = value[0];
        else if (key == "fd-path") rule.fd_path = value;
        else if (key == "fd-path-not") rule.fd_path_not = value;
        else if (key == "mark") rule.mark = value;
        else if (key == "wait") rule.wait = value;
        else if (key == "delay") rule.delay_ms = std::stoi(value);
        else if (key == "kill") rule.kill = true;
        else if (key == "errno" && errnos.contains(value)) rule.error = errnos.at(value);
        else die(fmt::format("{}: cannot read '{}'", text, part));
    }
    return rule;
}

/// The filter: on x86-64, each rule's system call (with arg0, when the rule
/// names it) goes to the supervisor; every other call is allowed.
std::vector<sock_filter> make_filter(const std::vector<Rule>& rules) {
    std::vector<sock_filter> prog;
    const auto load = [&](std::uint32_t offset) { prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); };
    load(offsetof(seccomp_data, arch));
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    for (const Rule& rule : rules) {
        load(offsetof(seccomp_data, nr));
        if (rule.arg0) {
            // nr matches → check the low 32 bits of arg0; either miss skips to the next rule.
            prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(rule.nr), 0, 3));
            load(offsetof(seccomp_data, args[0]));
            prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(*rule.arg0), 0, 1));
        } else {
            prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(rule.nr), 0, 1));
        }
        prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF));
    }
    bool watch_sends = false;
    for (const Rule& rule : rules) watch_sends = watch_sends || rule.after_send.has_value();
    if (watch_sends) { // sends of one byte, for after-send=
        load(offsetof(seccomp_data, nr));
        prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendto, 0, 3));
        load(offsetof(seccomp_data, args[2]));
        prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1));
        prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF));
    }
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    return prog;
}

std::string fd_path(pid_t pid, unsigned long fd) {
    char target[4096] = {};
    const std::string link = fmt::format("/proc/{}/fd/{}", pid, fd);
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

std::optional<char> byte_at(pid_t pid, unsigned long address) {
    char byte = 0;
    iovec local{&byte, 1}, remote{reinterpret_cast<void*>(address), 1};
    if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) != 1) return std::nullopt;
    return byte;
}

void touch(const std::string& path) {
    if (FILE* f = std::fopen(path.c_str(), "w")) std::fclose(f);
}

void wait_for(const std::string& path) {
    for (int i = 0; i < 2000 && ::access(path.c_str(), F_OK) != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

/// The supervisor's loop: answer every held call until no process is left
/// under the filter.
[[noreturn]] void supervise(int listener, const std::vector<Rule>& rules, pid_t runtime) {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) _exit(1);
    std::vector<char> req_buf(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
    std::vector<char> resp_buf(std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
    std::map<pid_t, char> sent; // the last one-byte send of each process
    for (;;) {
        pollfd p{listener, POLLIN, 0};
        if (::poll(&p, 1, 600'000) <= 0 || (p.revents & (POLLHUP | POLLERR)) != 0) _exit(0);
        auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
        std::memset(req_buf.data(), 0, req_buf.size());
        if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
            if (errno == EINTR || errno == ENOENT) continue;
            _exit(0);
        }
        const pid_t pid = static_cast<pid_t>(req->pid);
        const seccomp_data& call = req->data;
        const Rule* matched = nullptr;
        for (const Rule& rule : rules) {
            if (call.nr != rule.nr || (rule.arg0 && call.args[0] != *rule.arg0)) continue;
            if (rule.runtime_only && pid != runtime) continue;
            if (rule.after_send && sent[pid] != *rule.after_send) continue;
            if (!rule.fd_path.empty() || !rule.fd_path_not.empty()) {
                const std::string path = fd_path(pid, call.args[0]);
                if (path.find(rule.fd_path) == std::string::npos) continue;
                if (!rule.fd_path_not.empty() && path.find(rule.fd_path_not) != std::string::npos) continue;
            }
            matched = &rule;
            break;
        }
        if (call.nr == SYS_sendto && call.args[2] == 1) {
            if (const auto byte = byte_at(pid, call.args[1])) sent[pid] = *byte;
        }
        auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
        std::memset(resp_buf.data(), 0, resp_buf.size());
        resp->id = req->id;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        if (matched) {
            if (!matched->mark.empty()) touch(matched->mark);
            if (!matched->wait.empty()) wait_for(matched->wait);
            if (matched->delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(matched->delay_ms));
            if (matched->kill) {
                ::kill(pid, SIGKILL);
                resp->flags = 0;
                resp->error = -EINTR;
            } else if (matched->error != 0) {
                resp->flags = 0;
                resp->error = -matched->error;
            }
        }
        (void)::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp); // ENOENT: the caller is gone
    }
}

/// Fork the supervisor, detached: a grandchild, so that COMMAND (which this
/// process becomes) has no child it did not start.
void start_supervisor(int socket, const std::vector<Rule>& rules, pid_t runtime, int other_end) {
    const pid_t middle = ::fork();
    if (middle < 0) die(fmt::format("fork: {}", std::strerror(errno)));
    if (middle == 0) {
        ::close(other_end);
        if (::fork() != 0) _exit(0);
        ::setsid();
        // Hold none of COMMAND's descriptors open (its stdio, a pipe a test
        // reads to its end): only the socket the listener comes over.
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd <= 2; ++fd) {
            if (fd != socket) ::dup2(null, fd);
        }
        ::close_range(3, static_cast<unsigned>(socket) - 1, 0);
        ::close_range(static_cast<unsigned>(socket) + 1, ~0U, 0);
        const int listener = lab::receive_fd(socket);
        if (listener < 0) _exit(1);
        supervise(listener, rules, runtime);
    }
    ::waitpid(middle, nullptr, 0);
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND with system-call faults injected into it and every process it starts "
                 "(seccomp user notification: any binary, any namespace).",
                 "lab-fault"};
    std::vector<std::string> injected;
    std::vector<std::string> command;
    app.add_option("--inject", injected,
                   "SYSCALL[:arg0=N][:runtime][:after-send=C][:fd-path=S][:fd-path-not=S]"
                   "[:mark=FILE][:wait=FILE][:delay=MS][:errno=NAME|:kill] (repeatable)")
        ->required();
    app.prefix_command(); // COMMAND and its arguments: everything from the first word that is not an option
    app.footer("Usage: lab-fault --inject RULE [--inject RULE ...] [--] COMMAND [ARGS...]");
    CLI11_PARSE(app, argc, argv);
    command = app.remaining();
    if (!command.empty() && command.front() == "--") command.erase(command.begin());
    if (command.empty()) die("no COMMAND to run (lab-fault --inject RULE -- COMMAND [ARGS...])");

    std::vector<Rule> rules;
    for (const std::string& text : injected) rules.push_back(parse_rule(text));

    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
        die(fmt::format("socketpair: {}", std::strerror(errno)));
    }
    start_supervisor(sockets[1], rules, ::getpid(), sockets[0]);
    ::close(sockets[1]);

    std::vector<sock_filter> prog = make_filter(rules);
    sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
    // Root needs no PR_SET_NO_NEW_PRIVS (which would change what COMMAND may do).
    if (::geteuid() != 0 && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        die(fmt::format("prctl(PR_SET_NO_NEW_PRIVS): {}", std::strerror(errno)));
    }
    const long listener =
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
    if (listener < 0) die(fmt::format("seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER): {}", std::strerror(errno)));
    if (!lab::send_fd(sockets[0], static_cast<int>(listener))) {
        die(fmt::format("sendmsg(seccomp listener): {}", std::strerror(errno)));
    }
    ::close(static_cast<int>(listener));
    ::close(sockets[0]);

    std::vector<char*> args;
    for (std::string& word : command) args.push_back(word.data());
    args.push_back(nullptr);
    ::execvp(args.front(), args.data());
    std::fprintf(stderr, "lab-fault: %s: %s\n", args.front(), std::strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

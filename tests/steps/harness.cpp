#include "harness.hpp"

#include "../needs_root.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <iterator>
#include <poll.h>
#include <regex>
#include <sched.h>
#include <set>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace lab {

Config& config() {
    static Config instance;
    return instance;
}

namespace {

using Clock = std::chrono::steady_clock;

/// One stream of output for a failure message: "(empty)", or its lines
/// indented under the label; long output keeps its head and its tail.
std::string show_output(const std::string& text) {
    if (text.empty()) {
        return "(empty)";
    }
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.size() > 240) {
            line = line.substr(0, 200) + fmt::format(" … ({} more characters)", line.size() - 200);
        }
        lines.push_back(std::move(line));
    }
    constexpr std::size_t head = 10, tail = 5;
    std::string shown;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines.size() > head + tail + 1 && i == head) {
            shown += fmt::format("\n          … {} lines left out …", lines.size() - head - tail);
            i = lines.size() - tail - 1;
            continue;
        }
        shown += (i == 0 ? "" : "\n          ") + lines[i];
    }
    if (text.back() != '\n') {
        shown += "   (no newline at the end)";
    }
    return shown;
}

std::string signal_name(int sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

/// How a run ended, in words.
std::string how_it_ended(const Result& r) {
    if (r.running) {
        return "still running";
    }
    if (r.timed_out) {
        return fmt::format("did not end in time; the harness killed it (SIGKILL), status {}", r.status);
    }
    if (r.signal != 0) {
        return fmt::format("the runtime itself was killed by {} (status {})", signal_name(r.signal), r.status);
    }
    return fmt::format("exit status {}", r.status);
}

} // namespace

std::string shell_quote(const std::string& word) {
    if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                "@%+=:,./_-") == std::string::npos) {
        return word;
    }
    std::string quoted = "'";
    for (const char c : word) {
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return quoted + "'";
}

std::string describe_run(const Result& r) {
    return fmt::format("  ran:    {}\n  ended:  {}\n  stdout: {}\n  stderr: {}", r.command.empty() ? "?" : r.command,
                       how_it_ended(r), show_output(r.out), show_output(r.err));
}

std::ostream& operator<<(std::ostream& os, const Result& r) { return os << "\n" << describe_run(r); }

namespace {

/// PATH for the runtime: lab-probe first, then the usual directories.  The
/// container inherits it; inside the lab rootfs it finds /usr/bin/lab-probe.
std::string test_path() {
    return config().probe_dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/// The argv of a launch: the runtime under test with its leading words and
/// then the test's arguments, or the test's own command.  The one place it
/// is put together, so that the command line a failure shows is the one run.
std::vector<std::string> launch_words(const Launch& launch) {
    std::vector<std::string> words = launch.plain_command ? std::vector<std::string>{} : config().bin;
    const bool own_rootfs = std::find(launch.args.begin(), launch.args.end(), "--rootfs") != launch.args.end();
    if (!launch.plain_command && config().give_rootfs && !own_rootfs) {
        words.insert(words.end(), {"--rootfs", config().rootfs});
    }
    words.insert(words.end(), launch.args.begin(), launch.args.end());
    return words;
}

/// The inode of a network namespace, from its /proc/PID/ns/net link (0 if unreadable).
ino_t net_namespace_inode(const std::string& link) {
    struct stat st {};
    return ::stat(link.c_str(), &st) == 0 ? st.st_ino : 0;
}

/// Launches on the machine so far (started_on_the_machine()).
std::atomic<unsigned>& machine_launches() {
    static std::atomic<unsigned> count{0};
    return count;
}

/// `machine_net`: the inode of the machine's network namespace (the test
/// process's own), to make sure a launch into a throwaway host really left it.
[[noreturn]] void exec_runtime(const Launch& launch, int out_fd, int err_fd, ino_t machine_net) {
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::setenv("PATH", test_path().c_str(), 1);
    if (launch.namespaces_of > 0) {
        // setns(2) into a mount namespace moves us to its root directory; the
        // throwaway host's is a copy of ours, so come back to where we were
        // (a runtime run as `python3 my.py` finds my.py relative to it).
        char cwd[4096] = {};
        const bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
        // Network first: a mount namespace's sysfs belongs to a network namespace.
        for (const char* ns : {"net", "mnt"}) {
            const std::string path = "/proc/" + std::to_string(launch.namespaces_of) + "/ns/" + ns;
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ::setns(fd, 0) != 0) {
                std::fprintf(stderr, "harness: entering %s: %s\n", path.c_str(), std::strerror(errno));
                ::_exit(122);
            }
            ::close(fd);
        }
        // The throwaway host's holder is our child and never exits before the
        // host is dropped; should it have died and its pid gone to a process
        // of the machine, the runtime must not run on the machine's network.
        if (net_namespace_inode("/proc/self/ns/net") == machine_net) {
            std::fprintf(stderr, "harness: pid %d is in the machine's own network namespace, not a throwaway host's\n",
                         static_cast<int>(launch.namespaces_of));
            ::_exit(122);
        }
        if (have_cwd && ::chdir(cwd) != 0) {
            (void)::chdir("/");
        }
    }
    if (launch.as_user) {
        const auto [uid, gid] = *launch.as_user;
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
            std::perror("harness: dropping privileges");
            ::_exit(120);
        }
    }
    std::vector<std::string> words = launch_words(launch);
    std::vector<char*> argv;
    for (auto& w : words) {
        argv.push_back(w.data());
    }
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "harness: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(121);
}

bool read_some(int& fd, std::string& into) {
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
        into.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        fd = -1;
    }
    return false;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The command line of a launch as a learner can paste it into a shell: the
/// PATH that finds lab-probe when the command uses it, the user and the
/// namespaces it ran in when they are not ours.
std::string command_line(const Launch& launch) {
    std::string line;
    for (const auto& w : launch_words(launch)) {
        line += (line.empty() ? "" : " ") + shell_quote(w);
    }
    const bool uses_probe = std::any_of(launch.args.begin(), launch.args.end(),
                                        [](const auto& w) { return w.find("lab-probe") != std::string::npos; });
    if (uses_probe) {
        line = fmt::format("PATH={}:$PATH {}", shell_quote(config().probe_dir), line);
    }
    if (launch.as_user) {
        line = fmt::format("setpriv --reuid={} --regid={} --clear-groups {}", launch.as_user->first,
                           launch.as_user->second, line);
    }
    if (launch.namespaces_of > 0) {
        line = fmt::format("nsenter --target {} --net --mount {}   (in the test's throwaway host, pid {})",
                           launch.namespaces_of, line, launch.namespaces_of);
    }
    return line;
}

/// The pids of the Runtime objects alive now: their processes (and what
/// they start) still belong to a test.
std::set<pid_t>& live_runtimes() {
    static std::set<pid_t> pids;
    return pids;
}

/// What the harness did to a runtime during the current test (it had to
/// SIGKILL it), for the report on what it left behind.
std::vector<std::string>& harness_kills() {
    static std::vector<std::string> notes;
    return notes;
}

} // namespace

Runtime::Runtime(const Launch& launch) {
    if (config().bin.empty() && !launch.plain_command) {
        throw std::runtime_error("no runtime under test: pass --bin=PATH");
    }
    if (config().throwaway_host && launch.namespaces_of == 0 && !launch.plain_command) {
        Launch inside = launch;
        inside.namespaces_of = shared_throwaway_host();
        start(inside);
        return;
    }
    start(launch);
}

unsigned started_on_the_machine() { return machine_launches().load(); }

void note_started_on_the_machine() { ++machine_launches(); }

void Runtime::start(const Launch& launch) {
    command_ = command_line(launch);
    if (launch.namespaces_of == 0) {
        note_started_on_the_machine();
    }
    const ino_t machine_net = net_namespace_inode("/proc/self/ns/net");
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    pid_ = ::fork();
    if (pid_ == 0) {
        exec_runtime(launch, out_pipe[1], err_pipe[1], machine_net);
    }
    live_runtimes().insert(pid_);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
}

Runtime::~Runtime() {
    if (!status_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        harness_kills().push_back(fmt::format("the test ended before `{}` did, so the harness killed it (SIGKILL)",
                                              command_));
    }
    live_runtimes().erase(pid_);
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
}

void Runtime::pump(std::chrono::milliseconds budget) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(budget.count())) <= 0) {
        return;
    }
    if (fds[0].revents) read_some(out_fd_, out_);
    if (fds[1].revents) read_some(err_fd_, err_);
}

bool Runtime::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (out_.find(text) == std::string::npos) {
        if (out_fd_ < 0 || Clock::now() >= deadline) {
            return false;
        }
        pump(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    }
    return true;
}

void Runtime::signal(int sig) const {
    if (!status_) {
        ::kill(pid_, sig);
    }
}

Result Runtime::record() const {
    Result r;
    r.command = command_;
    r.out = out_;
    r.err = err_;
    r.running = !status_;
    r.status = status_.value_or(-1);
    return r;
}

Result Runtime::finish(std::chrono::milliseconds timeout) {
    Result r;
    r.command = command_;
    if (status_) {  // finished before: the same record again
        r.status = *status_;
        r.out = out_;
        r.err = err_;
        return r;
    }
    const auto deadline = Clock::now() + timeout;
    int st = 0;
    while (::waitpid(pid_, &st, WNOHANG) == 0) {
        if (Clock::now() >= deadline) {
            r.timed_out = true;
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &st, 0);
            harness_kills().push_back(fmt::format("`{}` did not end within {} s, so the harness killed it (SIGKILL)",
                                                  command_, timeout.count() / 1000));
            break;
        }
        pump(20ms);
    }
    status_ = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
    r.signal = WIFSIGNALED(st) && !r.timed_out ? WTERMSIG(st) : 0;
    // Collect what is left.  A process the container leaked could hold the
    // pipes open forever, so stop after a grace period.
    const auto drain_deadline = Clock::now() + 2s;
    while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < drain_deadline) {
        pump(50ms);
    }
    r.status = *status_;
    r.out = out_;
    r.err = err_;
    return r;
}

Result run(const Launch& launch, std::chrono::milliseconds timeout) {
    Runtime runtime{launch};
    return runtime.finish(timeout);
}

Result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    return run(Launch{args, {}}, timeout);
}

std::vector<std::string> values(const std::string& output, const std::string& key) {
    std::vector<std::string> found;
    std::istringstream lines(output);
    const std::string prefix = key + "=";
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(prefix)) {
            found.push_back(line.substr(prefix.size()));
        }
    }
    return found;
}

std::string value(const std::string& output, const std::string& key) {
    const auto all = values(output, key);
    return all.empty() ? std::string{} : all.front();
}

std::string unique(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

namespace {

/// pid → ppid for every process we can see.
std::map<pid_t, pid_t> process_tree() {
    std::map<pid_t, pid_t> parent_of;
    if (DIR* proc = ::opendir("/proc")) {
        while (const dirent* entry = ::readdir(proc)) {
            const pid_t pid = std::atoi(entry->d_name);
            if (pid <= 0) continue;
            const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
            const auto close_paren = stat.rfind(')');
            if (close_paren == std::string::npos) continue;
            std::istringstream rest(stat.substr(close_paren + 2));
            char state = 0;
            pid_t ppid = 0;
            rest >> state >> ppid;
            parent_of[pid] = ppid;
        }
        ::closedir(proc);
    }
    return parent_of;
}

} // namespace

std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> found;
    for (const auto& [pid, ppid] : process_tree()) {
        if (ppid == parent) {
            found.push_back(pid);
        }
    }
    return found;
}

std::vector<pid_t> descendants(pid_t ancestor) {
    auto parent_of = process_tree();
    std::vector<pid_t> found;
    for (const auto& [pid, ppid] : parent_of) {
        for (pid_t p = ppid; p > 1; p = parent_of.count(p) ? parent_of[p] : 0) {
            if (p == ancestor) {
                found.push_back(pid);
                break;
            }
        }
    }
    return found;
}

pid_t container_init(pid_t runtime) {
    for (const pid_t pid : descendants(runtime)) {
        std::istringstream nspids(proc_status(pid, "NSpid"));
        const std::vector<std::string> ids{std::istream_iterator<std::string>(nspids), {}};
        if (ids.size() >= 2 && ids.back() == "1") {
            return pid;
        }
    }
    return 0;
}

std::string proc_status(pid_t pid, const std::string& key) {
    std::istringstream lines(read_text("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(key + ":")) {
            auto v = line.substr(key.size() + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    }
    return {};
}

std::string namespace_of(pid_t pid, const std::string& name) {
    char buf[128] = {};
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string{};
}

namespace {

/// The state letter of /proc/PID/stat ('Z' for a zombie), or 0 if gone.
char process_state(pid_t pid) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = stat.rfind(')');
    return close_paren == std::string::npos || close_paren + 2 >= stat.size() ? 0 : stat[close_paren + 2];
}

/// Reaps the zombies among our direct children that no Runtime object
/// waits for: as a child subreaper we inherit the orphans of the runtimes
/// under test, and a dead orphan must not look alive to process_exists().
void reap_orphans() {
    for (const auto& [pid, ppid] : process_tree()) {
        if (ppid == ::getpid() && !live_runtimes().contains(pid) && process_state(pid) == 'Z') {
            siginfo_t info{};
            ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
        }
    }
}

} // namespace

bool process_exists(pid_t pid) {
    reap_orphans();
    if (::kill(pid, 0) != 0 && errno != EPERM) {
        return false;
    }
    return process_state(pid) != 'Z'; // a zombie has ended; only its parent has not looked yet
}

std::string host_mountinfo() {
    if (config().throwaway_host) {
        return read_text("/proc/" + std::to_string(shared_throwaway_host()) + "/mountinfo");
    }
    return read_text("/proc/self/mountinfo");
}

std::string host_hostname() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

std::string command_of(pid_t pid);

std::string still_alive(const std::vector<pid_t>& pids) {
    std::string alive;
    for (const pid_t pid : pids) {
        if (process_exists(pid)) {
            alive += fmt::format("{}pid {} ({})", alive.empty() ? "" : ", ", pid, command_of(pid));
        }
    }
    return alive;
}

std::optional<std::pair<uid_t, gid_t>> unprivileged_user() {
    if (::geteuid() == 0) {
        return std::pair<uid_t, gid_t>{65534, 65534};
    }
    return std::nullopt;
}

uid_t unprivileged_uid() { return ::geteuid() == 0 ? 65534 : ::geteuid(); }

// --- checks ------------------------------------------------------------------

namespace {

std::string quoted_text(std::string_view text) {
    std::string shown = "\"";
    for (const char c : text) {
        shown += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    return shown + "\"";
}

} // namespace

void fail(std::string_view expected, std::string_view actual, const Result* r, Where where) {
    std::string message = fmt::format("expected {}\n  but {}", expected, actual);
    if (r != nullptr) {
        message += "\n" + describe_run(*r);
    }
    // No gtest "Expected: … actual: …" text: the message is all the learner
    // reads; the report (main.cpp) adds the test's file and line.
    GTEST_MESSAGE_AT_(where.file_name(), static_cast<int>(where.line()), "",
                      ::testing::TestPartResult::kNonFatalFailure)
        << message;
}

bool expect_true(bool holds, std::string_view expected, std::string_view actual, const Result* r, Where where) {
    if (!holds) {
        fail(expected, actual, r, where);
    }
    return holds;
}

bool expect_exit(const Result& r, int status, std::string_view why, Where where) {
    const bool held = !r.running && !r.timed_out && r.status == status;
    return expect_true(held, fmt::format("exit status {}: {}", status, why), fmt::format("{}", how_it_ended(r)), &r,
                       where);
}

namespace {

bool expect_stream(const Result& r, const std::string& stream, std::string_view text, bool wanted,
                   std::string_view why, Where where) {
    const bool present = stream.find(text) != std::string::npos;
    const std::string_view name = &stream == &r.out ? "stdout" : "stderr";
    return expect_true(present == wanted,
                       fmt::format("{} to {} {}: {}", name, wanted ? "contain" : "not contain", quoted_text(text), why),
                       fmt::format("it {}", wanted ? "does not" : "does"), &r, where);
}

} // namespace

bool expect_stdout_contains(const Result& r, std::string_view text, std::string_view why, Where where) {
    return expect_stream(r, r.out, text, true, why, where);
}
bool expect_stderr_contains(const Result& r, std::string_view text, std::string_view why, Where where) {
    return expect_stream(r, r.err, text, true, why, where);
}
bool expect_stdout_lacks(const Result& r, std::string_view text, std::string_view why, Where where) {
    return expect_stream(r, r.out, text, false, why, where);
}
bool expect_stderr_lacks(const Result& r, std::string_view text, std::string_view why, Where where) {
    return expect_stream(r, r.err, text, false, why, where);
}

bool expect_value(const Result& r, const std::string& key, const std::string& expected, std::string_view why,
                  Where where) {
    const auto found = values(r.out, key);
    const bool held = expected.empty() ? found.empty() || found.front().empty() : !found.empty() && found.front() == expected;
    const std::string wanted = expected.empty() ? fmt::format("no {}=… line on stdout", key)
                                                : fmt::format("the line {}={} on stdout", key, expected);
    const std::string got = found.empty() ? fmt::format("there is no {}= line", key)
                                          : fmt::format("it says {}={}", key, found.front());
    return expect_true(held, fmt::format("{}: {}", wanted, why), got, &r, where);
}

bool expect_values(const Result& r, const std::string& key, const std::vector<std::string>& expected,
                   std::string_view why, Where where) {
    const auto found = values(r.out, key);
    const auto lines = [&](const std::vector<std::string>& vs) {
        if (vs.empty()) return fmt::format("no {}= line", key);
        std::string text;
        for (const auto& v : vs) text += fmt::format("{}{}={}", text.empty() ? "" : ", ", key, v);
        return text;
    };
    return expect_true(found == expected, fmt::format("exactly {} on stdout: {}", lines(expected), why),
                       fmt::format("it says {}", lines(found)), &r, where);
}

bool expect_output(Runtime& rt, const std::string& text, std::string_view why, std::chrono::milliseconds timeout,
                   Where where) {
    if (rt.wait_for_output(text, timeout)) {
        return true;
    }
    const Result r = rt.record();
    fail(fmt::format("the container to print {} within {} s: {}", quoted_text(text), timeout.count() / 1000.0, why),
         r.running ? "it has not (the runtime is still running)" : "the output ended without it", &r, where);
    return false;
}

bool expect_narrated(const Result& r, const std::string& pattern, std::string_view lesson, std::string_view shape,
                     Where where) {
    const std::regex wanted(pattern);
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);) {
        if (std::regex_search(line, wanted)) {
            return true;
        }
    }
    fail(fmt::format("--explain to narrate {} on stderr, a line like {}", lesson, shape),
         r.err.empty() ? "stderr is empty" : "no line of stderr does", &r, where);
    return false;
}

// --- descriptions ------------------------------------------------------------

namespace {

std::map<std::string, Description>& descriptions() {
    static std::map<std::string, Description> registry;
    return registry;
}

} // namespace

bool describe(const char* suite, const char* name, const char* description, bool needs_root) {
    descriptions()[std::string(suite) + "." + name] = Description{description, needs_root};
    return true;
}

const Description* described(const std::string& suite, const std::string& name) {
    const auto found = descriptions().find(suite + "." + name);
    return found == descriptions().end() ? nullptr : &found->second;
}

// --- leftovers ---------------------------------------------------------------

void become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        std::fprintf(stderr, "step-tests: prctl(PR_SET_CHILD_SUBREAPER): %s (leftover processes go to PID 1)\n",
                     std::strerror(errno));
    }
}

namespace {

std::string exe_of(pid_t pid) {
    char buf[4096] = {};
    const std::string path = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string{};
}

} // namespace

/// /proc/PID/cmdline as a shell-quoted line ("sleep 60"), or its name.
std::string command_of(pid_t pid) {
    const std::string raw = read_text("/proc/" + std::to_string(pid) + "/cmdline");
    std::string line;
    std::size_t start = 0;
    while (start < raw.size()) {
        const auto end = raw.find('\0', start);
        line += (line.empty() ? "" : " ") + shell_quote(raw.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    if (line.size() > 120) {
        line = line.substr(0, 117) + "…";
    }
    return line.empty() ? "[" + proc_status(pid, "Name") + "]" : line;
}

namespace {

/// Our descendants that belong to no test any more.  Kept: the runtimes
/// still owned by a Runtime object (and what they started), and the
/// harness's own helpers — forks of this program that never exec'd (the
/// throwaway hosts of netfixture.hpp), recognisable by their executable
/// being ours.
std::vector<pid_t> stray_descendants() {
    reap_orphans();
    const std::string self = exe_of(::getpid());
    std::set<pid_t> kept;
    for (const pid_t pid : live_runtimes()) {
        kept.insert(pid);
        for (const pid_t d : descendants(pid)) kept.insert(d);
    }
    std::vector<pid_t> stray;
    for (const pid_t pid : descendants(::getpid())) {
        if (kept.contains(pid) || process_state(pid) == 'Z' || process_state(pid) == 0) continue;
        if (!self.empty() && exe_of(pid) == self) continue;
        stray.push_back(pid);
    }
    return stray;
}

} // namespace

std::vector<Leftover> end_leftovers(std::chrono::milliseconds grace) {
    const auto deadline = Clock::now() + grace;
    std::vector<pid_t> stray = stray_descendants();
    while (!stray.empty() && Clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
        stray = stray_descendants();
    }
    std::vector<Leftover> left;
    for (const pid_t pid : stray) {
        left.push_back(Leftover{pid, command_of(pid)});
    }
    // Kill until none is left: a dying parent hands its children to us.
    for (int round = 0; round < 50 && !stray.empty(); ++round) {
        for (const pid_t pid : stray) {
            ::kill(pid, SIGKILL);
        }
        std::this_thread::sleep_for(20ms);
        stray = stray_descendants();
    }
    reap_orphans();
    return left;
}

StepTest::~StepTest() {
    const std::vector<Leftover> left = end_leftovers();
    std::vector<std::string> kills;
    kills.swap(harness_kills());
    if (!left.empty()) {
        std::string list;
        for (const auto& l : left) {
            list += fmt::format("\n    pid {}: {}", l.pid, l.command);
        }
        std::string context;
        for (const auto& k : kills) {
            context += "\n  (" + k + ")";
        }
        // No file and line: the test as a whole left them, not one of its lines.
        GTEST_MESSAGE_AT_(nullptr, -1, "", ::testing::TestPartResult::kNonFatalFailure)
            << fmt::format("expected nothing the runtime started to outlive it: a container's processes end with "
                           "the container and with the runtime (PID namespace, step 02; PR_SET_PDEATHSIG)\n"
                           "  but it left {} process{} running after the test (the harness has killed them now):{}{}",
                           left.size(), left.size() == 1 ? "" : "es", list, context);
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info != nullptr && described(info->test_suite_name(), info->name()) == nullptr) {
        ADD_FAILURE() << "this test has no description: register it with STEP_TEST(Suite, Name, \"what it checks "
                         "and why\") (tests/steps/harness.hpp)";
    }
}

void KernelTest::SetUp() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const Description* description = info ? described(info->test_suite_name(), info->name()) : nullptr;
    if (description != nullptr && !description->needs_root) {
        return;
    }
    NSRUN_REQUIRE_ROOT("creates namespaces");
}

} // namespace lab

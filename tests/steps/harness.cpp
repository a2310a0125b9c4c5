#include "harness.hpp"

#include "../needs_root.hpp"

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
#include <sched.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace lab {

Config& config() {
    static Config instance;
    return instance;
}

std::ostream& operator<<(std::ostream& os, const Result& r) {
    return os << "\n  exit status: " << r.status << (r.timed_out ? " (timed out, killed)" : "")
              << "\n  stdout: [" << r.out << "]\n  stderr: [" << r.err << "]";
}

namespace {

using Clock = std::chrono::steady_clock;

/// PATH for the runtime: lab-probe first, then the usual directories.  The
/// container inherits it; inside the lab rootfs it finds /usr/bin/lab-probe.
std::string test_path() {
    return config().probe_dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

[[noreturn]] void exec_runtime(const Launch& launch, int out_fd, int err_fd) {
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::setenv("PATH", test_path().c_str(), 1);
    if (launch.namespaces_of > 0) {
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
    }
    if (launch.as_user) {
        const auto [uid, gid] = *launch.as_user;
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
            std::perror("harness: dropping privileges");
            ::_exit(120);
        }
    }
    std::vector<std::string> words = launch.plain_command ? std::vector<std::string>{} : config().bin;
    words.insert(words.end(), launch.args.begin(), launch.args.end());
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

void Runtime::start(const Launch& launch) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    pid_ = ::fork();
    if (pid_ == 0) {
        exec_runtime(launch, out_pipe[1], err_pipe[1]);
    }
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
    }
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

Result Runtime::finish(std::chrono::milliseconds timeout) {
    Result r;
    const auto deadline = Clock::now() + timeout;
    int st = 0;
    while (::waitpid(pid_, &st, WNOHANG) == 0) {
        if (Clock::now() >= deadline) {
            r.timed_out = true;
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &st, 0);
            break;
        }
        pump(20ms);
    }
    status_ = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
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

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

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

void KernelTest::SetUp() { NSRUN_REQUIRE_ROOT("creates namespaces"); }

} // namespace lab

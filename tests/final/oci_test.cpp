// The OCI runtime interface, driven the way podman's conmon and containerd's
// runc shim drive it: global --root/--log/--log-format before the command,
// `create` with pipes as the container's stdio and a pid file, `start`,
// `state`, `kill`, `delete`, a console socket, `exec --process --detach`,
// pause/resume and update.  The test process is a child subreaper (main.cpp),
// as those callers are: the container's init must become *its* child when
// `create` exits, so the test waits for it with waitpid and reads its exit
// status.  Nothing here runs in a throwaway host: the callers make the
// network namespace, and these bundles ask for a new, empty one.
#include "fixture.hpp"
#include "../fd_passing.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <fstream>
#include <functional>
#include <poll.h>
#include <sstream>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace lab {
namespace {

/// A pipe whose ends close with it.
struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) == 0) {
            read = fds[0];
            write = fds[1];
        }
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (read >= 0) ::close(read);
        read = -1;
    }
    void close_write() {
        if (write >= 0) ::close(write);
        write = -1;
    }
};

/// Everything `fd` gives until end-of-file or `timeout`.
std::string read_until_eof(int fd, std::chrono::milliseconds timeout = 10s) {
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return text;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return text;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
}

/// Read `fd` until `text` shows up (true) or `timeout` passes.
bool read_until(int fd, const std::string& text, std::string& seen, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen.find(text) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            return false;
        }
        seen.append(buf, static_cast<std::size_t>(n));
    }
    return true;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The parent pid of `pid` (field 4 of /proc/PID/stat), or -1.
pid_t parent_of(pid_t pid) {
    const std::string stat = slurp(fmt::format("/proc/{}/stat", pid));
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = -1;
    rest >> state >> ppid;
    return ppid;
}

/// waitpid with a deadline: the raw status, or nullopt if `pid` did not end.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 || std::chrono::steady_clock::now() > deadline) return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
}

/// One run of nsrun, as the callers make it.
struct Ran {
    int status = -1;
    std::string out;
    std::string err;
    std::string command;
};
std::ostream& operator<<(std::ostream& os, const Ran& r) {
    return os << "\n$ " << r.command << "\nexit " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err;
}

class Oci : public KernelTest {
protected:
    void SetUp() override {
        KernelTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        root_ = tmp_.path() + "/state";
        bundle_ = tmp_.path() + "/bundle";
        fs::create_directories(bundle_);
    }

    void TearDown() override {
        for (const auto& id : made_) {
            (void)nsrun({"delete", "--force", id});
        }
        for (const pid_t pid : adopted_) {
            (void)wait_for_exit(pid, 5s); // reap what we adopted
        }
    }

    /// A config.json shaped like `runc spec`'s, running `args`.
    void write_bundle(const std::vector<std::string>& args, bool terminal = false) {
        nlohmann::json config = {
            {"ociVersion", "1.0.2"},
            {"process",
             {{"terminal", terminal},
              {"user", {{"uid", 0}, {"gid", 0}}},
              {"args", args},
              {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
              {"cwd", "/"},
              {"noNewPrivileges", true}}},
            {"root", {{"path", NSRUN_LAB_ROOTFS}, {"readonly", true}}},
            {"hostname", "oci"},
            {"mounts",
             {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
              {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
               {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
              {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
               {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
              {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
               {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
            {"linux",
             {{"namespaces",
               {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}}}}},
        };
        std::ofstream(bundle_ + "/config.json") << config.dump(2);
    }

    /// nsrun --root ROOT ARGS… with the given stdio (-1: a pipe read here).
    /// Returns once nsrun exits; whatever it leaves behind holds the fds given.
    /// `in_child` runs in the forked child just before it execs nsrun.
    Ran nsrun(const std::vector<std::string>& args, int in = -1, int out = -1, int err = -1,
              const std::vector<std::string>& globals = {}, const std::function<void()>& in_child = {}) {
        std::vector<std::string> argv{config().bin.front(), "--root", root_};
        argv.insert(argv.end(), globals.begin(), globals.end());
        argv.insert(argv.end(), args.begin(), args.end());
        Ran ran;
        for (const auto& a : argv) ran.command += shell_quote(a) + " ";
        Pipe out_pipe, err_pipe;
        note_started_on_the_machine(); // not in a throwaway host: the network guard checks the machine's
        const pid_t pid = ::fork();
        if (pid == 0) {
            const int null = ::open("/dev/null", O_RDONLY);
            ::dup2(in >= 0 ? in : null, 0);
            ::dup2(out >= 0 ? out : out_pipe.write, 1);
            ::dup2(err >= 0 ? err : err_pipe.write, 2);
            if (in_child) in_child();
            std::vector<char*> c;
            for (auto& a : argv) c.push_back(a.data());
            c.push_back(nullptr);
            ::execv(c[0], c.data());
            ::_exit(127);
        }
        out_pipe.close_write();
        err_pipe.close_write();
        std::thread reader([&] { ran.err = read_until_eof(err_pipe.read, 30s); });
        ran.out = read_until_eof(out_pipe.read, 30s);
        reader.join();
        const auto status = wait_for_exit(pid, 30s);
        if (!status) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            ran.err += "\n(killed: did not end in 30 s)";
            return ran;
        }
        ran.status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
        return ran;
    }

    /// `create --bundle B --pid-file P ID` with `out` as the container's
    /// stdout and stderr; the init's pid from the pid file (0 on failure).
    pid_t create(const std::string& id, int out, const std::vector<std::string>& extra = {},
                 const std::function<void()>& in_child = {}) {
        made_.push_back(id);
        const std::string pid_file = tmp_.path() + "/" + id + ".pid";
        std::vector<std::string> args{"create", "--bundle", bundle_, "--pid-file", pid_file};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(id);
        const Ran ran = nsrun(args, -1, out, out, {}, in_child);
        EXPECT_EQ(ran.status, 0) << ran;
        if (ran.status != 0) return 0;
        EXPECT_TRUE(fs::exists(pid_file)) << "the pid file must exist when create returns" << ran;
        const pid_t pid = static_cast<pid_t>(std::atoi(slurp(pid_file).c_str()));
        if (pid > 0) adopted_.push_back(pid);
        return pid;
    }

    /// What a container printed on its stdout and stderr and its wait status
    /// (nullopt: it did not start or did not end).
    struct Finished {
        std::string output;
        std::optional<int> status;
    };
    /// create ID with a pipe as its stdio, start it, read it to the end.
    Finished create_start_and_collect(const std::string& id, const std::function<void()>& in_child = {}) {
        Pipe out;
        const pid_t pid = create(id, out.write, {}, in_child);
        if (pid <= 0) return {};
        out.close_write();
        const Ran started = nsrun({"start", id});
        EXPECT_EQ(started.status, 0) << started;
        Finished finished;
        finished.output = read_until_eof(out.read);
        finished.status = wait_for_exit(pid);
        return finished;
    }

    nlohmann::json state(const std::string& id) {
        const Ran ran = nsrun({"state", id});
        EXPECT_EQ(ran.status, 0) << ran;
        try {
            return nlohmann::json::parse(ran.out);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "state is not JSON: " << e.what() << ran;
            return {};
        }
    }

    /// The container's cgroup directories on the host (by its id under nsrun/).
    static std::vector<std::string> cgroup_dirs(const std::string& id) {
        std::vector<std::string> found;
        std::error_code ec;
        for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec)) {
            for (const std::string& dir : std::vector<std::string>{hierarchy.path().string() + "/nsrun/" + id, "/sys/fs/cgroup/nsrun/" + id}) {
                if (fs::is_directory(dir, ec) && std::find(found.begin(), found.end(), dir) == found.end()) {
                    found.push_back(dir);
                }
            }
        }
        return found;
    }

    TempDir tmp_;
    std::string root_;
    std::string bundle_;
    std::vector<std::string> made_;
    std::vector<pid_t> adopted_;
};

STEP_TEST(Oci, CreateWaitsStartRunsAndTheCallerReapsTheInit,
          "create returns with the init blocked and its pid file written, the init is the subreaper's child, start "
          "runs it with the pipes create had, the caller reads its exit status; state follows created, stopped") {
    write_bundle({"sh", "-c", "echo hello-from-oci; echo to-stderr >&2; exit 7"});
    Pipe out;
    const pid_t pid = create("life", out.write);
    ASSERT_GT(pid, 0);
    out.close_write();
    EXPECT_EQ(parent_of(pid), ::getpid()) << "create exited: the init must be adopted by the subreaper (us)";
    nlohmann::json s = state("life");
    EXPECT_EQ(s.value("status", ""), "created") << s.dump();
    EXPECT_EQ(s.value("pid", 0), pid) << s.dump();
    EXPECT_EQ(s.value("id", ""), "life");
    EXPECT_EQ(s.value("bundle", ""), bundle_);
    EXPECT_TRUE(s.contains("ociVersion") && s.contains("annotations")) << s.dump();
    pollfd p{out.read, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 300), 0) << "the init must not run process.args before start";

    const Ran started = nsrun({"start", "life"});
    ASSERT_EQ(started.status, 0) << started;
    const std::string output = read_until_eof(out.read);
    EXPECT_NE(output.find("hello-from-oci"), std::string::npos) << output;
    EXPECT_NE(output.find("to-stderr"), std::string::npos) << output;
    const auto status = wait_for_exit(pid);
    ASSERT_TRUE(status.has_value()) << "the init did not end";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 7) << "raw wait status " << *status;
    s = state("life");
    EXPECT_EQ(s.value("status", ""), "stopped") << s.dump();
    EXPECT_FALSE(s.contains("pid")) << s.dump();

    const Ran again = nsrun({"start", "life"});
    EXPECT_NE(again.status, 0) << "start twice must fail" << again;
    EXPECT_NE(again.err.find("not created"), std::string::npos) << again;

    const Ran deleted = nsrun({"delete", "life"});
    EXPECT_EQ(deleted.status, 0) << deleted;
    EXPECT_TRUE(cgroup_dirs("life").empty());
    EXPECT_NE(nsrun({"state", "life"}).status, 0) << "a deleted container has no state";
}

STEP_TEST(Oci, KillThenDeleteRemovesTheCgroupEvenAfterSigkill,
          "kill ID KILL ends a started init; delete after that removes every cgroup directory the container had; "
          "delete refuses a running container without --force") {
    write_bundle({"sleep", "1000"});
    Pipe out;
    const pid_t pid = create("killme", out.write);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(nsrun({"start", "killme"}).status, 0);
    EXPECT_EQ(state("killme").value("status", ""), "running");
    EXPECT_FALSE(cgroup_dirs("killme").empty()) << "the container should have a cgroup under nsrun/killme";
    const Ran refused = nsrun({"delete", "killme"});
    EXPECT_NE(refused.status, 0) << "delete of a running container needs --force" << refused;
    const Ran killed = nsrun({"kill", "killme", "KILL"});
    EXPECT_EQ(killed.status, 0) << killed;
    const auto status = wait_for_exit(pid);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;
    EXPECT_EQ(state("killme").value("status", ""), "stopped");
    const Ran deleted = nsrun({"delete", "killme"});
    EXPECT_EQ(deleted.status, 0) << deleted;
    EXPECT_TRUE(cgroup_dirs("killme").empty()) << "left: " << cgroup_dirs("killme").size();
}

STEP_TEST(Oci, TheWaitingInitIsASealedCopyNotTheHostsBinary,
          "between create and start the process waiting inside the container is nsrun's sealed exec stub, an "
          "in-memory copy (CVE-2019-5736), so nothing that reaches /proc/PID/exe can write the host's binary") {
    write_bundle({"true"});
    Pipe out;
    const pid_t pid = create("sealed", out.write);
    ASSERT_GT(pid, 0);
    std::error_code ec;
    const std::string exe = fs::read_symlink(fmt::format("/proc/{}/exe", pid), ec).string();
    EXPECT_TRUE(exe.starts_with("/memfd:nsrun-exec")) << "the created init runs " << exe;
    const int fd = ::open(fmt::format("/proc/{}/exe", pid).c_str(), O_WRONLY | O_CLOEXEC);
    const int err = errno;
    if (fd >= 0) ::close(fd);
    EXPECT_LT(fd, 0) << "opening the init's executable for writing must fail";
    EXPECT_TRUE(err == EPERM || err == ETXTBSY) << "the sealed copy refuses writes: " << std::strerror(err);
    EXPECT_EQ(nsrun({"delete", "sealed"}).status, 0);
}

STEP_TEST(Oci, RuncSpecsAmbientCapabilitiesWithoutInheritableAreSkippedAsRuncDoes,
          "`runc spec` lists ambient capabilities but no inheritable set, so the kernel cannot raise them: the "
          "container still starts (runc goes on without them), with the permitted set the config gives and an "
          "empty ambient set") {
    write_bundle({"sh", "-c", "grep -E '^Cap(Prm|Amb)' /proc/self/status"});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    const std::vector<std::string> runc_default = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    config["process"]["capabilities"] = {{"bounding", runc_default},
                                         {"effective", runc_default},
                                         {"permitted", runc_default},
                                         {"ambient", runc_default}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    const auto [output, status] = create_start_and_collect("ambient");
    ASSERT_TRUE(status.has_value()) << output;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << output;
    // AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10): 0x20000420.
    EXPECT_NE(output.find("CapPrm:\t0000000020000420"), std::string::npos) << output;
    EXPECT_NE(output.find("CapAmb:\t0000000000000000"), std::string::npos) << output;
    EXPECT_EQ(nsrun({"delete", "ambient"}).status, 0);
}

STEP_TEST(Oci, DeleteOfACreatedContainerKillsItsInit,
          "a created (never started) container is deleted without --force, as runc does: its init dies, its "
          "cgroup goes; kill with a signal number and with SIG-prefixed names is understood") {
    write_bundle({"sleep", "1000"});
    Pipe out;
    const pid_t pid = create("never", out.write);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(nsrun({"kill", "never", "SIGCONT"}).status, 0);
    EXPECT_EQ(nsrun({"kill", "never", "18"}).status, 0);
    EXPECT_NE(nsrun({"kill", "never", "NOSUCHSIG"}).status, 0);
    const Ran deleted = nsrun({"delete", "never"});
    EXPECT_EQ(deleted.status, 0) << deleted;
    const auto status = wait_for_exit(pid);
    EXPECT_TRUE(status.has_value()) << "the created init must be killed by delete";
    EXPECT_TRUE(cgroup_dirs("never").empty());
}

STEP_TEST(Oci, DeleteForceOfAnUnknownIdSucceedsOthersFail,
          "delete --force of a container that does not exist exits 0 (containerd's shim relies on it); delete, "
          "start, state, kill ID SIGNAL, pause, resume of it fail saying it does not exist, on stderr and last in the json log") {
    EXPECT_EQ(nsrun({"delete", "--force", "ghost"}).status, 0);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"delete", "ghost"}, {"start", "ghost"}, {"state", "ghost"}, {"kill", "ghost", "KILL"}}) {
        const std::string log = tmp_.path() + "/ghost.log";
        const Ran ran = nsrun(args, -1, -1, -1, {"--log", log, "--log-format", "json"});
        EXPECT_NE(ran.status, 0) << ran;
        EXPECT_NE(ran.err.find("container ghost does not exist"), std::string::npos) << ran;
        std::ifstream in(log);
        std::string line, last;
        while (std::getline(in, line)) last = line;
        EXPECT_NE(last.find("container ghost does not exist"), std::string::npos) << "log: " << last << ran;
        std::remove(log.c_str());
    }
    for (const auto& args : std::vector<std::vector<std::string>>{{"pause", "ghost"}, {"resume", "ghost"}}) {
        const Ran ran = nsrun(args);
        EXPECT_NE(ran.err.find("container ghost does not exist"), std::string::npos) << ran;
    }
}

STEP_TEST(Oci, JsonLogsLastLineIsTheError,
          "with --log FILE --log-format json a failing create leaves a JSON line {level: error, msg, time} last in "
          "the file, naming what failed; --systemd-cgroup is refused the same way") {
    std::ofstream(bundle_ + "/config.json") << "{ this is not json";
    const std::string log = tmp_.path() + "/log.json";
    std::ofstream(log) << R"({"level":"info","msg":"an earlier line","time":"2026-01-01T00:00:00Z"})" << "\n";
    const Ran ran = nsrun({"create", "--bundle", bundle_, "bad"}, -1, -1, -1, {"--log", log, "--log-format", "json"});
    EXPECT_NE(ran.status, 0) << ran;
    const auto last_line = [&] {
        std::ifstream in(log);
        std::string line, last;
        while (std::getline(in, line)) {
            if (!line.empty()) last = line;
        }
        return last;
    };
    nlohmann::json entry = nlohmann::json::parse(last_line(), nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << "not JSON: " << last_line();
    EXPECT_EQ(entry.value("level", ""), "error") << entry.dump();
    EXPECT_NE(entry.value("msg", "").find("config.json"), std::string::npos) << entry.dump();
    EXPECT_EQ(entry.value("time", "").size(), 20U) << "RFC 3339 UTC: " << entry.dump();
    EXPECT_NE(ran.err.find("config.json"), std::string::npos) << "errors still go to stderr" << ran;

    const Ran systemd = nsrun({"state", "bad"}, -1, -1, -1, {"--log", log, "--log-format", "json", "--systemd-cgroup"});
    EXPECT_NE(systemd.status, 0) << systemd;
    entry = nlohmann::json::parse(last_line(), nullptr, false);
    EXPECT_NE(entry.value("msg", "").find("systemd"), std::string::npos) << entry.dump();
}

/// A unix socket listening at `path`, as conmon's console socket.
int listen_unix(const std::string& path) {
    const int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(sock, 1) != 0) {
        ::close(sock);
        return -1;
    }
    return sock;
}

STEP_TEST(Oci, ConsoleSocketReceivesAWorkingPty,
          "with process.terminal, create sends the pty master over --console-socket; after start the container's "
          "output (tty names its /dev/pts) comes through it and input typed into it reaches the container") {
    write_bundle({"sh", "-c", "tty; read line; echo got-$line"}, true);
    const std::string sock_path = tmp_.path() + "/console.sock";
    const int sock = listen_unix(sock_path);
    ASSERT_GE(sock, 0) << std::strerror(errno);
    const pid_t pid = create("tty", -1, {"--console-socket", sock_path});
    ASSERT_GT(pid, 0);
    pollfd p{sock, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "create never connected to the console socket";
    const int conn = ::accept4(sock, nullptr, nullptr, SOCK_CLOEXEC);
    const int master = lab::receive_fd(conn);
    ::close(conn);
    ::close(sock);
    ASSERT_GE(master, 0) << "no descriptor came over the console socket";
    ASSERT_EQ(nsrun({"start", "tty"}).status, 0);
    std::string seen;
    EXPECT_TRUE(read_until(master, "/dev/pts/", seen)) << seen;
    EXPECT_EQ(::write(master, "ping\n", 5), 5);
    EXPECT_TRUE(read_until(master, "got-ping", seen)) << seen;
    ::close(master);
    EXPECT_TRUE(wait_for_exit(pid).has_value());
}

STEP_TEST(Oci, PreserveFdsPassesTheCallersDescriptors,
          "--preserve-fds 1 passes the caller's fd 3 to process.args: what it writes there arrives") {
    write_bundle({"sh", "-c", "echo via-fd3 >&3"});
    Pipe extra;
    Pipe out;
    // fd 3 of nsrun must be `extra.write`: give it through a child that dup2s it.
    made_.push_back("fds");
    const std::string pid_file = tmp_.path() + "/fds.pid";
    note_started_on_the_machine();
    const pid_t runner = ::fork();
    if (runner == 0) {
        ::dup2(extra.write, 3); // not close-on-exec: dup2 clears it
        ::dup2(out.write, 1);
        ::dup2(out.write, 2);
        std::vector<std::string> argv{config().bin.front(), "--root",   root_, "create", "--bundle", bundle_,
                                      "--pid-file",         pid_file,   "--preserve-fds", "1", "fds"};
        std::vector<char*> c;
        for (auto& a : argv) c.push_back(a.data());
        c.push_back(nullptr);
        ::execv(c[0], c.data());
        ::_exit(127);
    }
    const auto created = wait_for_exit(runner, 30s);
    ASSERT_TRUE(created && WIFEXITED(*created) && WEXITSTATUS(*created) == 0) << "create failed";
    const pid_t pid = static_cast<pid_t>(std::atoi(slurp(pid_file).c_str()));
    ASSERT_GT(pid, 0);
    adopted_.push_back(pid);
    extra.close_write();
    out.close_write();
    ASSERT_EQ(nsrun({"start", "fds"}).status, 0);
    const std::string got = read_until_eof(extra.read);
    EXPECT_NE(got.find("via-fd3"), std::string::npos) << "fd 3 got: '" << got << "', stdio: " << read_until_eof(out.read, 1s);
    EXPECT_TRUE(wait_for_exit(pid).has_value());
}

STEP_TEST(Oci, ExecProcessDetachedIsTheCallersAndInTheCgroup,
          "exec --process FILE --detach --pid-file F (the containerd shim's call) returns once it runs; the process "
          "is the caller's child, in the container's cgroup (ps --format json ID lists it); kill --all ends both") {
    write_bundle({"sleep", "1000"});
    Pipe out;
    const pid_t pid = create("withexec", out.write);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(nsrun({"start", "withexec"}).status, 0);
    const std::string process = tmp_.path() + "/process.json";
    std::ofstream(process) << R"({"args": ["sleep", "999"], "cwd": "/", "env": ["PATH=/bin:/usr/bin"], "terminal": false})";
    const std::string exec_pid_file = tmp_.path() + "/exec.pid";
    const Ran ran = nsrun({"exec", "--process", process, "--detach", "--pid-file", exec_pid_file, "withexec"}, -1,
                          out.write, out.write);
    ASSERT_EQ(ran.status, 0) << ran;
    const pid_t exec_pid = static_cast<pid_t>(std::atoi(slurp(exec_pid_file).c_str()));
    ASSERT_GT(exec_pid, 0);
    adopted_.push_back(exec_pid);
    EXPECT_EQ(parent_of(exec_pid), ::getpid());
    EXPECT_NE(slurp(fmt::format("/proc/{}/cmdline", exec_pid)).find("999"), std::string::npos);
    const Ran ps = nsrun({"ps", "--format", "json", "withexec"});
    ASSERT_EQ(ps.status, 0) << ps;
    const auto pids = nlohmann::json::parse(ps.out, nullptr, false);
    ASSERT_TRUE(pids.is_array()) << ps;
    EXPECT_NE(std::find(pids.begin(), pids.end(), exec_pid), pids.end()) << ps.out;
    EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end()) << ps.out;
    EXPECT_EQ(nsrun({"kill", "--all", "withexec", "9"}).status, 0);
    EXPECT_TRUE(wait_for_exit(exec_pid).has_value()) << "kill --all must reach the exec'd process";
    EXPECT_TRUE(wait_for_exit(pid).has_value());
}

/// Whether `dirs` hold a memory limit file and a pids.max, each of them
/// holding `memory` and `pids` (every one found is checked).
bool limits_are(const std::vector<std::string>& dirs, const std::string& memory, const std::string& pids) {
    bool memory_seen = false, pids_seen = false;
    for (const auto& dir : dirs) {
        for (const char* file : {"/memory.max", "/memory.limit_in_bytes"}) {
            if (fs::exists(dir + file)) {
                EXPECT_EQ(first_line(slurp(dir + file)), memory) << dir << file;
                memory_seen = true;
            }
        }
        if (fs::exists(dir + "/pids.max")) {
            EXPECT_EQ(first_line(slurp(dir + "/pids.max")), pids) << dir;
            pids_seen = true;
        }
    }
    return memory_seen && pids_seen;
}

/// The freezer's word for the container's cgroup: "FROZEN"/"THAWED" (v1) or
/// "1"/"0" (v2).  v1's first: on a hybrid machine the container also has a
/// cgroup in the unified hierarchy, and pause uses v1's freezer there, as runc.
std::string freezer_state(const std::vector<std::string>& dirs) {
    for (const char* file : {"/freezer.state", "/cgroup.freeze"}) {
        for (const auto& dir : dirs) {
            if (fs::exists(dir + file)) return first_line(slurp(dir + file));
        }
    }
    return "";
}

STEP_TEST(Oci, PauseFreezesResumeThaws,
          "pause freezes the container's cgroup (freezer.state FROZEN or cgroup.freeze 1) and state says paused; "
          "resume thaws it and the container goes on; update rewrites the memory and pids limits of the live cgroup") {
    write_bundle({"sh", "-c", "while true; do echo tick; sleep 0.05; done"});
    Pipe out;
    const pid_t pid = create("freeze", out.write);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(nsrun({"start", "freeze"}).status, 0);
    std::string seen;
    ASSERT_TRUE(read_until(out.read, "tick", seen));
    const Ran paused = nsrun({"pause", "freeze"});
    ASSERT_EQ(paused.status, 0) << paused;
    EXPECT_EQ(state("freeze").value("status", ""), "paused");
    const std::string frozen = freezer_state(cgroup_dirs("freeze"));
    EXPECT_TRUE(frozen == "FROZEN" || frozen == "1") << "freezer says '" << frozen << "'";
    (void)read_until_eof(out.read, 200ms); // drain what came before the freeze
    std::string during;
    EXPECT_FALSE(read_until(out.read, "tick", during, 500ms)) << "a frozen container printed: " << during;
    EXPECT_NE(nsrun({"pause", "freeze"}).status, 0) << "pausing a paused container is an error";
    ASSERT_EQ(nsrun({"resume", "freeze"}).status, 0);
    EXPECT_EQ(state("freeze").value("status", ""), "running");
    std::string after;
    EXPECT_TRUE(read_until(out.read, "tick", after)) << "the container did not go on after resume";

    EXPECT_EQ(nsrun({"update", "--memory", "67108864", "freeze"}).status, 0);
    const std::string resources = tmp_.path() + "/resources.json";
    std::ofstream(resources) << R"({"memory": {"limit": 33554432}, "pids": {"limit": 42}})";
    const Ran updated = nsrun({"update", "--resources", resources, "freeze"});
    EXPECT_EQ(updated.status, 0) << updated;
    EXPECT_TRUE(limits_are(cgroup_dirs("freeze"), "33554432", "42"))
        << "no memory or pids controller file in the container's cgroups";
    EXPECT_EQ(nsrun({"delete", "--force", "freeze"}).status, 0);
    EXPECT_TRUE(wait_for_exit(pid).has_value());
    EXPECT_TRUE(cgroup_dirs("freeze").empty());
}

STEP_TEST(Oci, HooksRunWithTheStateOnStdinAndAnnotationsAreInTheState,
          "createRuntime runs during create with the state (status creating, the init's pid) on its stdin, "
          "poststart after start, poststop after delete; config.json's annotations are in state") {
    write_bundle({"sleep", "1000"});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    const auto hook = [&](const std::string& name) {
        return nlohmann::json{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + tmp_.path() + "/" + name + ".json"}}};
    };
    config["hooks"] = {{"createRuntime", {hook("createRuntime")}},
                       {"poststart", {hook("poststart")}},
                       {"poststop", {hook("poststop")}}};
    config["annotations"] = {{"org.example.color", "blue"}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    Pipe out;
    const pid_t pid = create("hooked", out.write);
    ASSERT_GT(pid, 0);
    const auto read_state = [&](const std::string& name) {
        return nlohmann::json::parse(slurp(tmp_.path() + "/" + name + ".json"), nullptr, false);
    };
    const auto created = read_state("createRuntime");
    EXPECT_EQ(created.value("status", ""), "creating") << created.dump();
    EXPECT_EQ(created.value("pid", 0), pid) << created.dump();
    EXPECT_EQ(created.value("id", ""), "hooked");
    EXPECT_FALSE(fs::exists(tmp_.path() + "/poststart.json")) << "poststart runs only after start";
    EXPECT_EQ(state("hooked")["annotations"].value("org.example.color", ""), "blue");
    ASSERT_EQ(nsrun({"start", "hooked"}).status, 0);
    EXPECT_EQ(read_state("poststart").value("status", ""), "running");
    EXPECT_EQ(nsrun({"delete", "--force", "hooked"}).status, 0);
    EXPECT_EQ(read_state("poststop").value("status", ""), "stopped");
    EXPECT_TRUE(wait_for_exit(pid).has_value());
}

STEP_TEST(Oci, LinuxDevicesAreMadeAndAllowedByTheDeviceCgroup,
          "a node config.json lists in linux.devices (/dev/fuse, char 10:229, fileMode 0640) is made in the "
          "container's /dev with that mode and may be opened (allowed rwm by the device cgroup, as runc does); "
          "/dev/loop-control's numbers, made inside with mknod, are still refused (EPERM)") {
    ASSERT_TRUE(fs::exists("/dev/fuse")) << "this test needs the host's /dev/fuse (modprobe fuse)";
    write_bundle({"sh", "-c",
                  "stat -c 'node=%F %t:%T %a' /dev/fuse; lab-probe open /dev/fuse; mknod /dev/lc c 10 237 && "
                  "lab-probe open /dev/lc r"});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    config["linux"]["devices"] = {
        {{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0640}, {"uid", 0}, {"gid", 0}}};
    // As every caller's config: deny all devices first (runc spec, podman, ctr).
    config["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}}};
    // CAP_MKNOD (docker's default, not runc spec's): the node is made, and
    // it is the device cgroup that refuses opening it.
    for (const char* set : {"bounding", "effective", "permitted"}) {
        config["process"]["capabilities"][set].push_back("CAP_MKNOD");
    }
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    const auto [output, status] = create_start_and_collect("devices");
    EXPECT_TRUE(status.has_value()) << output;
    EXPECT_EQ(value(output, "node"), "character special file a:e5 640") << output;
    EXPECT_EQ(values(output, "ok"), (std::vector<std::string>{"1", "0"})) << "the listed node opens, the other not"
                                                                         << output;
    EXPECT_EQ(value(output, "errno"), "EPERM") << output;
    EXPECT_EQ(nsrun({"delete", "--force", "devices"}).status, 0);
}

/// A hook running `script` with /bin/sh (as the namespace it runs in finds it).
nlohmann::json sh_hook(const std::string& script, std::optional<int> timeout = std::nullopt) {
    nlohmann::json hook{{"path", "/bin/sh"},
                        {"args", {"sh", "-c", script}},
                        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}};
    if (timeout) hook["timeout"] = *timeout;
    return hook;
}

/// readlink(2) of `path`, or "".
std::string link_of(const std::string& path) {
    std::error_code ec;
    return fs::read_symlink(path, ec).string();
}

STEP_TEST(Oci, CreateContainerRunsBeforePivotRootStartContainerInsideBeforeTheProgram,
          "createContainer runs during create in the container's mount and UTS namespaces with the host's paths "
          "(before pivot_root): a tmpfs it mounts on the rootfs's /mnt is the container's, not the host's; "
          "startContainer runs after start, inside (it sees that tmpfs), before process.args; both get the state") {
    write_bundle({"sh", "-c", "echo program-ran"});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    const std::string t = tmp_.path();
    const std::string mnt = std::string(NSRUN_LAB_ROOTFS) + "/mnt";
    config["hooks"] = {
        {"createContainer",
         {sh_hook("set -e; cat > " + t + "/cc.json; readlink /proc/self/ns/mnt > " + t + "/cc.mnt; hostname > " + t +
                  "/cc.hostname; mount -t tmpfs -o size=64k hook " + mnt + "; echo made-by-createContainer > " + mnt +
                  "/from-hook")}},
        {"startContainer",
         {sh_hook("echo \"start-state: $(cat)\"; echo \"start-saw: $(cat /mnt/from-hook)\"; "
                  "echo \"start-mnt: $(readlink /proc/self/ns/mnt)\"; echo \"start-host: $(hostname)\"")}}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    Pipe out;
    const pid_t pid = create("inside", out.write);
    ASSERT_GT(pid, 0);
    out.close_write();

    const nlohmann::json created = nlohmann::json::parse(slurp(t + "/cc.json"), nullptr, false);
    EXPECT_EQ(created.value("status", ""), "creating") << created.dump();
    EXPECT_EQ(created.value("pid", 0), pid) << "the pid as the host sees it: " << created.dump();
    EXPECT_EQ(created.value("id", ""), "inside") << created.dump();
    EXPECT_EQ(created.value("bundle", ""), bundle_) << created.dump();
    const std::string init_mnt = link_of(fmt::format("/proc/{}/ns/mnt", pid));
    EXPECT_EQ(first_line(slurp(t + "/cc.mnt")), init_mnt) << "createContainer must run in the container's mount namespace";
    EXPECT_NE(init_mnt, link_of("/proc/self/ns/mnt"));
    EXPECT_EQ(first_line(slurp(t + "/cc.hostname")), "oci") << "createContainer must run in the container's UTS namespace";
    EXPECT_FALSE(fs::exists(mnt + "/from-hook")) << "the hook's mount must stay in the container's mount namespace";
    pollfd p{out.read, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 300), 0) << "startContainer must not run before start";

    const Ran started = nsrun({"start", "inside"});
    ASSERT_EQ(started.status, 0) << started;
    const std::string output = read_until_eof(out.read);
    const auto line_of = [&](const std::string& key) {
        const auto at = output.find(key + ": ");
        return at == std::string::npos ? std::string{} : first_line(output.substr(at + key.size() + 2));
    };
    const nlohmann::json started_state = nlohmann::json::parse(line_of("start-state"), nullptr, false);
    EXPECT_EQ(started_state.value("status", ""), "created") << output;
    EXPECT_EQ(started_state.value("pid", 0), pid) << output;
    EXPECT_EQ(line_of("start-saw"), "made-by-createContainer") << "startContainer runs inside: " << output;
    EXPECT_EQ(line_of("start-mnt"), init_mnt) << output;
    EXPECT_EQ(line_of("start-host"), "oci") << output;
    const auto hook_at = output.find("start-state: "), program_at = output.find("program-ran");
    EXPECT_TRUE(hook_at != std::string::npos && program_at != std::string::npos && hook_at < program_at)
        << "startContainer runs before process.args: " << output;
    const auto status = wait_for_exit(pid);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "raw wait status " << *status;
}

STEP_TEST(Oci, AFailingCreateContainerFailsCreateAFailingStartContainerFailsStart,
          "a createContainer hook that exits 3, or outlives its timeout, fails create (non-zero, the error last in the "
          "json --log, nothing left); a startContainer hook that exits 4 fails start and the init ends") {
    write_bundle({"sh", "-c", "echo program-ran"});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    const std::string log = tmp_.path() + "/log.json";
    const auto last_log_line = [&] {
        std::ifstream in(log);
        std::string line, last;
        while (std::getline(in, line)) {
            if (!line.empty()) last = line;
        }
        return nlohmann::json::parse(last, nullptr, false);
    };
    const std::vector<std::string> json_log{"--log", log, "--log-format", "json"};

    config["hooks"] = {{"createContainer", {sh_hook("exit 3")}}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    made_.push_back("cc-fails");
    const Ran failed = nsrun({"create", "--bundle", bundle_, "cc-fails"}, -1, -1, -1, json_log);
    EXPECT_NE(failed.status, 0) << failed;
    EXPECT_NE(failed.err.find("hooks.createContainer[0]"), std::string::npos) << failed;
    nlohmann::json entry = last_log_line();
    EXPECT_EQ(entry.value("level", ""), "error") << entry.dump();
    EXPECT_NE(entry.value("msg", "").find("createContainer"), std::string::npos) << entry.dump();
    EXPECT_NE(entry.value("msg", "").find("exit status 3"), std::string::npos) << entry.dump();
    EXPECT_NE(nsrun({"state", "cc-fails"}).status, 0) << "a failed create leaves no container";
    EXPECT_TRUE(cgroup_dirs("cc-fails").empty());

    config["hooks"] = {{"createContainer", {sh_hook("exec sleep 30", 1)}}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    made_.push_back("cc-slow");
    const Ran slow = nsrun({"create", "--bundle", bundle_, "cc-slow"}, -1, -1, -1, json_log);
    EXPECT_NE(slow.status, 0) << slow;
    EXPECT_NE(last_log_line().value("msg", "").find("timed out after 1 s"), std::string::npos) << last_log_line().dump();

    config["hooks"] = {{"startContainer", {sh_hook("exit 4")}}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    Pipe out;
    const pid_t pid = create("sc-fails", out.write);
    ASSERT_GT(pid, 0);
    out.close_write();
    const Ran start = nsrun({"start", "sc-fails"}, -1, -1, -1, json_log);
    EXPECT_NE(start.status, 0) << start;
    EXPECT_NE(start.err.find("hooks.startContainer[0]"), std::string::npos) << start;
    entry = last_log_line();
    EXPECT_NE(entry.value("msg", "").find("startContainer"), std::string::npos) << entry.dump();
    EXPECT_NE(entry.value("msg", "").find("exit status 4"), std::string::npos) << entry.dump();
    const std::string output = read_until_eof(out.read);
    EXPECT_EQ(output.find("program-ran"), std::string::npos) << "process.args must not run: " << output;
    const auto status = wait_for_exit(pid);
    ASSERT_TRUE(status.has_value()) << "the init must end when its startContainer hook failed";
    EXPECT_FALSE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "raw wait status " << *status;
    EXPECT_EQ(state("sc-fails").value("status", ""), "stopped");
}

/// A cgroup hierarchy mounted at /sys/fs/cgroup or right below it (from
/// /proc/self/mountinfo): where, and its filesystem type.
struct MountedHierarchy {
    std::string path;
    std::string fstype; ///< cgroup (v1) or cgroup2
};
std::vector<MountedHierarchy> mounted_cgroup_hierarchies() {
    std::vector<MountedHierarchy> found;
    std::istringstream lines(slurp("/proc/self/mountinfo"));
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string skip, point, word, fstype;
        fields >> skip >> skip >> skip >> skip >> point;
        while (fields >> word && word != "-") {
        }
        fields >> fstype;
        if ((fstype == "cgroup" || fstype == "cgroup2") &&
            (point == "/sys/fs/cgroup" || fs::path(point).parent_path() == "/sys/fs/cgroup")) {
            found.push_back({point, fstype});
        }
    }
    return found;
}

/// The lines of /proc/PID/cgroup ("4:memory:/a/b"), one per hierarchy.
std::vector<std::string> cgroup_lines(pid_t pid) {
    std::vector<std::string> lines;
    std::istringstream text(slurp(fmt::format("/proc/{}/cgroup", pid)));
    for (std::string line; std::getline(text, line);) {
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}


STEP_TEST(Oci, AnInitThatFailsFirstIsTheErrorNotTheRuntimeHookThatFoundItGone,
          "the init makes the bundle's mounts while create runs the createRuntime hooks; when the init fails "
          "there first (a rootfs whose /proc is a symlink), create reports the init's error (json --log too), not "
          "that of a hook that fails because the init it was handed is gone; nothing is left") {
    const std::string root = tmp_.path() + "/rootfs";
    fs::copy(NSRUN_LAB_ROOTFS, root, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::remove_all(root + "/proc");
    fs::create_symlink(tmp_.path(), root + "/proc");
    write_bundle({"true"});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    config["root"]["path"] = root;
    // The hook waits until the init it is handed has ended (a zombie: create
    // has not reaped it yet), then fails as a hook would on a dead pid.
    config["hooks"] = {{"createRuntime",
                        {sh_hook("pid=$(tr , '\\n' | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); "
                                 "test -n \"$pid\" || exit 2; for i in $(seq 500); do "
                                 "grep -q ') Z ' /proc/$pid/stat 2>/dev/null || ! test -e /proc/$pid && exit 1; "
                                 "sleep 0.01; done; exit 0")}}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    const std::string log = tmp_.path() + "/log.json";
    made_.push_back("init-first");
    const Ran failed = nsrun({"create", "--bundle", bundle_, "init-first"}, -1, -1, -1,
                             {"--log", log, "--log-format", "json"});
    EXPECT_NE(failed.status, 0) << failed;
    EXPECT_NE(failed.err.find("/proc is a symlink"), std::string::npos) << "the init's own error" << failed;
    EXPECT_EQ(failed.err.find("createRuntime"), std::string::npos) << "not the hook's" << failed;
    std::ifstream in(log);
    std::string line, last;
    while (std::getline(in, line)) {
        if (!line.empty()) last = line;
    }
    EXPECT_NE(nlohmann::json::parse(last, nullptr, false).value("msg", "").find("/proc is a symlink"),
              std::string::npos)
        << last;
    EXPECT_NE(nsrun({"state", "init-first"}).status, 0) << "a failed create leaves no container";
    EXPECT_TRUE(cgroup_dirs("init-first").empty());
}
STEP_TEST(Oci, AHierarchyHiddenUnderAnotherMountIsNotJoined,
          "a hybrid machine's cgroup2 mount hidden under a tmpfs (what crun's users do on such machines) is listed "
          "in mountinfo but is no cgroup filesystem where it is seen: create+start+delete with a cgroupsPath work "
          "and make nothing there, and the other hierarchies get the cgroup and lose it at delete") {
    const std::string unified = "/sys/fs/cgroup/unified";
    struct statfs fs_info {};
    if (::statfs(unified.c_str(), &fs_info) != 0 || fs_info.f_type != CGROUP2_SUPER_MAGIC) {
        GTEST_SKIP() << "no hybrid cgroup layout here (" << unified << " is not cgroup2)";
    }
    write_bundle({"true"});
    const std::string path = fmt::format("/nsrun-oci-hidden-{}", ::getpid());
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    config["linux"]["cgroupsPath"] = path;
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    const auto hide_unified = [unified] { // in nsrun's own mount namespace only
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", unified.c_str(), "tmpfs", 0, nullptr) != 0) {
            ::_exit(99);
        }
    };
    const std::string pid_file = tmp_.path() + "/hidden.pid";
    made_.push_back("hidden");
    const Ran created = nsrun({"create", "--bundle", bundle_, "--pid-file", pid_file, "hidden"}, -1, -1, -1, {},
                              hide_unified);
    ASSERT_EQ(created.status, 0) << created.command << created.err;
    const pid_t pid = std::stoi(slurp(pid_file));
    for (const auto& line : cgroup_lines(pid)) {
        if (!line.starts_with("0::")) {
            EXPECT_TRUE(line.ends_with(":" + path)) << "the init is elsewhere in this v1 hierarchy: " << line;
        }
    }
    EXPECT_FALSE(fs::exists(unified + path)) << "nothing is made in the hidden hierarchy";
    const Ran started = nsrun({"start", "hidden"});
    EXPECT_EQ(started.status, 0) << started.err;
    const Ran deleted = nsrun({"delete", "--force", "hidden"});
    EXPECT_EQ(deleted.status, 0) << deleted.err;
    for (const auto& h : mounted_cgroup_hierarchies()) {
        EXPECT_FALSE(fs::exists(h.path + path)) << h.path + path << " left behind";
    }
}

STEP_TEST(Oci, CgroupsPathIsTheContainersCgroupInEveryHierarchyAndDeleteRemovesIt,
          "linux.cgroupsPath /P/ctr with memory and pids limits: the init is in /P/ctr in every cgroup hierarchy "
          "(/proc/PID/cgroup: each v1 one — blkio, cpuset, freezer, name=systemd… — and the unified one, as runc "
          "does; on cgroup v2 the one), the limits are in it, a cpuset cgroup has its parent's CPUs; delete removes "
          "/P/ctr and the /P it made everywhere") {
    write_bundle({"sleep", "1000"});
    const std::string parent = fmt::format("/nsrun-oci-test-{}", ::getpid());
    const std::string path = parent + "/ctr";
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    config["linux"]["cgroupsPath"] = path;
    config["linux"]["resources"] = {{"memory", {{"limit", 67108864}}}, {"pids", {{"limit", 64}}}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    const auto hierarchies = mounted_cgroup_hierarchies();
    ASSERT_FALSE(hierarchies.empty()) << "no cgroup filesystem at /sys/fs/cgroup";
    for (const auto& h : hierarchies) {
        ASSERT_FALSE(fs::exists(h.path + parent)) << h.path + parent << " exists before the test";
    }
    Pipe out;
    const pid_t pid = create("placed", out.write);
    ASSERT_GT(pid, 0);
    const auto lines = cgroup_lines(pid);
    EXPECT_GE(lines.size(), hierarchies.size()) << slurp(fmt::format("/proc/{}/cgroup", pid));
    for (const auto& line : lines) {
        EXPECT_TRUE(line.ends_with(":" + path)) << "the init is elsewhere in this hierarchy: " << line;
    }
    std::vector<std::string> dirs;
    for (const auto& h : hierarchies) {
        const std::string dir = h.path + path;
        EXPECT_TRUE(fs::is_directory(dir)) << dir;
        if (fs::exists(dir + "/cpuset.cpus") && h.fstype == "cgroup") {
            EXPECT_EQ(first_line(slurp(dir + "/cpuset.cpus")), first_line(slurp(h.path + "/cpuset.cpus"))) << dir;
            EXPECT_FALSE(first_line(slurp(dir + "/cpuset.mems")).empty()) << dir;
        }
        dirs.push_back(dir);
    }
    EXPECT_TRUE(limits_are(dirs, "67108864", "64")) << "the limits are in no cgroup at " << path;
    ASSERT_EQ(nsrun({"start", "placed"}).status, 0);
    EXPECT_EQ(state("placed").value("status", ""), "running");
    const Ran deleted = nsrun({"delete", "--force", "placed"});
    EXPECT_EQ(deleted.status, 0) << deleted;
    EXPECT_TRUE(wait_for_exit(pid).has_value());
    for (const auto& h : hierarchies) {
        EXPECT_FALSE(fs::exists(h.path + path)) << "left after delete: " << h.path + path;
        EXPECT_FALSE(fs::exists(h.path + parent)) << "nsrun made it, delete leaves it: " << h.path + parent;
    }
}

STEP_TEST(Oci, AnExistingCgroupAtCgroupsPathIsRefusedAndLeftAlone,
          "a cgroup that already exists at linux.cgroupsPath (made here, with a process in it) fails create with "
          "125 naming it; that cgroup and its process are untouched, and no other hierarchy keeps a directory of "
          "the failed create") {
    write_bundle({"true"});
    const std::string parent = fmt::format("/nsrun-oci-taken-{}", ::getpid());
    const auto hierarchies = mounted_cgroup_hierarchies();
    ASSERT_FALSE(hierarchies.empty()) << "no cgroup filesystem at /sys/fs/cgroup";
    // The memory hierarchy (v1) or the unified one: where limits go.
    std::string taken_in = hierarchies.front().path;
    for (const auto& h : hierarchies) {
        if (fs::exists(h.path + "/memory.stat") || fs::path(h.path).filename() == "memory") taken_in = h.path;
    }
    const std::string taken = taken_in + parent;
    ASSERT_TRUE(fs::create_directory(taken)) << taken;
    const pid_t sleeper = ::fork();
    if (sleeper == 0) {
        ::execl("/bin/sleep", "sleep", "30", nullptr);
        ::_exit(127);
    }
    std::ofstream(taken + "/cgroup.procs") << sleeper << std::flush;
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    config["linux"]["cgroupsPath"] = parent;
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    made_.push_back("taken");
    const Ran created = nsrun({"create", "--bundle", bundle_, "taken"});
    EXPECT_EQ(created.status, 125) << created;
    EXPECT_NE(created.err.find(taken + " (linux.cgroupsPath) already exists"), std::string::npos) << created;
    EXPECT_TRUE(fs::is_directory(taken)) << "nsrun removed a cgroup it did not make";
    EXPECT_EQ(::kill(sleeper, 0), 0) << "nsrun killed the process in a cgroup it did not make";
    for (const auto& h : hierarchies) {
        if (h.path != taken_in) {
            EXPECT_FALSE(fs::exists(h.path + parent)) << "left by the failed create: " << h.path + parent;
        }
    }
    ::kill(sleeper, SIGKILL);
    ::waitpid(sleeper, nullptr, 0);
    std::error_code ec;
    for (int i = 0; i < 100 && !fs::remove(taken, ec); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(fs::exists(taken)) << ec.message();
}

STEP_TEST(Oci, BindLeavesTheSourcesSubmountsOutRbindBringsThem,
          "an OCI mount with options [\"bind\"] is MS_BIND without MS_REC: a tmpfs mounted below its source is "
          "not there inside (its mount point is the empty directory); [\"rbind\"] brings it, as runc does") {
    const std::string src = tmp_.path() + "/src";
    fs::create_directories(src + "/sub");
    std::ofstream(src + "/top") << "top\n";
    write_bundle({"sh", "-c",
                  "for m in /mnt /home; do if [ -e $m/top ]; then echo \"top$m=yes\"; else echo \"top$m=no\"; fi; "
                  "if [ -e $m/sub/marker ]; then echo \"sub$m=yes\"; else echo \"sub$m=no\"; fi; done; "
                  "grep -c ' /home/sub ' /proc/self/mountinfo | sed 's/^/mounts=/'"});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    config["mounts"].push_back({{"destination", "/mnt"}, {"type", "bind"}, {"source", src}, {"options", {"bind", "ro"}}});
    config["mounts"].push_back({{"destination", "/home"}, {"type", "bind"}, {"source", src}, {"options", {"rbind", "ro"}}});
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    // The submount lives in a mount namespace of nsrun create's own (made in
    // its forked child): the host's mount table never has it, and it is gone
    // with the last process in that namespace.
    const std::string sub = src + "/sub";
    const auto with_submount = [&sub] {
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("lab-sub", sub.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0) {
            ::_exit(99);
        }
        const std::string marker = sub + "/marker";
        const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) ::_exit(98);
        ::close(fd);
    };
    const auto [output, status] = create_start_and_collect("binds", with_submount);
    ASSERT_TRUE(status.has_value()) << output;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << output;
    EXPECT_EQ(value(output, "top/mnt"), "yes") << "the bind itself is there" << output;
    EXPECT_EQ(value(output, "top/home"), "yes") << output;
    EXPECT_EQ(value(output, "sub/mnt"), "no") << "bind (no rbind) brought the source's submount" << output;
    EXPECT_EQ(value(output, "sub/home"), "yes") << "rbind left the source's submount out" << output;
    EXPECT_EQ(value(output, "mounts"), "1") << output;
    EXPECT_FALSE(fs::exists(sub + "/marker")) << "the test's submount reached the host's mount namespace";
    EXPECT_EQ(nsrun({"delete", "--force", "binds"}).status, 0);
}

STEP_TEST(Oci, AdditionalGidsAndUmaskAreSetAndNarrated,
          "process.user uid 1000 gid 1000 with additionalGids [10, 20] and umask 0027: the program's groups are "
          "exactly 1000 10 20 and its umask 0027; with --explain, setgroups and umask are narrated like every "
          "other kernel call (the call, its arguments, its result)") {
    write_bundle({"sh", "-c", "echo \"groups=$(id -G)\"; echo \"umask=$(umask)\""});
    nlohmann::json config = nlohmann::json::parse(slurp(bundle_ + "/config.json"));
    config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {10, 20}}, {"umask", 027}};
    std::ofstream(bundle_ + "/config.json") << config.dump(2);
    Pipe out;
    const pid_t pid = create("groups", out.write, {"--explain"});
    ASSERT_GT(pid, 0);
    out.close_write();
    const Ran started = nsrun({"start", "groups"});
    EXPECT_EQ(started.status, 0) << started;
    const std::string output = read_until_eof(out.read);
    const auto status = wait_for_exit(pid);
    ASSERT_TRUE(status.has_value()) << output;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << output;
    EXPECT_EQ(value(output, "groups"), "1000 10 20") << output;
    EXPECT_EQ(value(output, "umask"), "0027") << output;
    EXPECT_NE(output.find("setgroups(2, [10, 20]) = 0"), std::string::npos) << output;
    EXPECT_NE(output.find("umask(0027) = 0"), std::string::npos) << "narrated with its result (the previous mask)"
                                                                << output;
    EXPECT_EQ(nsrun({"delete", "groups"}).status, 0);
}

STEP_TEST(Oci, ListShowsTheContainersAndVersionIsRuncLike,
          "list --format json shows each container's id, status and bundle; nsrun --version prints 'nsrun version' "
          "and the spec version") {
    write_bundle({"sleep", "1000"});
    Pipe out;
    const pid_t pid = create("listed", out.write);
    ASSERT_GT(pid, 0);
    const Ran list = nsrun({"list", "--format", "json"});
    ASSERT_EQ(list.status, 0) << list;
    const auto all = nlohmann::json::parse(list.out, nullptr, false);
    ASSERT_TRUE(all.is_array() && all.size() == 1) << list;
    EXPECT_EQ(all[0].value("id", ""), "listed");
    EXPECT_EQ(all[0].value("status", ""), "created");
    EXPECT_EQ(all[0].value("bundle", ""), bundle_);
    const Ran version = nsrun({"--version"});
    EXPECT_EQ(version.status, 0);
    EXPECT_NE(version.out.find("nsrun version"), std::string::npos) << version;
    EXPECT_NE(version.out.find("spec: 1.0"), std::string::npos) << version;
    EXPECT_EQ(nsrun({"delete", "--force", "listed"}).status, 0);
    EXPECT_TRUE(wait_for_exit(pid).has_value());
}

} // namespace
} // namespace lab

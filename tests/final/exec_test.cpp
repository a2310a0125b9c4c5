// nsrun exec: a second process in a running container — in every one of its
// namespaces and in its cgroup, seen from inside (the probe) and from the
// host (/proc/PID/ns, /proc/PID/cgroup).  A stopped, removed or unknown
// container is a clear error with 125.
#include "fixture.hpp"

#include <csignal>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace lab {
namespace {

class Exec : public NsrunTest {
protected:
    /// A running container named `name` whose PID 1 sleeps; its host pid.
    pid_t start_sleeper(const std::string& name, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"--name", name, "--hostname", "inner"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--", "sleep", "1000"});
        detach(args);
        const auto j = inspect(name);
        return j.is_null() ? 0 : j["State"]["Pid"].get<pid_t>();
    }
};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The host pid of the process whose command line is exactly `argv`.
pid_t find_process(const std::vector<std::string>& argv) {
    std::string wanted;
    for (const auto& a : argv) wanted += a + '\0';
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (DIR* proc = ::opendir("/proc")) {
            pid_t found = 0;
            while (const dirent* e = ::readdir(proc)) {
                const pid_t pid = std::atoi(e->d_name);
                if (pid > 0 && read_text("/proc/" + std::to_string(pid) + "/cmdline") == wanted) {
                    found = pid;
                }
            }
            ::closedir(proc);
            if (found) return found;
        }
        std::this_thread::sleep_for(100ms);
    }
    return 0;
}

STEP_TEST(Exec, JoinsEveryNamespaceAndTheCgroupOfTheContainer,
          "exec's process is, as the host sees it, in every namespace, the cgroups and the root directory of the container's PID 1") {
    const pid_t init = start_sleeper("target", {"--network", "bridge"});
    ASSERT_GT(init, 0);
    // A second process, found on the host by its unique command line.
    const std::vector<std::string> marker = {"sleep", "1001"};
    auto exec = start({"exec", "target", "sleep", "1001"});
    const pid_t joined = find_process(marker);
    ASSERT_GT(joined, 0) << exec->out() << exec->err();
    for (const char* ns : {"uts", "pid", "mnt", "net", "ipc", "cgroup", "user"}) {
        EXPECT_EQ(namespace_of(joined, ns), namespace_of(init, ns)) << ns << " namespace";
    }
    EXPECT_NE(namespace_of(joined, "net"), namespace_of(host().pid(), "net"));
    EXPECT_EQ(read_text("/proc/" + std::to_string(joined) + "/cgroup"),
              read_text("/proc/" + std::to_string(init) + "/cgroup"))
        << "the exec'd process is in the container's cgroups";
    EXPECT_TRUE(std::filesystem::equivalent("/proc/" + std::to_string(joined) + "/root/",
                                            "/proc/" + std::to_string(init) + "/root/"))
        << "and has its root directory";
    ::kill(joined, SIGKILL);
    exec->finish();
}

STEP_TEST(Exec, SeesTheContainerFromInside,
          "inside exec, the hostname, PID 1, the pid namespace, eth0's address and the root are the container's") {
    start_sleeper("inside", {"--network", "bridge"});
    const Result host_name = nsrun({"exec", "inside", "lab-probe", "hostname"});
    EXPECT_EQ(value(host_name.out, "hostname"), "inner") << host_name;
    // Its PID 1 is the container's command, and it has a pid of that namespace.
    const Result one = nsrun({"exec", "inside", "cat", "/proc/1/cmdline"});
    EXPECT_EQ(one.out, std::string("sleep\0" "1000\0", 11)) << one;
    const Result pid = nsrun({"exec", "inside", "lab-probe", "pid"});
    EXPECT_GT(std::stoi(value(pid.out, "pid").empty() ? "0" : value(pid.out, "pid")), 1) << pid;
    EXPECT_LT(std::stoi(value(pid.out, "pid").empty() ? "999999" : value(pid.out, "pid")), 100)
        << "a small pid: the container's pid namespace" << pid;
    // The container's network: eth0 with the address inspect reports.
    const Result net = nsrun({"exec", "inside", "lab-probe", "net"});
    const std::string address = probe_address(net.out, "eth0");
    ASSERT_FALSE(address.empty()) << net;
    EXPECT_NE(inspect("inside").dump().find(without_prefix(address)), std::string::npos);
    // Its root is the container's: the lab rootfs's web page is there.
    EXPECT_EQ(nsrun({"exec", "inside", "test", "-d", "/srv/www"}).status, 0);
}

STEP_TEST(Exec, PassesTheStatusEnvironmentWorkdirAndUser,
          "exec returns the command's status (127 when not found) and applies -e, -w and -u") {
    start_sleeper("opts", {"--network", "none"});
    EXPECT_EQ(nsrun({"exec", "opts", "sh", "-c", "exit 5"}).status, 5);
    EXPECT_EQ(nsrun({"exec", "opts", "/no/such/program"}).status, 127);
    const Result env = nsrun({"exec", "-e", "GREETING=hello", "opts", "sh", "-c", "echo greeting=$GREETING"});
    EXPECT_EQ(value(env.out, "greeting"), "hello") << env;
    const Result dir = nsrun({"exec", "-w", "/srv", "opts", "pwd"});
    EXPECT_EQ(first_line(dir.out), "/srv") << dir;
    const Result user = nsrun({"exec", "-u", "1234:4321", "opts", "lab-probe", "ids"});
    EXPECT_EQ(value(user.out, "euid"), "1234") << user;
    EXPECT_EQ(value(user.out, "egid"), "4321") << user;
}

STEP_TEST(Exec, IntoAStoppedContainerIsAClearError,
          "exec into a container that has exited fails with 125 and says it is not running") {
    detach({"--name", "ended", "--network", "none", "--", "true"});
    ASSERT_TRUE(wait_for_status("ended", "exited"));
    const Result r = nsrun({"exec", "ended", "lab-probe", "pid"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("not running"), std::string::npos) << r;
    EXPECT_EQ(value(r.out, "pid"), "") << r;
}

STEP_TEST(Exec, IntoAnUnknownOrRemovedContainerIsAClearError,
          "exec into an unknown or removed container fails with 125 and names it") {
    const Result unknown = nsrun({"exec", "nosuch", "true"});
    EXPECT_EQ(unknown.status, 125) << unknown;
    EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << "the message names the container" << unknown;
    detach({"--name", "removed", "--network", "none", "--", "true"});
    ASSERT_TRUE(wait_for_status("removed", "exited"));
    ASSERT_EQ(nsrun({"rm", "removed"}).status, 0);
    const Result r = nsrun({"exec", "removed", "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("removed"), std::string::npos) << r;
}

} // namespace
} // namespace lab

// --ipc: every container has its own IPC namespace (SysV shared memory,
// message queues, POSIX message queues and its own /dev/mqueue), invisible
// to the host and to other containers; `--ipc container:NAME` shares one;
// `--ipc host` uses the host's.
#include "fixture.hpp"

#include <fstream>
#include <sstream>

namespace lab {
namespace {

class Ipc : public NsrunTest {};

std::string sysvipc_keys(const std::string& kind) {
    std::ifstream in("/proc/sysvipc/" + kind);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool host_has_key(const std::string& key) {
    for (const char* kind : {"shm", "msg"}) {
        std::istringstream lines(sysvipc_keys(kind));
        for (std::string line; std::getline(lines, line);) {
            std::istringstream words(line);
            std::string first;
            words >> first;
            if (first == key) return true;
        }
    }
    return false;
}

STEP_TEST(Ipc, AContainersIpcObjectsAreItsOwn,
          "SysV shared memory, message queues and POSIX queues made in a container are invisible to the host and to another container") {
    const std::string key = std::to_string(0x4e5300 + (::getpid() % 0xff));
    const std::string id = detach({"--name", "owner", "--network", "none", "--rootfs", config().rootfs, "--", "sh", "-c",
                                   "lab-probe ipc-make " + key + " && sleep 1000"});
    ASSERT_TRUE(wait_for_status("owner", "running"));
    Result mine;
    for (int i = 0; i < 100 && value(mine.out, "shm_key").empty(); ++i) {
        mine = nsrun({"exec", "owner", "lab-probe", "ipc-list", key});
    }
    // Inside: the objects exist.
    EXPECT_EQ(value(mine.out, "shm_key"), key) << mine;
    EXPECT_EQ(value(mine.out, "msg_key"), key) << mine;
    EXPECT_EQ(value(mine.out, "mq_exists"), "1") << mine;
    // The host does not see them.
    EXPECT_FALSE(host_has_key(key)) << sysvipc_keys("shm") << sysvipc_keys("msg");
    const pid_t init = inspect("owner")["State"]["Pid"].get<pid_t>();
    EXPECT_NE(namespace_of(init, "ipc"), namespace_of(::getpid(), "ipc"));
    // Another container does not either.
    const Result other = nsrun({"run", "--rm", "--network", "none", "--rootfs", config().rootfs, "--", "lab-probe", "ipc-list", key});
    EXPECT_EQ(other.status, 0) << other;
    EXPECT_EQ(value(other.out, "shm_key"), "") << other;
    EXPECT_EQ(value(other.out, "msg_key"), "") << other;
    EXPECT_EQ(value(other.out, "mq_exists"), "0") << other;
}

STEP_TEST(Ipc, TheContainerHasItsOwnDevMqueue,
          "a container has an mqueue filesystem of its own IPC namespace on /dev/mqueue, listing its queues") {
    const Result r = nsrun({"run", "--rm", "--network", "none", "--rootfs", config().rootfs, "--", "sh", "-c",
                            "lab-probe ipc-make 77 >/dev/null && ls /dev/mqueue && lab-probe mounts"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_NE(r.out.find("lab-77"), std::string::npos) << "its queue is listed in /dev/mqueue" << r;
    bool mounted = false;
    for (const auto& m : values(r.out, "mount")) {
        mounted = mounted || m.starts_with("/dev/mqueue mqueue");
    }
    EXPECT_TRUE(mounted) << r;
}

STEP_TEST(Ipc, ContainerModeSharesTheNamespace,
          "--ipc container:NAME shares the other container's IPC namespace (its objects are visible), and only that namespace") {
    const std::string key = "4242";
    detach({"--name", "first", "--network", "none", "--rootfs", config().rootfs, "--", "sh", "-c", "lab-probe ipc-make " + key + " && sleep 1000"});
    ASSERT_TRUE(wait_for_status("first", "running"));
    Result shared;
    for (int i = 0; i < 50 && value(shared.out, "shm_key").empty(); ++i) {
        shared = nsrun({"run", "--rm", "--network", "none", "--rootfs", config().rootfs, "--ipc", "container:first", "--", "lab-probe", "ipc-list", key});
    }
    EXPECT_EQ(shared.status, 0) << shared;
    EXPECT_EQ(value(shared.out, "shm_key"), key) << shared;
    EXPECT_EQ(value(shared.out, "msg_key"), key) << shared;
    EXPECT_EQ(value(shared.out, "mq_exists"), "1") << shared;
    // The same namespace, seen from the host.
    detach({"--name", "second", "--network", "none", "--rootfs", config().rootfs, "--ipc", "container:first", "--",
                                       "sleep", "1000"});
    const pid_t a = inspect("first")["State"]["Pid"].get<pid_t>();
    const pid_t b = inspect("second")["State"]["Pid"].get<pid_t>();
    EXPECT_EQ(namespace_of(a, "ipc"), namespace_of(b, "ipc"));
    EXPECT_NE(namespace_of(a, "pid"), namespace_of(b, "pid")) << "only IPC is shared";
}

STEP_TEST(Ipc, ContainerModeNeedsARunningContainer,
          "--ipc container:NAME of an unknown or stopped container is refused with 125") {
    const Result unknown = nsrun({"run", "--rm", "--network", "none", "--rootfs", config().rootfs, "--ipc", "container:nosuch", "--", "true"});
    EXPECT_EQ(unknown.status, 125) << unknown;
    EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown;
    ASSERT_EQ(nsrun({"run", "--name", "stopped", "--network", "none", "--rootfs", config().rootfs, "--", "true"}).status, 0);
    const Result stopped = nsrun({"run", "--rm", "--network", "none", "--rootfs", config().rootfs, "--ipc", "container:stopped", "--", "true"});
    EXPECT_EQ(stopped.status, 125) << stopped;
}

STEP_TEST(Ipc, HostModeUsesTheHostsNamespace,
          "--ipc host leaves the container in the host's IPC namespace") {
    const Result r = nsrun({"run", "--rm", "--network", "none", "--rootfs", config().rootfs, "--ipc", "host", "--", "sh", "-c",
                            "readlink /proc/self/ns/ipc"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(first_line(r.out), namespace_of(::getpid(), "ipc")) << r;
}

} // namespace
} // namespace lab

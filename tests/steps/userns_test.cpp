// Step 06 — the user namespace: root inside is an unprivileged uid outside,
// the maps are the ones asked for (and bad ones are refused), and a user who
// is not root gets a working, isolated container (rootless), with what it
// cannot have reported instead of silently dropped.
#include "cgroupfs.hpp"
#include "harness.hpp"

#include <csignal>
#include <filesystem>
#include <iterator>
#include <sstream>
#include <sys/stat.h>

namespace lab {
namespace {

class Userns : public KernelTest {};

/// The unprivileged user the rootless tests run as (nobody).
const std::pair<uid_t, gid_t> nobody{65534, 65534};


/// The first field of a "Uid:"/"Gid:" line of /proc/PID/status (the real id).
std::string real_id(pid_t pid, const std::string& key) {
    std::istringstream fields(proc_status(pid, key));
    std::string first;
    fields >> first;
    return first;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST_F(Userns, RootInsideIsUid100000Outside) {
    Runtime rt({"--userns", "sh", "-c", "lab-probe ids; echo ready; sleep 2"});
    ASSERT_TRUE(rt.wait_for_output("ready")) << rt.err();
    EXPECT_EQ(value(rt.out(), "uid"), "0") << rt.out();
    EXPECT_EQ(value(rt.out(), "euid"), "0") << rt.out();
    EXPECT_EQ(value(rt.out(), "gid"), "0") << rt.out();
    const pid_t init = container_init(rt.pid());
    ASSERT_NE(init, 0) << "no process of the container found";
    EXPECT_EQ(real_id(init, "Uid"), "100000") << "the host must see the container's root as uid 100000";
    EXPECT_EQ(real_id(init, "Gid"), "100000");
    EXPECT_NE(namespace_of(init, "user"), namespace_of(::getpid(), "user"));
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 0) << r;
}

TEST_F(Userns, DefaultMapIsTheSubordinateRange) {
    const Result r = run({"--userns", "lab-probe", "ids"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(values(r.out, "uid_map"), std::vector<std::string>{"0 100000 65536"}) << r;
    EXPECT_EQ(values(r.out, "gid_map"), std::vector<std::string>{"0 100000 65536"}) << r;
}

TEST_F(Userns, MapsAreTheOnesAskedFor) {
    const Result r = run({"--uidmap", "0:200000:1000", "--uidmap", "1000:300000:10", "--gidmap", "0:400000:500",
                          "lab-probe", "ids"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(values(r.out, "uid_map"), (std::vector<std::string>{"0 200000 1000", "1000 300000 10"})) << r;
    EXPECT_EQ(values(r.out, "gid_map"), std::vector<std::string>{"0 400000 500"}) << r;
    EXPECT_EQ(value(r.out, "uid"), "0") << r;
}

TEST_F(Userns, AUidmapAloneAlsoMapsTheGroups) {
    const Result r = run({"--uidmap", "0:200000:1000", "lab-probe", "ids"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(values(r.out, "gid_map"), std::vector<std::string>{"0 200000 1000"}) << r;
}

TEST_F(Userns, HostFilesShowUpAsNobody) {
    // The rootfs belongs to host root, which is not in the map.
    const Result r = run({"--userns", "lab-probe", "stat", "/bin/busybox"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "uid"), "65534") << r;
}

TEST_F(Userns, RootInsideCannotMakeDevices) {
    const Result r = run({"--userns", "sh", "-c", "mknod /tmp/null c 1 3 && echo made || echo refused"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_NE(r.out.find("refused"), std::string::npos) << "mknod must fail in a user namespace" << r;
}

TEST_F(Userns, DevicesAndSysStillWorkInsideAUserNamespace) {
    const Result r = run({"--userns", "sh", "-c",
                          "echo x > /dev/null && head -c 4 /dev/zero | wc -c && lab-probe writable /sys && "
                          "lab-probe stat /dev/null"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.out.find('4'), std::string::npos) << r;
    EXPECT_EQ(value(r.out, "writable"), "0") << "/sys must be read-only" << r;
    EXPECT_EQ(value(r.out, "rdev"), "1:3") << r;
}

TEST_F(Userns, CgroupLimitsStillApplyAsRoot) {
    const Result r = run({"--userns", "--memory", "64m", "lab-probe", "alloc", "128"});
    EXPECT_EQ(r.status, 137) << r;
    EXPECT_NE(r.err.find("out of memory"), std::string::npos) << r;
}

TEST_F(Userns, BadMapsAreRefusedWith125) {
    const std::vector<std::vector<std::string>> bad = {
        {"--uidmap", "0:100000:100", "--uidmap", "50:200000:10"},  // overlap inside
        {"--uidmap", "0:100000:100", "--uidmap", "200:100050:10"}, // overlap outside
        {"--gidmap", "0:100000:100", "--gidmap", "0:300000:1"},
        {"--uidmap", "0:4294967295:2"},                             // past 2^32
        {"--uidmap", "0:1:4294967296"},
        {"--uidmap", "0:100000:0"},                                 // empty
        {"--uidmap", "0:100000"},                                   // malformed
        {"--uidmap", "a:b:c"},
        {"--uidmap", "-1:100000:1"},
        {"--uidmap", "1:100000:10"},                                // root not mapped
    };
    for (const auto& flags : bad) {
        std::vector<std::string> args = flags;
        args.push_back("true");
        const Result r = run(args);
        EXPECT_EQ(r.status, 125) << flags[1] << r;
        EXPECT_NE(r.err.find(flags[0]), std::string::npos) << "the message should name the flag" << r;
    }
}

TEST_F(Userns, ExplainShowsTheParentWritingTheMaps) {
    const Result r = run({"--explain", "--userns", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("CLONE_NEWUSER"), std::string::npos) << r;
    const auto uid_map = r.err.find("[parent] write(\"/proc/");
    ASSERT_NE(uid_map, std::string::npos) << r;
    const auto setgroups = r.err.find("/setgroups\"", uid_map);
    const auto gid_map = r.err.find("/gid_map\"", uid_map);
    EXPECT_NE(setgroups, std::string::npos) << r;
    EXPECT_LT(setgroups, gid_map) << "setgroups must be written before gid_map" << r;
    EXPECT_NE(r.err.find("setresuid(0"), std::string::npos) << r;
}

// --- rootless ---------------------------------------------------------------

TEST_F(Userns, RootlessRunIsIsolatedAndRootInside) {
    const std::string before = host_hostname();
    const Result r = run(Launch{{"--hostname", "rootless", "sh", "-c", "lab-probe hostname; lab-probe ids"}, nobody});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "hostname"), "rootless") << r;
    EXPECT_EQ(value(r.out, "uid"), "0") << r;
    EXPECT_EQ(values(r.out, "uid_map"), std::vector<std::string>{"0 65534 1"}) << r;
    EXPECT_EQ(value(r.out, "setgroups"), "deny") << r;
    EXPECT_EQ(host_hostname(), before);
    const Result pid = run(Launch{{"lab-probe", "pid"}, nobody});
    ASSERT_EQ(pid.status, 0) << pid;
    EXPECT_EQ(value(pid.out, "pid"), "1") << pid;
}

TEST_F(Userns, RootlessHasItsOwnRootfsProcAndDev) {
    const Result r = run(Launch{{"sh", "-c", "lab-probe stat /srv/www/index.html; lab-probe pids; "
                                             "echo x > /dev/null && echo null-ok; lab-probe writable /sys"},
                                nobody});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "exists"), "1") << r;
    EXPECT_LE(values(r.out, "pid").size(), 3u) << "/proc must show only the container's processes" << r;
    EXPECT_NE(r.out.find("null-ok"), std::string::npos) << r;
    EXPECT_EQ(value(r.out, "writable"), "0") << r;
}

TEST_F(Userns, RootlessWarnsOncePerLimitItCannotHonour) {
    const Result r = run(Launch{{"--memory", "64m", "--pids-limit", "10", "--cpus", "0.5", "true"}, nobody});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(count(r.err, "warning: --memory"), 1u) << r;
    EXPECT_EQ(count(r.err, "warning: --pids-limit"), 1u) << r;
    EXPECT_EQ(count(r.err, "warning: --cpus"), 1u) << r;
    EXPECT_EQ(count(r.err, "warning:"), 3u) << r;
}

TEST_F(Userns, RootlessCannotMapOtherIds) {
    const Result r = run(Launch{{"--uidmap", "0:100000:65536", "true"}, nobody});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("--uidmap"), std::string::npos) << r;
}

TEST_F(Userns, RootlessNeedsAReadableRootfs) {
    char dir[] = "/tmp/nsrun-private-rootfs-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    ::chmod(dir, 0700);
    const Result r = run(Launch{{"--rootfs", dir, "true"}, nobody});
    ::rmdir(dir);
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find(dir), std::string::npos) << "the message should name the rootfs" << r;
}

TEST_F(Userns, NothingIsLeftBehind) {
    // As root with a user namespace and a cgroup, ended by SIGTERM ...
    Runtime rt({"--userns", "--pids-limit", "20", "sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 30 & wait"});
    ASSERT_TRUE(rt.wait_for_output("ready")) << rt.err();
    const pid_t init = container_init(rt.pid());
    ASSERT_NE(init, 0);
    const auto dirs = own_cgroup_dirs(init);
    const auto inside = descendants(rt.pid());
    EXPECT_FALSE(dirs.empty());
    rt.signal(SIGTERM);
    const Result r = rt.finish(15s);
    EXPECT_EQ(r.status, 0) << r;
    for (const auto& dir : dirs) EXPECT_FALSE(dir_exists(dir)) << dir << " was left behind";
    for (const pid_t pid : inside) EXPECT_FALSE(process_exists(pid)) << "pid " << pid << " outlived the container";
    // ... and rootless, killed by a signal.
    Runtime rootless(Launch{{"sh", "-c", "echo ready; sleep 30"}, nobody});
    ASSERT_TRUE(rootless.wait_for_output("ready")) << rootless.err();
    const auto rootless_inside = descendants(rootless.pid());
    ASSERT_FALSE(rootless_inside.empty());
    ASSERT_EQ(::kill(container_init(rootless.pid()), SIGKILL), 0);
    const Result rr = rootless.finish(15s);
    EXPECT_EQ(rr.status, 137) << rr;
    for (const pid_t pid : rootless_inside) EXPECT_FALSE(process_exists(pid)) << "pid " << pid;
    EXPECT_EQ(host_mountinfo().find(config().rootfs), std::string::npos) << "the rootfs is still mounted on the host";
}

} // namespace
} // namespace lab

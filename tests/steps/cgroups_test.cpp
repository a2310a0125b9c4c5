// Step 05 — cgroups: the limits are applied (read back from the host's
// cgroupfs), they hold (OOM kill, fork storm, CPU quota), the container sees
// its cgroup as "/", bad values are refused, and the container's cgroup is
// removed on every exit path.  Works on cgroup v1, hybrid and v2 hosts.
#include "cgroupfs.hpp"
#include "harness.hpp"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <iterator>
#include <sstream>

namespace lab {
namespace {

class Cgroups : public KernelTest {};


/// A container that prints "ready" and then waits; SIGTERM or SIGINT ends it.
const std::vector<std::string> waiting_container = {
    "sh", "-c", "trap 'exit 0' TERM INT; echo ready; sleep 30 & wait"};

/// Start `args`, wait for "ready", return the container's cgroup directories.
std::vector<std::string> cgroup_dirs_when_ready(Runtime& rt) {
    EXPECT_TRUE(rt.wait_for_output("ready")) << rt.err();
    const pid_t init = container_init(rt.pid());
    EXPECT_NE(init, 0) << "no process of the container found";
    return init ? own_cgroup_dirs(init) : std::vector<std::string>{};
}

void expect_all_removed(const std::vector<std::string>& dirs, const Result& r) {
    for (const auto& dir : dirs) {
        EXPECT_FALSE(dir_exists(dir)) << "the container's cgroup " << dir << " was left behind" << r;
    }
}

TEST_F(Cgroups, ContainerHasItsOwnCgroupForEachController) {
    Runtime rt({"-m", "64m", "--pids-limit", "50", "--cpus", "1", "sh", "-c", "echo ready; sleep 2"});
    const auto dirs = cgroup_dirs_when_ready(rt);
    const pid_t init = container_init(rt.pid());
    ASSERT_NE(init, 0);
    for (const char* controller : {"memory", "cpu", "pids"}) {
        const std::string dir = cgroup_dir_of(init, controller);
        EXPECT_FALSE(dir.empty()) << controller;
        EXPECT_NE(cgroup_dir_of(::getpid(), controller), dir)
            << "the container shares the test's " << controller << " cgroup";
        EXPECT_TRUE(dir_exists(dir)) << dir;
    }
    EXPECT_FALSE(dirs.empty());
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 0) << r;
}

TEST_F(Cgroups, LimitsAreReadBackFromTheHostSide) {
    Runtime rt({"--memory", "64m", "--cpus", "0.5", "--cpu-weight", "200", "--pids-limit", "42", "sh", "-c",
                "echo ready; sleep 2"});
    ASSERT_TRUE(rt.wait_for_output("ready")) << rt.err();
    const pid_t init = container_init(rt.pid());
    ASSERT_NE(init, 0);
    const std::string memory = cgroup_dir_of(init, "memory");
    const std::string cpu = cgroup_dir_of(init, "cpu");
    const std::string pids = cgroup_dir_of(init, "pids");
    EXPECT_EQ(read_trimmed(pids + "/pids.max"), "42");
    if (dir_exists(memory) && read_trimmed(memory + "/memory.max").empty()) {
        // cgroup v1
        EXPECT_EQ(read_trimmed(memory + "/memory.limit_in_bytes"), "67108864");
        EXPECT_EQ(read_trimmed(cpu + "/cpu.cfs_quota_us"), "50000");
        EXPECT_EQ(read_trimmed(cpu + "/cpu.cfs_period_us"), "100000");
        EXPECT_EQ(read_trimmed(cpu + "/cpu.shares"), "2048") << "weight 200 = shares 200*1024/100";
    } else {
        EXPECT_EQ(read_trimmed(memory + "/memory.max"), "67108864");
        EXPECT_EQ(read_trimmed(cpu + "/cpu.max"), "50000 100000");
        EXPECT_EQ(read_trimmed(cpu + "/cpu.weight"), "200");
    }
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 0) << r;
}

TEST_F(Cgroups, InsideTheCgroupIsTheRoot) {
    const Result r = run({"-m", "64m", "lab-probe", "cgroup"});
    ASSERT_EQ(r.status, 0) << r;
    const auto lines = values(r.out, "cgroup");
    ASSERT_FALSE(lines.empty()) << r;
    for (const auto& line : lines) {
        EXPECT_TRUE(line.ends_with(":/")) << "the cgroup namespace should make the container's cgroup its root: "
                                          << line << r;
    }
}

TEST_F(Cgroups, InsideTheLimitsAreVisibleReadOnly) {
    // The container's own cgroupfs view at /sys/fs/cgroup: its cgroup is the root.
    const Result r = run({"-m", "64m", "--pids-limit", "42", "sh", "-c",
                          "lab-probe limits; lab-probe writable /sys/fs/cgroup"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "pids.max"), "42") << r;
    const std::string v2 = value(r.out, "memory.max");
    EXPECT_EQ(v2.empty() ? value(r.out, "memory.limit_in_bytes") : v2, "67108864") << r;
    EXPECT_EQ(value(r.out, "writable"), "0") << "the limits must not be writable inside" << r;
}

TEST_F(Cgroups, AllocatingTwiceTheLimitIsOomKilled) {
    const Result r = run({"--memory", "64m", "lab-probe", "alloc", "128"});
    EXPECT_EQ(r.status, 137) << r;
    EXPECT_NE(r.err.find("container killed: out of memory (limit 64 MiB)"), std::string::npos) << r;
    EXPECT_EQ(value(r.out, "allocated"), "") << r;
}

TEST_F(Cgroups, AllocatingHalfTheLimitSucceeds) {
    const Result r = run({"--memory", "64m", "lab-probe", "alloc", "32"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "allocated"), "32") << r;
    EXPECT_EQ(r.err.find("out of memory"), std::string::npos) << r;
}

TEST_F(Cgroups, ForkStormStopsAtThePidsLimit) {
    const Result r = run({"--pids-limit", "10", "lab-probe", "fork", "50", "5"});
    ASSERT_EQ(r.status, 0) << r;
    const std::string forked = value(r.out, "forked");
    ASSERT_FALSE(forked.empty()) << r;
    EXPECT_LE(std::stoi(forked), 10) << "more processes than --pids-limit" << r;
    EXPECT_EQ(value(r.out, "failed"), "1") << r;
    EXPECT_EQ(value(r.out, "errno"), "EAGAIN") << r;
}

TEST_F(Cgroups, WithoutALimitTheForksSucceed) {
    const Result r = run({"lab-probe", "fork", "20", "0.5"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "forked"), "20") << r;
}

TEST_F(Cgroups, CpuQuotaSlowsABusyLoop) {
    const Result r = run({"--cpus", "0.2", "lab-probe", "spin", "1"});
    ASSERT_EQ(r.status, 0) << r;
    const std::string cpu_ms = value(r.out, "cpu_ms");
    ASSERT_FALSE(cpu_ms.empty()) << r;
    // 0.2 CPU for 1 s is ~200 ms; the bound is generous for noisy machines.
    EXPECT_LT(std::stoi(cpu_ms), 700) << "a busy loop under --cpus 0.2 used most of a CPU" << r;
}

TEST_F(Cgroups, BadValuesAreRefusedWith125) {
    const std::vector<std::vector<std::string>> bad = {
        {"--memory", "12q"},    {"--memory", "0"},      {"-m", "abc"},
        {"--cpus", "-1"},       {"--cpus", "0"},        {"--cpus", "lots"},
        {"--pids-limit", "0"},  {"--pids-limit", "-5"}, {"--cpu-weight", "20000"},
        {"--cpu-weight", "0"},
    };
    for (const auto& flag : bad) {
        std::vector<std::string> args = flag;
        args.push_back("true");
        const Result r = run(args);
        EXPECT_EQ(r.status, 125) << flag[0] << " " << flag[1] << r;
        const std::string name = flag[0] == "-m" ? "--memory" : flag[0];
        EXPECT_NE(r.err.find(name), std::string::npos) << "the message should name the flag" << r;
    }
}

TEST_F(Cgroups, ExplainNarratesTheCgroup) {
    const Result r = run({"--explain", "-m", "64m", "--pids-limit", "20", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("statfs("), std::string::npos) << r;
    EXPECT_NE(r.err.find("cgroup.procs"), std::string::npos) << r;
    EXPECT_NE(r.err.find("CLONE_NEWCGROUP"), std::string::npos) << r;
    EXPECT_NE(r.err.find("rmdir("), std::string::npos) << r;
}

// --- the cgroup is removed on every exit path ------------------------------

TEST_F(Cgroups, RemovedAfterANormalExit) {
    Runtime rt({"-m", "64m", "sh", "-c", "echo ready; sleep 1; exit 3"});
    const auto dirs = cgroup_dirs_when_ready(rt);
    ASSERT_FALSE(dirs.empty());
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 3) << r;
    expect_all_removed(dirs, r);
}

TEST_F(Cgroups, RemovedWhenTheContainerIsKilledByASignal) {
    Runtime rt({"--pids-limit", "20", "sh", "-c", "echo ready; exec sleep 30"});
    const auto dirs = cgroup_dirs_when_ready(rt);
    ASSERT_FALSE(dirs.empty());
    ASSERT_EQ(::kill(container_init(rt.pid()), SIGKILL), 0);
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 137) << r;
    EXPECT_EQ(r.err.find("out of memory"), std::string::npos) << "a plain SIGKILL is not an OOM kill" << r;
    expect_all_removed(dirs, r);
}

TEST_F(Cgroups, RemovedAfterAnOomKill) {
    Runtime rt({"-m", "64m", "sh", "-c", "echo ready; sleep 0.5; exec lab-probe alloc 256"});
    const auto dirs = cgroup_dirs_when_ready(rt);
    ASSERT_FALSE(dirs.empty());
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 137) << r;
    EXPECT_NE(r.err.find("out of memory"), std::string::npos) << r;
    expect_all_removed(dirs, r);
}

TEST_F(Cgroups, RemovedWhenTheRuntimeGetsSigterm) {
    Runtime rt(waiting_container);
    const auto dirs = cgroup_dirs_when_ready(rt);
    ASSERT_FALSE(dirs.empty());
    rt.signal(SIGTERM);
    const Result r = rt.finish(15s);
    EXPECT_FALSE(r.timed_out) << r;
    expect_all_removed(dirs, r);
}

TEST_F(Cgroups, RemovedWhenTheRuntimeGetsSigint) {
    Runtime rt(waiting_container);
    const auto dirs = cgroup_dirs_when_ready(rt);
    ASSERT_FALSE(dirs.empty());
    rt.signal(SIGINT);
    const Result r = rt.finish(15s);
    EXPECT_FALSE(r.timed_out) << r;
    expect_all_removed(dirs, r);
}

TEST_F(Cgroups, ACgroupLeftByAKilledRuntimeIsCollectedByTheNextRun) {
    // SIGKILL to the runtime itself: nothing can clean up in-process (the
    // container dies with it, PR_SET_PDEATHSIG), and its cgroup stays ...
    std::vector<std::string> dirs;
    {
        Runtime rt({"sh", "-c", "echo ready; exec sleep 30"});
        dirs = cgroup_dirs_when_ready(rt);
        ASSERT_FALSE(dirs.empty());
        const auto inside = descendants(rt.pid());
        rt.signal(SIGKILL);
        rt.finish();
        for (int i = 0; i < 100 && std::any_of(inside.begin(), inside.end(), process_exists); ++i) {
            std::this_thread::sleep_for(50ms);
        }
    }
    // ... until a later run finds it empty and older than any setup takes
    // (a minute; the test ages it instead of waiting).
    for (const auto& dir : dirs) {
        if (!dir_exists(dir)) continue;
        const timespec old[2] = {{::time(nullptr) - 120, 0}, {::time(nullptr) - 120, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, dir.c_str(), old, 0), 0) << dir;
    }
    const Result r = run({"true"});
    EXPECT_EQ(r.status, 0) << r;
    expect_all_removed(dirs, r);
}

TEST_F(Cgroups, RemovedWhenTheCommandCannotStart) {
    // The cgroup exists before the exec fails: --explain names it.
    const Result r = run({"--explain", "-m", "64m", unique("no-such-command")});
    EXPECT_EQ(r.status, 127) << r;
    const auto at = r.err.find("nsrun/");
    ASSERT_NE(at, std::string::npos) << "--explain should name the container's cgroup" << r;
    const std::string id = r.err.substr(at + 6, r.err.find_first_of(" )\"\n", at + 6) - at - 6);
    ASSERT_FALSE(id.empty()) << r;
    EXPECT_TRUE(cgroup_dirs_named(id).empty()) << "cgroup " << id << " was left behind" << r;
}

} // namespace
} // namespace lab
